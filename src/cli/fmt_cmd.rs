//! `gov fmt`: canonical formatting.

use std::path::PathBuf;

use super::output::{Exit, Output};

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Policy files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(_args: &FmtArgs, _out: &Output) -> Exit {
    Exit::Ok
}
