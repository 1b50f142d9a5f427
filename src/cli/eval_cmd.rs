//! `gov check` (compile only) and `gov eval` (audit an inventory).

use std::path::PathBuf;

use clap::ValueEnum;
use gov::domain::Enforcement;
use gov::eval::{AuditOptions, audit};

use super::output::{Exit, Output};
use super::policy::{InventoryArgs, WalkLimitArgs, compile, load_graph, parse_policies};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Policy files or directories.
    #[arg(required = true, value_name = "POLICIES")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Treat warnings as errors (exit 3).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print the compiled program (`ir`) for debugging.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Emit {
    /// The lowered, typed program.
    Ir,
}

pub fn check(args: &CheckArgs, out: &Output) -> Exit {
    let run = || -> Result<Exit, Exit> {
        let parsed = parse_policies(&args.paths, out)?;
        let graph = load_graph(&args.inventory, out)?;
        let compiled = compile(&parsed, graph.as_ref(), args.inventory.now(), out)?;
        if !compiled.warnings.is_empty() {
            out.diagnostics(&compiled.warnings);
        }
        if let Some(Emit::Ir) = args.emit {
            print!("{}", compiled.program.dump());
        }
        if args.deny_warnings && !compiled.warnings.is_empty() {
            return Ok(Exit::InvalidPolicy);
        }
        let p = &compiled.program;
        eprintln!(
            "ok: {} rule{}, {} exception{}{}{}",
            p.rules.len(),
            if p.rules.len() == 1 { "" } else { "s" },
            p.exceptions.len(),
            if p.exceptions.len() == 1 { "" } else { "s" },
            match p.decisions.len() {
                0 => String::new(),
                1 => ", 1 decision".to_owned(),
                n => format!(", {n} decisions"),
            },
            if p.priority.is_some() { ", priority by tier" } else { "" }
        );
        Ok(Exit::Ok)
    };
    run().unwrap_or_else(|e| e)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by priority and service, for people (plain text).
    Human,
    /// Same as human (no colour, stable for logs).
    Plain,
    /// `gov.findings/v1` JSON.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML: one test case per rule.
    Junit,
    /// A summary for a pull-request comment.
    Markdown,
    /// `gov.metrics/v1` JSON: posture per business service, tier and control.
    MetricsJson,
    /// OpenMetrics (Prometheus) text: gauges per business service.
    Openmetrics,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any open finding fails the run.
    Advisory,
    /// Soft and hard findings fail the run.
    Soft,
    /// Only hard findings fail the run (the default).
    Hard,
    /// Never fail on findings.
    Never,
}

#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Policy files or directories (default: those `gov.toml` names).
    #[arg(value_name = "POLICIES")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to a file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when an open finding is at or above this enforcement level.
    #[arg(long, value_enum, default_value_t = FailOn::Hard)]
    pub fail_on: FailOn,
    /// Only these rules (repeatable).
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Only this entity.
    #[arg(long, value_name = "ID")]
    pub entity: Option<String>,
    #[command(flatten)]
    pub walk: WalkLimitArgs,
    /// A previous report (`gov.findings/v1` JSON or SARIF): each SARIF result
    /// gets its `baselineState` (`new`, `unchanged`, `updated`, `absent`).
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    /// Record this run in a finding history directory (created if missing);
    /// due dates then run from when each finding was first seen.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
}

pub fn eval(args: &EvalArgs, out: &Output) -> Exit {
    let run = || -> Result<Exit, Exit> {
        if args.inventory.inventory.is_empty() {
            return Err(super::output::usage(
                out,
                "`gov eval` needs `--inventory PATH` (a file or a directory)",
                "name the inventory export(s) to evaluate, or put them in gov.toml's `inventories`",
            ));
        }
        if args.baseline.is_some() && args.format != Format::Sarif {
            return Err(super::output::usage(
                out,
                "`--baseline` needs `--format sarif`",
                "baseline states are a SARIF feature; add `--format sarif`",
            ));
        }
        let baseline =
            args.baseline.as_deref().map(|p| super::sarif_out::baseline(p, out)).transpose()?;
        let parsed = parse_policies(&args.paths, out)?;
        let Some(graph) = load_graph(&args.inventory, out)? else { return Err(Exit::Usage) };
        let now = args.inventory.now();
        let compiled = compile(&parsed, Some(&graph), now, out)?;
        if !compiled.warnings.is_empty() {
            out.diagnostics(&compiled.warnings);
        }
        let program = &compiled.program;
        for r in &args.rules {
            if program.rule_index(r).is_none() {
                let names = program.rules.iter().map(|r| &*r.id);
                return Err(super::output::not_found(out, "rule", r, names));
            }
        }
        if let Some(e) = &args.entity
            && graph.lookup(e).is_none()
        {
            return Err(super::output::not_found(out, "entity", e, std::iter::empty()));
        }
        let options = AuditOptions {
            now: Some(now),
            rules: args.rules.clone(),
            entity: args.entity.clone(),
            walk_limit: Some(args.walk.walk_limit),
        };
        let posture_needed = args.history.is_some()
            || matches!(args.format, Format::MetricsJson | Format::Openmetrics | Format::Markdown);
        let (result, posture) = if posture_needed {
            let p = super::posture::build(program, &graph, &options, args.history.as_deref(), out)?;
            (p.audit, Some((p.metrics, p.timeline, p.previous_runs)))
        } else {
            (audit(program, &graph, &options), None)
        };
        let text = match args.format {
            Format::Human | Format::Plain => gov::report::human::render(&result),
            // Streamed: at a million identities the text is gigabytes.
            Format::Json => String::new(),
            Format::Sarif => super::sarif_out::render(&result, baseline.as_ref()),
            Format::Junit => gov::report::junit::render(&result),
            Format::Markdown => {
                let mut md = gov::report::markdown::render(
                    &result,
                    &gov::report::markdown::Options::default(),
                );
                if let Some((metrics, timeline, previous)) = &posture {
                    gov::report::scorecard::append(
                        &mut md,
                        &result,
                        metrics,
                        timeline,
                        *previous > 0,
                    );
                }
                md
            }
            Format::MetricsJson | Format::Openmetrics => match &posture {
                Some((m, _, _)) if args.format == Format::Openmetrics => {
                    gov::metrics::openmetrics::render(m)
                }
                Some((m, _, _)) => serde_json::to_string_pretty(m).unwrap_or_default() + "\n",
                None => String::new(),
            },
        };
        let mut body = |w: &mut dyn std::io::Write| match args.format {
            Format::Json => gov::report::json::write(&result, w),
            _ => w.write_all(text.as_bytes()),
        };
        super::output::write_result(out, args.output.as_deref(), &mut body)?;
        let threshold = match args.fail_on {
            FailOn::Advisory => Some(Enforcement::Advisory),
            FailOn::Soft => Some(Enforcement::Soft),
            FailOn::Hard => Some(Enforcement::Hard),
            FailOn::Never => None,
        };
        let worst = result.worst_open_enforcement();
        Ok(match (threshold, worst) {
            (Some(t), Some(w)) if w >= t => Exit::Violations,
            _ => Exit::Ok,
        })
    };
    run().unwrap_or_else(|e| e)
}
