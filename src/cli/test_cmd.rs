//! `gov test`: run the `test` blocks of policy files, with rule coverage.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;
use gov::testing::{TestOptions, TestReport};

use super::output::{Exit, Output};
use super::policy::parse_policies;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// One line per test, failures with expected vs actual and an explain trace.
    Human,
    /// The report as JSON.
    Json,
    /// JUnit XML, one test case per test.
    Junit,
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Policy files or directories (every `.gov` file is part of the policy set).
    #[arg(default_value = "policies", value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// Only tests whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Report, per rule, whether each `where` and `require` was seen both true and false.
    #[arg(long)]
    pub coverage: bool,
    /// Fail when clause coverage is below this percentage (implies `--coverage`).
    #[arg(long, value_name = "PCT")]
    pub min_coverage: Option<f64>,
}

pub fn run(args: &TestArgs, out: &Output) -> Exit {
    let parsed = match parse_policies(&args.paths, out) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let coverage = args.coverage || args.min_coverage.is_some();
    let report =
        match gov::testing::run(&parsed, &TestOptions { filter: args.filter.clone(), coverage }) {
            Ok(r) => r,
            Err(d) => {
                out.diagnostics(&d);
                return Exit::InvalidPolicy;
            }
        };
    let text = match args.format {
        TestFormat::Human => human(&report),
        TestFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        TestFormat::Junit => junit(&report),
    };
    print!("{text}");
    let below = match (args.min_coverage, report.coverage_percent()) {
        (Some(min), Some(pct)) if pct + 1e-9 < min => {
            out.fail(
                Exit::Violations,
                gov::Diag::error(
                    gov::Code::TestCoverage,
                    format!("clause coverage {pct:.1}% is below the required {min:.1}%"),
                )
                .help("add tests for the clauses `gov test --coverage` lists as never exercised"),
            );
            true
        }
        _ => false,
    };
    if report.failed() > 0 || below { Exit::Violations } else { Exit::Ok }
}

fn human(r: &TestReport) -> String {
    let mut s = String::new();
    for t in &r.results {
        let _ =
            writeln!(s, "{} {} ({})", if t.passed { "ok  " } else { "FAIL" }, t.name, t.location);
        for f in &t.failures {
            let _ = writeln!(s, "       {f}");
        }
        if let Some(e) = &t.explain {
            for line in e.lines() {
                let _ = writeln!(s, "       | {line}");
            }
        }
    }
    if let Some(cov) = &r.coverage {
        let _ = writeln!(s, "\ncoverage (each `where`/`require` seen true and false):");
        for rc in cov {
            let (seen, total) = rc.counts();
            let pct = if total == 0 { 100.0 } else { seen as f64 * 100.0 / total as f64 };
            let missing: Vec<String> = rc
                .clauses
                .iter()
                .filter(|c| !(c.seen_true && c.seen_false))
                .map(|c| {
                    let never = match (c.seen_true, c.seen_false) {
                        (false, false) => "never evaluated",
                        (true, false) => "never false",
                        _ => "never true",
                    };
                    format!("{} line {} {never}", c.clause, c.line)
                })
                .collect();
            let _ = write!(s, "  {pct:5.1}%  {}", rc.rule);
            if !missing.is_empty() {
                let _ = write!(s, "  ({})", missing.join("; "));
            }
            s.push('\n');
        }
        if let Some(p) = r.coverage_percent() {
            let _ = writeln!(s, "  total {p:.1}%");
        }
    }
    let failed = r.failed();
    let _ = writeln!(s, "\n{} passed, {failed} failed", r.results.len() - failed);
    s
}

fn junit(r: &TestReport) -> String {
    let esc = gov::report::junit::escape;
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuite name=\"gov test\" tests=\"{}\" failures=\"{}\">",
        r.results.len(),
        r.failed()
    );
    for t in &r.results {
        let _ =
            write!(s, "  <testcase classname=\"{}\" name=\"{}\"", esc(&t.location), esc(&t.name));
        if t.passed {
            s.push_str("/>\n");
        } else {
            let msg = t.failures.join("; ");
            let _ = writeln!(
                s,
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                esc(&msg),
                esc(&msg)
            );
        }
    }
    s.push_str("</testsuite>\n");
    s
}
