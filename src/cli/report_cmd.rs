//! `gov report`: the self-contained HTML posture report.

use std::path::PathBuf;

use gov::eval::AuditOptions;

use super::output::{Exit, Output};
use super::policy::{InventoryArgs, WalkLimitArgs, compile, load_graph, parse_policies};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Policy files or directories.
    #[arg(required = true, value_name = "POLICIES")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub walk: WalkLimitArgs,
    /// Record this run in a finding history directory and show the trends
    /// over the runs recorded there.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Findings shown per business service; the rest are counted (the JSON
    /// report lists them all).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_findings: usize,
    /// Findings shown in the whole report: past it, every service shows
    /// the same number of its most urgent findings, so that the file stays
    /// small enough for a browser at any size of estate.
    #[arg(long, value_name = "N", default_value_t = 15_000)]
    pub max_findings_total: usize,
    /// The report's title.
    #[arg(long, default_value = "Governance posture")]
    pub title: String,
}

pub fn run(args: &ReportArgs, out: &Output) -> Exit {
    let run = || -> Result<Exit, Exit> {
        if args.inventory.inventory.is_empty() {
            return Err(super::output::usage(
                out,
                "`gov report` needs `--inventory PATH` (a file or a directory)",
                "name the inventory export(s) to report on",
            ));
        }
        let parsed = parse_policies(&args.paths, out)?;
        let Some(graph) = load_graph(&args.inventory, out)? else { return Err(Exit::Usage) };
        let now = args.inventory.now();
        let compiled = compile(&parsed, Some(&graph), now, out)?;
        if !compiled.warnings.is_empty() {
            out.diagnostics(&compiled.warnings);
        }
        let options = AuditOptions {
            now: Some(now),
            walk_limit: Some(args.walk.walk_limit),
            ..AuditOptions::default()
        };
        let p = super::posture::build(
            &compiled.program,
            &graph,
            &options,
            args.history.as_deref(),
            out,
        )?;
        let opts = gov::report::html::Options {
            max_findings_per_service: args.max_findings,
            max_findings: args.max_findings_total,
            title: args.title.clone(),
        };
        let html = gov::report::html::render(&p.audit, &p.metrics, &p.timeline, &opts);
        let mut body = |w: &mut dyn std::io::Write| w.write_all(html.as_bytes());
        super::output::write_result(out, args.output.as_deref(), &mut body)?;
        if let Some(path) = &args.output {
            eprintln!(
                "wrote {} ({} services, {} open findings, {} recorded run{})",
                path.display(),
                p.metrics.services.iter().filter(|s| s.id.is_some()).count(),
                p.metrics.totals.open,
                p.metrics.history.runs.len(),
                if p.metrics.history.runs.len() == 1 { "" } else { "s" }
            );
        }
        Ok(Exit::Ok)
    };
    run().unwrap_or_else(|e| e)
}
