//! `gov diff`: what a policy change does to the findings on a real inventory
//! (`--base REF --head REF -i INV`), optionally to recorded decisions
//! (`--decision-log FILE`), and what changed between two saved reports
//! (`--before OLD.json --after NEW.json`). Loads, compiles and evaluates
//! through the same paths as `gov eval`; the comparison is the library's
//! [`gov::diff`].

use std::path::PathBuf;

use clap::ValueEnum;
use gov::diff::{FindingDiff, FindingSet, diff};
use gov::domain::Enforcement;
use gov::eval::{AuditOptions, audit};
use gov::graph::Graph;
use gov::ir::Program;
use gov::report::diff::View;
use gov::syntax::Parsed;
use gov::{Code, Diag, Diagnostics, Engine};

use super::eval_cmd::FailOn;
use super::git_ref;
use super::output::{Exit, Output};
use super::policy::{InventoryArgs, WalkLimitArgs, compile, load_graph, parse_policies};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Plain text, for people and logs.
    Human,
    /// `gov.diff/v1` JSON.
    Json,
    /// A pull-request comment.
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The policies before the change: files, directories, or `git:REV:PATH`
    /// (read from git; the working tree is not touched).
    #[arg(long, num_args = 1.., value_name = "REF", requires = "head")]
    pub base: Vec<String>,
    /// The policies after the change (same forms as `--base`).
    #[arg(long, num_args = 1.., value_name = "REF", requires = "base")]
    pub head: Vec<String>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub walk: WalkLimitArgs,
    /// Replay the requests of a `gov serve --decision-log` file against both policy sets.
    #[arg(long, value_name = "FILE", requires = "base")]
    pub decision_log: Option<PathBuf>,
    /// A saved report (`gov eval --format json` or `sarif`): the earlier run.
    #[arg(long, value_name = "REPORT", requires = "after", conflicts_with_all = ["base", "head"])]
    pub before: Option<PathBuf>,
    /// A saved report: the later run.
    #[arg(long, value_name = "REPORT", requires = "before")]
    pub after: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Write the report to a file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when the head adds open findings at or above this enforcement level.
    #[arg(long, value_enum, default_value_t = FailOn::Hard)]
    pub fail_on: FailOn,
    /// Findings listed per section (and table rows) before "and N more".
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_rows: usize,
    /// Example requests shown per group of changed decisions.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub examples: usize,
}

fn threshold(f: FailOn) -> Option<Enforcement> {
    match f {
        FailOn::Advisory => Some(Enforcement::Advisory),
        FailOn::Soft => Some(Enforcement::Soft),
        FailOn::Hard => Some(Enforcement::Hard),
        FailOn::Never => None,
    }
}

pub fn run(args: &DiffArgs, out: &Output) -> Exit {
    let result = match (&args.before, &args.after) {
        (Some(before), Some(after)) => drift(args, before, after, out),
        _ if !args.base.is_empty() && !args.head.is_empty() => policies(args, out),
        _ => Err(super::output::usage(
            out,
            "`gov diff` needs `--base REF --head REF -i INVENTORY` or `--before REPORT --after REPORT`",
            "compare two policy sets on one inventory, or two saved reports",
        )),
    };
    result.unwrap_or_else(|e| e)
}

/// Which side a message is about.
#[derive(Clone, Copy)]
enum Side {
    Base,
    Head,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Base => "base",
            Side::Head => "head",
        }
    }
}

/// Reads and parses a side's policies: paths through `gov eval`'s loader,
/// `git:REV:PATH` through git.
fn parse_side(refs: &[String], side: Side, out: &Output) -> Result<Vec<Parsed>, Exit> {
    let fail = |exit: Exit| {
        out.note(&format!(
            "error: the {} policies (`{}`) do not load",
            side.name(),
            refs.join(" ")
        ));
        exit
    };
    let paths: Vec<PathBuf> =
        refs.iter().filter(|r| !r.starts_with(git_ref::PREFIX)).map(PathBuf::from).collect();
    let mut parsed =
        if paths.is_empty() { Vec::new() } else { parse_policies(&paths, out).map_err(fail)? };
    let mut diags = Diagnostics::new();
    for spec in refs.iter().filter_map(|r| r.strip_prefix(git_ref::PREFIX)) {
        let files = git_ref::read(spec).map_err(|(d, exit)| {
            out.diagnostics(&d.into());
            fail(exit)
        })?;
        for f in files {
            match gov::syntax::parse_bytes(&f.name, &f.bytes) {
                Ok(p) => parsed.push(p),
                Err(d) => diags.extend(d),
            }
        }
    }
    if diags.has_errors() {
        out.diagnostics(&diags);
        return Err(fail(Exit::InvalidPolicy));
    }
    Ok(parsed)
}

fn compile_side(
    parsed: &[Parsed],
    graph: &Graph,
    args: &DiffArgs,
    side: Side,
    warn: bool,
    out: &Output,
) -> Result<Program, Exit> {
    let compiled = compile(parsed, Some(graph), args.inventory.now(), out).inspect_err(|_| {
        out.note(&format!(
            "error: the {} policies (`{}`) do not compile",
            side.name(),
            refs(args, side)
        ));
    })?;
    if warn && !compiled.warnings.is_empty() {
        out.diagnostics(&compiled.warnings);
    }
    Ok(compiled.program)
}

