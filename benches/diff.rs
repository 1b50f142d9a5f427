//! `gov diff` speed, side by side with its baselines in the same run.
//!
//! - Policy change impact: the 25 rules of `benches/policies/nhi25.gov` (base)
//!   and the same rules with `credential-max-age` tightened from 365 to 90
//!   days (head) over the synthetic inventory of `gov graph generate`
//!   (100,000 identities by default; `GOV_BENCH_IDENTITIES` overrides).
//!   Baseline: one evaluation as `gov eval` does it before rendering (load
//!   the graph, compile, audit). Diff: load the graph once, compile both,
//!   audit both, join by fingerprint ([`gov::diff::diff`]). Best of three
//!   runs each, alternated.
//! - Decision replay: 100,000 requests to the decision `access` of
//!   `benches/policies/decide20.gov`, written as decision-log lines. Baseline:
//!   decoding each request's JSON and deciding it once (what a server does).
//!   Replay: [`gov::diff::replay::parse_log`] and
//!   [`gov::diff::replay::replay`] against the base and a head without the
//!   `delete` deny, which decides every record twice; compared as decisions
//!   per second. One thread each.
//!
//! Run with `cargo bench --bench diff` (`--no-default-features` builds it
//! without the plugin runtime). Figures are wall-clock on the machine it
//! runs on; compare only figures from the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;
use common::{ACTIONS, Population, pick, xorshift};

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, Instant};

use gov::check::{Options, compile};
use gov::diff::{FindingSet, diff};
use gov::eval::{AuditOptions, audit};
use gov::graph::Graph;
use gov::ingest::generate::{GenOptions, generate};
use gov::ingest::{LoadOptions, load_sources};
use gov::ir::Program;
use gov::source::SourceFile;
use gov::time::Timestamp;
use gov::{Engine, Request};

const RULES: &str = include_str!("policies/nhi25.gov");
const DECISION: &str = include_str!("policies/decide20.gov");
const REQUESTS: usize = 100_000;

fn load(path: &Path) -> Graph {
    let src = gov::ingest::read_source(path).unwrap();
    load_sources(vec![src], &LoadOptions::default()).unwrap().graph
}

