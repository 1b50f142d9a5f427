//! Loading shared by `check`, `eval` and `explain`: policy files, inventories,
//! the evaluation time, compilation.

use std::path::PathBuf;

use gov::check::{Compiled, Options};
use gov::graph::{Graph, Mode, Schema};
use gov::ingest::LoadOptions;
use gov::syntax::Parsed;
use gov::time::Timestamp;
use gov::{Code, Diag, Diagnostics};

use super::output::{Exit, Output, policy_files};

/// Options every policy command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct InventoryArgs {
    /// Inventory files or directories (native JSON/YAML or a real format, detected from content).
    #[arg(long = "inventory", short = 'i', value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// Load the valid part of a broken inventory and report the rest as warnings.
    #[arg(long)]
    pub lenient: bool,
    /// A YAML mapping file: how your tags, labels and properties name owner,
    /// steward, service and tier (see docs/inventory.md).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Evaluation time (RFC 3339 or YYYY-MM-DD); default: the system clock.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).map_err(|e| format!("`{s}`: {e}"))
}

impl InventoryArgs {
    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }
}

/// Reads and parses every policy file; prints diagnostics and fails on any error.
pub fn parse_policies(paths: &[PathBuf], out: &Output) -> Result<Vec<Parsed>, Exit> {
    let files = policy_files(paths).map_err(|e| {
        let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        out.io_error(&shown, &e)
    })?;
    if files.is_empty() {
        out.diagnostics(
            &Diag::error(Code::Io, "no `.gov` files found")
                .help("pass policy files or directories that contain `*.gov` files")
                .into(),
        );
        return Err(Exit::Usage);
    }
    let mut parsed = Vec::new();
    let mut diags = Diagnostics::new();
    let mut io_failed = false;
    for path in files {
        let name = path.display().to_string();
        match gov::ingest::read_bytes(&path) {
            Ok(bytes) => match gov::syntax::parse_bytes(&name, &bytes) {
                Ok(p) => parsed.push(p),
                Err(d) => diags.extend(d),
            },
            Err(e) => {
                out.diagnostics(&e.0.into());
                io_failed = true;
            }
        }
    }
    if diags.has_errors() {
        out.diagnostics(&diags);
        return Err(Exit::InvalidPolicy);
    }
    if io_failed {
        return Err(Exit::Io);
    }
    Ok(parsed)
}

/// Loads the inventories into one graph (the built-in schema when none is given).
pub fn load_graph(args: &InventoryArgs, out: &Output) -> Result<Option<Graph>, Exit> {
    if args.inventory.is_empty() {
        return Ok(None);
    }
    let mut opts = LoadOptions {
        mode: if args.lenient { Mode::Lenient } else { Mode::Strict },
        ..LoadOptions::default()
    };
    if let Some(path) = &args.mapping {
        let src = gov::ingest::read_inventory(path).map_err(|e| {
            let exit = io_exit(&e.0);
            out.diagnostics(&e.0.into());
            exit
        })?;
        opts.mapping = gov::ingest::Mapping::parse(&src).map_err(|d| {
            out.diagnostics(&d.into());
            Exit::InvalidInventory
        })?;
    }
    match gov::ingest::load_paths(&args.inventory, &opts) {
        Ok(loaded) => {
            if !loaded.diagnostics.is_empty() {
                out.diagnostics(&loaded.diagnostics);
            }
            Ok(Some(loaded.graph))
        }
        Err(Ok(diags)) => {
            out.diagnostics(&diags);
            Err(Exit::InvalidInventory)
        }
        Err(Err(io)) => {
            let exit = io_exit(&io.0);
            out.diagnostics(&io.0.into());
            Err(exit)
        }
    }
}

/// Exit 5 for a file that could not be read, 4 for one that is not an inventory's text.
fn io_exit(d: &Diag) -> Exit {
    if d.code == Code::IngestInvalidUtf8 { Exit::InvalidInventory } else { Exit::Io }
}

/// Compiles policies against the graph's schema (or the built-in one).
pub fn compile(
    parsed: &[Parsed],
    graph: Option<&Graph>,
    now: Timestamp,
    out: &Output,
) -> Result<Compiled, Exit> {
    let builtin;
    let schema = match graph {
        Some(g) => g.schema(),
        None => {
            builtin = Schema::builtin();
            &builtin
        }
    };
    match gov::check::compile(parsed, schema, &Options { now }) {
        Ok(c) => Ok(c),
        Err(d) => {
            out.diagnostics(&d);
            Err(Exit::InvalidPolicy)
        }
    }
}