fn refs(args: &DiffArgs, side: Side) -> String {
    match side {
        Side::Base => args.base.join(" "),
        Side::Head => args.head.join(" "),
    }
}

fn findings(program: &Program, graph: &Graph, args: &DiffArgs) -> FindingSet {
    let options = AuditOptions {
        now: Some(args.inventory.now()),
        walk_limit: Some(args.walk.walk_limit),
        ..AuditOptions::default()
    };
    FindingSet::of_audit(&audit(program, graph, &options))
}

fn policies(args: &DiffArgs, out: &Output) -> Result<Exit, Exit> {
    if args.inventory.inventory.is_empty() {
        return Err(super::output::usage(
            out,
            "`gov diff --base --head` needs `--inventory PATH` (a file or a directory)",
            "both policy sets are evaluated on this inventory",
        ));
    }
    // The head first: a head that does not compile is what a reviewer needs to see.
    let head_parsed = parse_side(&args.head, Side::Head, out)?;
    let base_parsed = parse_side(&args.base, Side::Base, out)?;
    let Some(graph) = load_graph(&args.inventory, out)? else { return Err(Exit::Usage) };
    let head = compile_side(&head_parsed, &graph, args, Side::Head, true, out)?;
    let base_program = compile_side(&base_parsed, &graph, args, Side::Base, false, out)?;

    let (finding_diff, replay) = match &args.decision_log {
        None => {
            // One graph, two evaluations, one join.
            let (base, head) = rayon::join(
                || findings(&base_program, &graph, args),
                || findings(&head, &graph, args),
            );
            (diff(&base, &head), None)
        }
        Some(log_path) => {
            let name = log_path.display().to_string();
            let text = std::fs::read_to_string(log_path).map_err(|e| out.io_error(&name, &e))?;
            let log = gov::diff::replay::parse_log(&text);
            // An engine owns its graph: the head gets a second load of the
            // same inventory, and is compiled against it.
            let Some(head_graph) = load_graph(&args.inventory, out)? else {
                return Err(Exit::Usage);
            };
            let head = compile_side(&head_parsed, &head_graph, args, Side::Head, false, out)?;
            let base_engine = Engine::new(base_program, graph);
            let head_engine = Engine::new(head, head_graph);
            let (base, head_set) = rayon::join(
                || findings(base_engine.program(), base_engine.graph(), args),
                || findings(head_engine.program(), head_engine.graph(), args),
            );
            let replay = gov::diff::replay::replay(&base_engine, &head_engine, &log, args.examples);
            if !replay.invalid.is_empty() {
                let lines: Vec<String> =
                    replay.invalid.iter().take(10).map(|l| l.line.to_string()).collect();
                eprintln!(
                    "warning: `{name}`: {} line{} not decision records and skipped (line {}{})",
                    replay.invalid.len(),
                    if replay.invalid.len() == 1 { " is" } else { "s are" },
                    lines.join(", "),
                    if replay.invalid.len() > 10 { ", ..." } else { "" }
                );
            }
            (diff(&base, &head_set), Some(replay))
        }
    };
    let base_label = args.base.join(" ");
    let head_label = args.head.join(" ");
    emit(args, &base_label, &head_label, &finding_diff, replay.as_ref(), out)
}

fn read_report(path: &PathBuf, out: &Output) -> Result<FindingSet, Exit> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| out.io_error(&name, &e))?;
    FindingSet::from_report(&name, &text).map_err(|d| {
        out.diagnostics(&d.into());
        Exit::Usage
    })
}

fn drift(args: &DiffArgs, before: &PathBuf, after: &PathBuf, out: &Output) -> Result<Exit, Exit> {
    let old = read_report(before, out)?;
    let new = read_report(after, out)?;
    let d = diff(&old, &new);
    emit(args, &before.display().to_string(), &after.display().to_string(), &d, None, out)
}

fn emit(
    args: &DiffArgs,
    base: &str,
    head: &str,
    d: &FindingDiff,
    replay: Option<&gov::diff::replay::Replay>,
    out: &Output,
) -> Result<Exit, Exit> {
    let fail_on = threshold(args.fail_on);
    let view = View { base, head, diff: d, fail_on, replay, max_rows: args.max_rows.max(1) };
    let text = match args.format {
        DiffFormat::Human => gov::report::diff::human(&view),
        DiffFormat::Json => gov::report::diff::json_string(&view),
        DiffFormat::Markdown => gov::report::diff::markdown(&view),
    };
    let mut body = |w: &mut dyn std::io::Write| w.write_all(text.as_bytes());
    super::output::write_result(out, args.output.as_deref(), &mut body)?;
    if d.duplicates != (0, 0) {
        out.diagnostics(
            &Diag::warning(
                Code::InvalidReport,
                format!(
                    "{} findings repeat a fingerprint (base {}, head {}); only the first of each was compared",
                    d.duplicates.0 + d.duplicates.1,
                    d.duplicates.0,
                    d.duplicates.1
                ),
            )
            .into(),
        );
    }
    Ok(match fail_on {
        Some(level) if !d.added_blocking(level).is_empty() => Exit::Violations,
        _ => Exit::Ok,
    })
}