fn program(name: &str, text: &str, graph: &Graph, now: Timestamp) -> Program {
    let parsed = gov::syntax::parse(&SourceFile::new(name, text.to_owned())).unwrap();
    compile(&[parsed], graph.schema(), &Options { now }).unwrap().program
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let now = Timestamp::parse("2026-11-22").unwrap();
    let identities: u64 =
        std::env::var("GOV_BENCH_IDENTITIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("gov-bench-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inventory.json");
    let stats = generate(
        &GenOptions { identities, seed: 42, now },
        BufWriter::new(std::fs::File::create(&path).unwrap()),
    )
    .unwrap();
    println!("inventory: {identities} identities, {} nodes, {} edges", stats.nodes, stats.edges);

    let head_rules = RULES.replace("now - c.rotated_at <= 365d", "now - c.rotated_at <= 90d");
    assert_ne!(head_rules, RULES);
    let options = AuditOptions { now: Some(now), ..AuditOptions::default() };

    let eval_once = || {
        let t = Instant::now();
        let graph = load(&path);
        let p = program("nhi25.gov", RULES, &graph, now);
        let a = audit(&p, &graph, &options);
        let e = t.elapsed();
        (e, a.findings.len())
    };
    let diff_once = || {
        let t = Instant::now();
        let graph = load(&path);
        let base = program("nhi25.gov", RULES, &graph, now);
        let head = program("nhi25-head.gov", &head_rules, &graph, now);
        let (b, h) = rayon::join(
            || FindingSet::of_audit(&audit(&base, &graph, &options)),
            || FindingSet::of_audit(&audit(&head, &graph, &options)),
        );
        let d = diff(&b, &h);
        let e = t.elapsed();
        (e, d.new.len(), d.unchanged)
    };
    let (mut best_eval, mut best_diff) = (Duration::MAX, Duration::MAX);
    let mut shape = (0, 0, 0);
    for _ in 0..3 {
        let (e, findings) = eval_once();
        best_eval = best_eval.min(e);
        let (d, new, unchanged) = diff_once();
        best_diff = best_diff.min(d);
        shape = (findings, new, unchanged);
    }
    println!(
        "policy diff: {} findings per eval; the head adds {}, {} unchanged",
        shape.0, shape.1, shape.2
    );
    println!("| one `gov eval` (load, compile, audit) | {:.2} s | 1.00x |", secs(best_eval));
    println!(
        "| `gov diff` (one load, two compiles, two audits, join) | {:.2} s | {:.2}x |",
        secs(best_diff),
        secs(best_diff) / secs(best_eval)
    );

    // Decision replay.
    let base_graph = load(&path);
    let head_graph = load(&path);
    let _ = std::fs::remove_dir_all(&dir);
    let base = program("decide20.gov", DECISION, &base_graph, now);
    let head_text =
        DECISION.replace("  deny \"deletes are switched off\" when action == \"delete\"\n", "");
    assert_ne!(head_text, DECISION);
    let head = program("decide20-head.gov", &head_text, &head_graph, now);
    let supports = base_graph.schema().edge_kind("supports").unwrap();
    let Population { nhis, resources } = Population::of(&base_graph);
    let mut next = xorshift();
    let mut requests = Vec::with_capacity(REQUESTS);
    let mut log = String::new();
    for i in 0..REQUESTS {
        let subject = pick(&nhis, next());
        let app = base_graph.out(subject, supports)[0];
        let target = pick(resources, next());
        let action = pick(&ACTIONS, next());
        let mut input = BTreeMap::new();
        input.insert("subject".to_owned(), serde_json::Value::from(base_graph.id(subject)));
        input.insert("target".to_owned(), base_graph.id(target).into());
        input.insert("app".to_owned(), base_graph.id(app).into());
        input.insert("action".to_owned(), action.into());
        let time = format!("2026-11-22T{:02}:{:02}:{:02}.000Z", i / 3600 % 24, i / 60 % 60, i % 60);
        let request = serde_json::json!({"decision": "access", "input": input, "now": time});
        requests.push(request.to_string());
        let line = serde_json::json!({
            "time": time, "endpoint": "decide", "revision": "0123456789abcdef",
            "request": {"decision": "access", "input": input},
            "effect": "deny",
            "reasons": [{"decision": "access", "clause": "deny", "message": "deletes are switched off",
                         "file": "decide20.gov", "line": 20, "column": 3}],
            "duration_us": 3,
        });
        log.push_str(&line.to_string());
        log.push('\n');
    }
    let base_engine = Engine::new(base, base_graph);
    let head_engine = Engine::new(head, head_graph);

    let fresh = |engine: &Engine| {
        let t = Instant::now();
        for r in &requests {
            let r: Request = serde_json::from_str(r).unwrap();
            std::hint::black_box(engine.decide(&r).unwrap());
        }
        t.elapsed()
    };
    let replayed = || {
        let t = Instant::now();
        let parsed = gov::diff::replay::parse_log(&log);
        let r = gov::diff::replay::replay(&base_engine, &head_engine, &parsed, 3);
        let e = t.elapsed();
        (e, r.flips.len(), parsed.invalid.len())
    };
    let _ = fresh(&base_engine);
    let (mut best_fresh, mut best_replay) = (Duration::MAX, Duration::MAX);
    let mut flips = (0, 0);
    for _ in 0..3 {
        best_fresh = best_fresh.min(fresh(&base_engine));
        let (e, f, invalid) = replayed();
        best_replay = best_replay.min(e);
        flips = (f, invalid);
    }
    assert_eq!(flips.1, 0);
    let fresh_rate = REQUESTS as f64 / secs(best_fresh);
    let replay_rate = 2.0 * REQUESTS as f64 / secs(best_replay);
    println!("decision replay: {REQUESTS} requests, {} change effect", flips.0);
    println!("| fresh: decode + decide, one policy set | {fresh_rate:.0} decisions/s | 1.00x |");
    println!(
        "| replay: parse the log + decide against base and head | {replay_rate:.0} decisions/s ({:.0} records/s) | {:.2}x |",
        replay_rate / 2.0,
        replay_rate / fresh_rate
    );
}
