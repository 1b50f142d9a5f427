//! `gov parse`: the syntax tree as JSON, for tooling.

use std::path::PathBuf;

use super::output::{Exit, Output, policy_files};

#[derive(clap::Args, Debug)]
pub struct ParseArgs {
    /// Policy files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the AST as JSON (one object per file: `{"file", "module", "comments"}`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ParseArgs, out: &Output) -> Exit {
    let files = match policy_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            return out.io_error(
                &args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                &e,
            );
        }
    };
    let mut exit = Exit::Ok;
    for path in files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                exit = out.io_error(&name, &e);
                continue;
            }
        };
        match gov::syntax::parse_bytes(&name, &bytes) {
            Ok(parsed) => {
                if args.json {
                    let v = serde_json::json!({
                        "file": name,
                        "module": parsed.module,
                        "comments": parsed.comments,
                    });
                    println!("{v}");
                } else {
                    println!("{name}: ok, {} items", parsed.module.items.len());
                }
            }
            Err(diags) => {
                out.diagnostics(&diags);
                if exit == Exit::Ok {
                    exit = Exit::InvalidPolicy;
                }
            }
        }
    }
    exit
}
