//! `gov graph`: stats of inventories, the neighbourhood of one entity, and
//! synthetic inventories.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use gov::graph::inspect::{self, Neighbourhood};
use gov::graph::{Graph, NodeId};
use gov::ingest::generate::{self, GenOptions};
use gov::time::Timestamp;

use super::output::Exit;
use super::{io_fail, load, render_one};

/// Arguments of `gov graph`.
#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    #[command(subcommand)]
    pub command: GraphCommand,
}

/// The `gov graph` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum GraphCommand {
    /// Counts by kind, edges by kind, orphans.
    Stats(StatsArgs),
    /// The neighbourhood of one entity, for debugging.
    Show(ShowArgs),
    /// Write a deterministic synthetic inventory.
    Generate(GenerateArgs),
}

/// Arguments of `gov graph stats`.
#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// Inventory files or directories.
    #[arg(required = true, value_name = "INVENTORY")]
    pub inventories: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,
    /// Load the valid part of invalid inventories.
    #[arg(long)]
    pub lenient: bool,
}

/// Output formats of `gov graph stats`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsFormat {
    /// A table for people.
    Text,
    /// JSON for tools.
    Json,
}

/// Arguments of `gov graph show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The entity's id.
    pub id: String,
    /// Inventory files or directories.
    #[arg(required = true, value_name = "INVENTORY")]
    pub inventories: Vec<PathBuf>,
    /// How many hops to follow, in both directions.
    #[arg(long, default_value_t = 1)]
    pub depth: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    /// At most this many nodes.
    #[arg(long, default_value_t = 500)]
    pub limit: usize,
    /// Load the valid part of invalid inventories.
    #[arg(long)]
    pub lenient: bool,
}

/// Output formats of `gov graph show`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    /// Indented text.
    Text,
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
    /// JSON for tools.
    Json,
}

/// Arguments of `gov graph generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Number of identities (people and non-human identities).
    #[arg(long, default_value_t = 1000)]
    pub identities: u64,
    /// Seed; the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The date ages are counted back from.
    #[arg(long, default_value = "2026-11-01")]
    pub now: String,
    /// Output file (`-` for standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Runs `gov graph`.
pub fn run(args: &GraphArgs) -> ExitCode {
    match &args.command {
        GraphCommand::Stats(a) => stats(a),
        GraphCommand::Show(a) => show(a),
        GraphCommand::Generate(a) => generate_cmd(a),
    }
}

fn stats(a: &StatsArgs) -> ExitCode {
    let loaded = match load(&a.inventories, a.lenient) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let st = inspect::stats(&loaded.graph);
    match a.format {
        StatsFormat::Json => println!("{}", serde_json::to_string_pretty(&st).unwrap_or_default()),
        StatsFormat::Text => {
            let mut out = String::new();
            let _ = writeln!(out, "nodes  {:>10}", st.nodes);
            for (k, n) in &st.nodes_by_kind {
                let _ = writeln!(out, "  {k:<18}{n:>10}");
            }
            let _ = writeln!(out, "edges  {:>10}", st.edges);
            for (k, n) in st.edges_by_kind.iter().filter(|(_, n)| **n > 0) {
                let _ = writeln!(out, "  {k:<18}{n:>10}");
            }
            let _ = writeln!(out, "orphans");
            let _ = writeln!(
                out,
                "  {:<40}{:>10}",
                "non-human identities without owner", st.unowned_identities
            );
            let _ =
                writeln!(out, "  {:<40}{:>10}", "credentials nobody holds", st.unheld_credentials);
            let _ = writeln!(out, "  {:<40}{:>10}", "nodes without any edge", st.isolated);
            print!("{out}");
        }
    }
    ExitCode::SUCCESS
}

fn show(a: &ShowArgs) -> ExitCode {
    let loaded = match load(&a.inventories, a.lenient) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let g = &loaded.graph;
    let Some(start) = g.lookup(&a.id) else {
        let ids = (0..g.node_count().min(200_000) as u32).map(|i| g.id(NodeId(i)));
        let mut d =
            gov::Diag::error(gov::Code::CliNotFound, format!("no node has the id `{}`", a.id));
        if let Some(h) = gov::diag::did_you_mean(&a.id, ids) {
            d = d.help(format!("did you mean `{h}`?"));
        }
        render_one(&d);
        return Exit::InvalidInventory.into();
    };
    let nb = inspect::neighbourhood(g, start, a.depth, a.limit);
    let text = match a.format {
        ShowFormat::Text => text(g, &nb),
        ShowFormat::Dot => dot(g, &nb),
        ShowFormat::Mermaid => mermaid(g, &nb),
        ShowFormat::Json => serde_json::to_string_pretty(&json(g, &nb)).unwrap_or_default() + "\n",
    };
    print!("{text}");
    if nb.truncated {
        eprintln!("note: stopped at {} nodes; raise --limit to see more", a.limit);
    }
    ExitCode::SUCCESS
}

