//! The policy commands' side of the one loader ([`gov::load`]): its
//! arguments, its failures printed and turned into exit codes.

use std::path::PathBuf;

use gov::check::Compiled;
use gov::graph::{Graph, Mode};
use gov::load::{Failure, Sources, Stage};
use gov::syntax::Parsed;
use gov::time::Timestamp;

use super::output::{Exit, Output};

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

/// How far the paths of one rule may walk, for the commands that audit.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct WalkLimitArgs {
    /// Nodes the paths of one rule may visit for one entity before the rule
    /// ends in a `gov::eval::walk_limit` error finding.
    #[arg(long, value_name = "N", default_value_t = gov::eval::engine::DEFAULT_WALK_LIMIT,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub walk_limit: u64,
}

impl InventoryArgs {
    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }
}

/// The exit code of a failed load stage.
pub(crate) fn exit_of(stage: Stage) -> Exit {
    match stage {
        Stage::Usage => Exit::Usage,
        Stage::Io => Exit::Io,
        Stage::Policy => Exit::InvalidPolicy,
        Stage::Inventory => Exit::InvalidInventory,
    }
}

/// Prints a failed load's diagnostics; its exit code.
fn failed(f: Failure, out: &Output) -> Exit {
    out.diagnostics(&f.diagnostics);
    exit_of(f.stage)
}

/// Reads and parses every policy file ([`gov::load::policies`]); prints
/// diagnostics and fails on any error.
pub fn parse_policies(paths: &[PathBuf], out: &Output) -> Result<Vec<Parsed>, Exit> {
    gov::load::policies(paths).map_err(|f| failed(f, out))
}

/// Loads the inventories into one graph ([`gov::load::graph`]); `None`
/// without inventories (commands then use the built-in schema).
pub fn load_graph(args: &InventoryArgs, out: &Output) -> Result<Option<Graph>, Exit> {
    let sources = Sources {
        inventories: args.inventory.clone(),
        mapping: args.mapping.clone(),
        ..Sources::default()
    };
    let mode = if args.lenient { Mode::Lenient } else { Mode::Strict };
    match gov::load::graph(&sources, mode) {
        Ok(Some(g)) => {
            if !g.loaded.diagnostics.is_empty() {
                out.diagnostics(&g.loaded.diagnostics);
            }
            Ok(Some(g.loaded.graph))
        }
        Ok(None) => Ok(None),
        Err(f) => Err(failed(f, out)),
    }
}

/// Compiles policies against the graph's schema (or the built-in one).
pub fn compile(
    parsed: &[Parsed],
    graph: Option<&Graph>,
    now: Timestamp,
    out: &Output,
) -> Result<Compiled, Exit> {
    gov::load::compile(parsed, graph, now).map_err(|f| failed(f, out))
}
