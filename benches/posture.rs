//! `gov report` against `gov eval --format json` at scale: the 25-rule set of
//! `benches/policies/nhi25.gov` over the synthetic inventory of
//! `gov graph generate` (100,000 identities; `GOV_BENCH_IDENTITIES`
//! overrides), the two pipelines side by side in one run:
//!
//! - eval: scan, build the findings, write the JSON report to a file;
//! - report: a scan that also counts scopes per service, the findings, the
//!   service catalogue, the history record (written beside one earlier run),
//!   the history replay, the metrics, the HTML written to a file.
//!
//! Also: bytes per finding of the history record, and the HTML's size with
//! the default 500 findings per service. Best of `GOV_BENCH_RUNS` (3).
//!
//! Run with `cargo bench --bench posture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufWriter, Write as _};
use std::time::Instant;

use gov::check::{Options, compile};
use gov::eval::{AuditOptions, scan, scan_scoped};
use gov::history::{self, History, Run, Timeline};
use gov::ingest::generate::{GenOptions, generate};
use gov::ingest::{LoadOptions, load_sources};
use gov::metrics::{self, Catalogue};
use gov::source::SourceFile;
use gov::time::Timestamp;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POLICY: &str = include_str!("policies/nhi25.gov");

fn main() {
    let now = Timestamp::parse("2026-11-22").unwrap();
    let identities: u64 =
        std::env::var("GOV_BENCH_IDENTITIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize =
        std::env::var("GOV_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("gov-bench-posture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inventory.json");
    generate(
        &GenOptions { identities, seed: 42, now },
        BufWriter::new(std::fs::File::create(&path).unwrap()),
    )
    .unwrap();
    let loaded =
        load_sources(vec![gov::ingest::read_source(&path).unwrap()], &LoadOptions::default())
            .unwrap();
    let graph = loaded.graph;
    let parsed = gov::syntax::parse(&SourceFile::new("nhi25.gov", POLICY)).unwrap();
    let program = compile(&[parsed], graph.schema(), &Options { now }).unwrap().program;
    let options = AuditOptions { now: Some(now), ..Default::default() };

    let json_path = dir.join("report.json");
    let html_path = dir.join("report.html");
    let hist = dir.join("history");
    let mut findings = 0;
    let mut eval_best = f64::MAX;
    let mut report_best = f64::MAX;
    let mut record_bytes = 0;
    for _ in 0..runs {
        // gov eval --format json
        let t = Instant::now();
        let audit = scan(&program, &graph, &options).into_audit();
        let mut w = BufWriter::new(std::fs::File::create(&json_path).unwrap());
        gov::report::json::write(&audit, &mut w).unwrap();
        w.flush().unwrap();
        drop(w);
        findings = audit.findings.len();
        drop(audit);
        eval_best = eval_best.min(t.elapsed().as_secs_f64());

        // gov report --history (one earlier run recorded)
        let _ = std::fs::remove_dir_all(&hist);
        let earlier = {
            let s = scan_scoped(
                &program,
                &graph,
                &AuditOptions { now: Some(Timestamp(now.0 - 7 * 86_400)), ..Default::default() },
            );
            let scopes = s.scopes();
            let a = s.into_audit();
            let c = Catalogue::of(&program, &graph);
            Run::from_audit(&a, &scopes, &|x| c.tier(x))
        };
        history::record(&hist, &earlier).unwrap();
        drop(earlier);
        let t = Instant::now();
        let s = scan_scoped(&program, &graph, &options);
        let scopes = s.scopes();
        let mut audit = s.into_audit();
        let catalogue = Catalogue::of(&program, &graph);
        let run = Run::from_audit(&audit, &scopes, &|x| catalogue.tier(x));
        let past = History::open(&hist).unwrap();
        let file = history::record(&hist, &run).unwrap();
        let timeline = Timeline::replay(past.runs().iter().chain([&run]));
        timeline.apply_due(&mut audit);
        let m = metrics::compute(&metrics::Inputs {
            audit: &audit,
            run: &run,
            timeline: &timeline,
            catalogue: &catalogue,
        });
        let html = gov::report::html::render(&audit, &m, &timeline, &Default::default());
        std::fs::write(&html_path, html.as_bytes()).unwrap();
        report_best = report_best.min(t.elapsed().as_secs_f64());
        record_bytes = std::fs::metadata(&file).unwrap().len();
    }
    let json_size = std::fs::metadata(&json_path).unwrap().len();
    let html_size = std::fs::metadata(&html_path).unwrap().len();
    println!("posture: {identities} identities, {findings} findings, best of {runs}");
    println!("  eval --format json   {eval_best:>8.2} s   (JSON {:.1} MB)", json_size as f64 / 1e6);
    println!(
        "  report --history     {report_best:>8.2} s   ({:.2}x eval)",
        report_best / eval_best
    );
    println!(
        "  history record       {:>8.1} MB   ({:.1} bytes per finding)",
        record_bytes as f64 / 1e6,
        record_bytes as f64 / findings.max(1) as f64
    );
    let html = std::fs::read_to_string(&html_path).unwrap_or_default();
    println!(
        "  HTML                 {:>8.1} MB   ({} services, {} findings inlined)",
        html_size as f64 / 1e6,
        html.matches("<details class=\"service\"").count(),
        html.matches("<tr class=\"finding").count()
    );
    if std::env::var_os("GOV_BENCH_KEEP").is_some() {
        println!("  kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