fn attrs(g: &Graph, n: NodeId) -> Vec<(String, String)> {
    let s = g.schema();
    s.kind_def(g.kind(n))
        .map(|def| {
            def.attrs()
                .filter_map(|(a, d)| {
                    let v = g.attr(n, a);
                    (!v.is_missing()).then(|| (d.name.clone(), v.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text(g: &Graph, nb: &Neighbourhood) -> String {
    let s = g.schema();
    let mut out = String::new();
    for (n, d) in &nb.nodes {
        let _ =
            writeln!(out, "{}{} ({})", "  ".repeat(*d as usize), g.id(*n), s.kind_name(g.kind(*n)));
        for (k, v) in attrs(g, *n) {
            let _ = writeln!(out, "{}    {k} = {v}", "  ".repeat(*d as usize));
        }
        if let Some(p) = g.provenance(*n) {
            let file = g.files().get(p.file as usize).map_or("", String::as_str);
            let _ = writeln!(
                out,
                "{}    from {file}:{} (record {})",
                "  ".repeat(*d as usize),
                p.line,
                p.record
            );
        }
    }
    let _ = writeln!(out, "edges");
    for e in &nb.edges {
        if let Some((a, k, b)) = g.edge(*e) {
            let label = g.edge_label(*e).map(|l| format!("  ({l})")).unwrap_or_default();
            let _ = writeln!(out, "  {} -[{}]-> {}{label}", g.id(a), s.edge_name(k), g.id(b));
        }
    }
    out
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn dot(g: &Graph, nb: &Neighbourhood) -> String {
    let s = g.schema();
    let mut out = String::from("digraph neighbourhood {\n  rankdir=LR;\n  node [shape=box];\n");
    for (n, d) in &nb.nodes {
        let label = format!("{}\n{}", g.id(*n), s.kind_name(g.kind(*n)));
        let style = if *d == 0 { ", style=bold" } else { "" };
        let _ = writeln!(out, "  n{} [label={}{style}];", n.0, quote(&label));
    }
    for e in &nb.edges {
        if let Some((a, k, b)) = g.edge(*e) {
            let _ = writeln!(out, "  n{} -> n{} [label={}];", a.0, b.0, quote(s.edge_name(k)));
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(g: &Graph, nb: &Neighbourhood) -> String {
    let s = g.schema();
    let mut out = String::from("flowchart LR\n");
    for (n, _) in &nb.nodes {
        let label = format!("{}<br/>{}", g.id(*n), s.kind_name(g.kind(*n))).replace('"', "#quot;");
        let _ = writeln!(out, "  n{}[\"{label}\"]", n.0);
    }
    for e in &nb.edges {
        if let Some((a, k, b)) = g.edge(*e) {
            let _ = writeln!(out, "  n{} -->|{}| n{}", a.0, s.edge_name(k), b.0);
        }
    }
    out
}

fn json(g: &Graph, nb: &Neighbourhood) -> serde_json::Value {
    let s = g.schema();
    let nodes: Vec<serde_json::Value> = nb
        .nodes
        .iter()
        .map(|(n, d)| {
            let attrs: serde_json::Map<String, serde_json::Value> = attrs(g, *n)
                .into_iter()
                .map(|(k, v)| (k, serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v))))
                .collect();
            let p = g.provenance(*n).copied().unwrap_or_default();
            serde_json::json!({
                "id": g.id(*n),
                "kind": s.kind_name(g.kind(*n)),
                "depth": d,
                "attrs": attrs,
                "provenance": {
                    "file": g.files().get(p.file as usize),
                    "record": p.record,
                    "line": p.line,
                },
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = nb
        .edges
        .iter()
        .filter_map(|e| {
            let (a, k, b) = g.edge(*e)?;
            Some(serde_json::json!({
                "from": g.id(a), "to": g.id(b), "kind": s.edge_name(k), "label": g.edge_label(*e),
            }))
        })
        .collect();
    serde_json::json!({ "nodes": nodes, "edges": edges, "truncated": nb.truncated })
}

fn generate_cmd(a: &GenerateArgs) -> ExitCode {
    let now = match Timestamp::parse(&a.now) {
        Ok(t) => t,
        Err(e) => {
            render_one(
                &gov::Diag::error(gov::Code::CliUsage, format!("invalid --now `{}`: {e}", a.now))
                    .help("write a date (2026-11-22) or an RFC 3339 timestamp"),
            );
            return Exit::Usage.into();
        }
    };
    let opts = GenOptions { identities: a.identities, seed: a.seed, now };
    let result = if a.output.as_os_str() == "-" {
        generate::generate(&opts, std::io::stdout().lock())
    } else {
        std::fs::File::create(&a.output).and_then(|f| generate::generate(&opts, f))
    };
    match result {
        Ok(st) => {
            eprintln!(
                "wrote {} nodes and {} edges to `{}`",
                st.nodes,
                st.edges,
                a.output.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => io_fail(&gov::Diag::error(
            gov::Code::Io,
            format!("cannot write `{}`: {e}", a.output.display()),
        )),
    }
}
