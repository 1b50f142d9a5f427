//! Compile and audit benchmarks.
//!
//! - compile: 1,000 rules (the 25 rules of `benches/policies/nhi25.gov`, 40
//!   times under new ids), parse + check + lower, best of 5.
//! - audit: the 25-rule set over the synthetic inventory of
//!   `gov graph generate` (1,000,000 identities by default;
//!   `GOV_BENCH_IDENTITIES` overrides) with 1, 2 and all threads; and the
//!   attribute-only rules with one thread, as rule-entity checks per second.
//!   The audit ([`gov::eval::scan`]) evaluates every rule for every entity
//!   and records each failure with its severity, priority, service and
//!   waiver; building the findings' text (message, help, evidence, witness,
//!   provenance: [`gov::eval::Scan::into_audit`], what every report does
//!   first) is timed on its own line.
//!
//! Run with `cargo bench --bench audit`. Figures are wall-clock on the
//! machine it runs on; compare only figures from the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::BufWriter;
use std::time::Instant;

use gov::check::{Options, compile};
use gov::eval::{AuditOptions, scan};
use gov::ingest::generate::{GenOptions, generate};
use gov::ingest::{LoadOptions, load_sources};
use gov::source::SourceFile;
use gov::time::Timestamp;

// The same allocator as the `gov` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POLICY: &str = include_str!("policies/nhi25.gov");

fn rule_names(policy: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut attr = false;
    for line in policy.lines() {
        if line.trim() == "// (attr)" {
            attr = true;
        } else if let Some(rest) = line.strip_prefix("rule ") {
            out.push((rest.trim_end_matches(" {").to_owned(), attr));
            attr = false;
        }
    }
    out
}

fn thousand_rules() -> String {
    let body_start = POLICY.find("\nrule ").unwrap() + 1;
    let rules = &POLICY[body_start..];
    let mut text = String::from(&POLICY[..body_start]);
    for i in 0..40 {
        let mut copy = rules.to_owned();
        for (name, _) in rule_names(POLICY) {
            copy = copy.replace(&format!("rule {name} {{"), &format!("rule {name}-{i} {{"));
        }
        text.push_str(&copy);
        text.push('\n');
    }
    text
}

fn main() {
    let now = Timestamp::parse("2026-11-22").unwrap();

    // ---- compile 1,000 rules
    let text = thousand_rules();
    let mut best_parse = f64::MAX;
    let mut best_total = f64::MAX;
    let mut rules = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        let parsed = gov::syntax::parse(&SourceFile::new("thousand.gov", text.clone()))
            .unwrap_or_else(|d| {
                panic!(
                    "{}",
                    d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
                )
            });
        let t1 = Instant::now();
        let compiled =
            compile(&[parsed], &gov::graph::Schema::builtin(), &Options { now }).unwrap();
        let t2 = Instant::now();
        rules = compiled.program.rules.len();
        best_parse = best_parse.min((t1 - t0).as_secs_f64());
        best_total = best_total.min((t2 - t0).as_secs_f64());
    }
    println!("compile: {rules} rules ({} KB of policy)", text.len() / 1024);
    println!(
        "  parse {:.1} ms, parse+check+lower {:.1} ms (best of 5; target < 50 ms)",
        best_parse * 1e3,
        best_total * 1e3
    );

    // ---- audit
    let identities: u64 = std::env::var("GOV_BENCH_IDENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("gov-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inventory.json");
    let t = Instant::now();
    let stats = generate(
        &GenOptions { identities, seed: 42, now },
        BufWriter::new(std::fs::File::create(&path).unwrap()),
    )
    .unwrap();
    println!(
        "\ninventory: {identities} identities, {} nodes, {} edges ({:.1} s to generate)",
        stats.nodes,
        stats.edges,
        t.elapsed().as_secs_f64()
    );
    let src = gov::ingest::read_source(&path).unwrap();
    let t = Instant::now();
    let loaded = load_sources(vec![src], &LoadOptions::default()).unwrap();
    let graph = loaded.graph;
    println!("  loaded in {:.2} s", t.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);

    let parsed = gov::syntax::parse(&SourceFile::new("nhi25.gov", POLICY)).unwrap();
    let program = compile(&[parsed], graph.schema(), &Options { now }).unwrap().program;
    let checks: usize = program.rules.iter().map(|r| graph.nodes_of_kind(r.kind).len()).sum();
    let attr_rules: Vec<String> =
        rule_names(POLICY).into_iter().filter(|(_, a)| *a).map(|(n, _)| n).collect();
    let attr_checks: usize = program
        .rules
        .iter()
        .filter(|r| attr_rules.iter().any(|a| **a == *r.id))
        .map(|r| graph.nodes_of_kind(r.kind).len())
        .sum();

    // Best of `GOV_BENCH_RUNS` runs (3); 1 under a profiler.
    let runs: usize =
        std::env::var("GOV_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut thread_counts = vec![1, 2];
    if cores > 2 {
        thread_counts.extend([4, 8, 16].into_iter().filter(|t| *t <= cores));
    }
    println!("\naudit: {} rules, {checks} rule-entity checks", program.rules.len());
    let mut base = None;
    let options = AuditOptions { now: Some(now), ..Default::default() };
    for threads in thread_counts {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut best = f64::MAX;
        let mut best_text = f64::MAX;
        let mut findings = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let s = pool.install(|| scan(&program, &graph, &options));
            let scanned = t.elapsed().as_secs_f64();
            best = best.min(scanned);
            findings = s.len();
            let t = Instant::now();
            let a = pool.install(|| s.into_audit());
            best_text = best_text.min(t.elapsed().as_secs_f64());
            assert_eq!(a.findings.len(), findings);
            drop(a);
        }
        let speedup = base.map_or(1.0, |b: f64| b / best);
        base.get_or_insert(best);
        println!(
            "  {threads:>2} thread(s): {:.3} s, {:.1} M checks/s, {findings} findings, {:.2}x vs 1 thread; \
             building the findings' text: {:.3} s more",
            best,
            checks as f64 / best / 1e6,
            speedup,
            best_text
        );
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut best = f64::MAX;
    let mut attr_findings = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let s = pool.install(|| {
            scan(
                &program,
                &graph,
                &AuditOptions {
                    now: Some(now),
                    rules: attr_rules.clone(),
                    entity: None,
                    walk_limit: None,
                },
            )
        });
        best = best.min(t.elapsed().as_secs_f64());
        attr_findings = s.len();
    }
    if std::env::var_os("GOV_BENCH_PER_RULE").is_some() {
        println!("\nper rule, 1 thread:");
        for rule in &program.rules {
            let one = AuditOptions {
                now: Some(now),
                rules: vec![rule.id.to_string()],
                entity: None,
                walk_limit: None,
            };
            let mut best = f64::MAX;
            let mut found = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let s = pool.install(|| scan(&program, &graph, &one));
                best = best.min(t.elapsed().as_secs_f64());
                found = s.len();
            }
            let n = graph.nodes_of_kind(rule.kind).len();
            println!(
                "  {:<40} {:>8.1} ms {:>6.1} ns/check {:>9} failing of {n}",
                rule.id,
                best * 1e3,
                best * 1e9 / n.max(1) as f64,
                found
            );
        }
    }
    println!(
        "  attribute-only rules ({}), 1 thread: {attr_checks} checks ({attr_findings} findings) in {:.3} s = {:.1} M checks/s per core (target >= 10)",
        attr_rules.len(),
        best,
        attr_checks as f64 / best / 1e6
    );
}
