//! In-process decision latency.
//!
//! The 20-clause decision `access` of `benches/policies/decide20.gov` (paths
//! of up to four hops) over the synthetic inventory of `gov graph generate`
//! (100,000 identities by default; `GOV_BENCH_IDENTITIES` overrides), one
//! thread, one `Engine::decide` per request on pre-decoded requests: p50,
//! p99, p99.9 and the mean, each request timed on its own, and p50 and p99
//! per effect. The baseline is a
//! one-clause decision with the same inputs (`allow when true`) measured in
//! the same run: decoding the request, looking the entities up, building the
//! result. Then a hot set (1,000 distinct requests asked 100 times each, as a
//! gateway sees its regular callers), and the throughput with all threads on
//! one shared engine.
//!
//! Run with `cargo bench --bench decide`. Figures are wall-clock on the
//! machine it runs on; compare only figures from the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;
use common::{ACTIONS, Population, pick, xorshift};

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::time::{Duration, Instant};

use gov::check::{Options, compile};
use gov::ingest::generate::{GenOptions, generate};
use gov::ingest::{LoadOptions, load_sources};
use gov::source::SourceFile;
use gov::time::Timestamp;
use gov::{Effect, Engine, Request};
use rayon::prelude::*;

// The same allocator as the `gov` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POLICY: &str = include_str!("policies/decide20.gov");
const REQUESTS: usize = 100_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Times every request; returns the sorted latencies and the effects seen.
///
/// Each request is cloned, untimed, just before it is decided: a gateway
/// decides a request it has just decoded, so the request's own memory is in
/// cache and only the graph is cold. (Deciding the 100,000 requests built
/// up front instead reads each one from memory: callgrind's cache
/// simulation put 80% of the last-level misses there, not in the graph.
/// `GOV_BENCH_STALE_REQUESTS=1` measures that way.)
fn run(
    engine: &Engine,
    requests: &[Request],
) -> (Vec<Duration>, BTreeMap<&'static str, Vec<Duration>>) {
    let stale = std::env::var_os("GOV_BENCH_STALE_REQUESTS").is_some();
    let mut lat = Vec::with_capacity(requests.len());
    let mut effects = BTreeMap::new();
    for r in requests {
        let fresh;
        let r = if stale {
            r
        } else {
            fresh = r.clone();
            &fresh
        };
        let t = Instant::now();
        let d = engine.decide(r);
        let e = t.elapsed();
        let d = d.unwrap();
        lat.push(e);
        let name = match d.effect {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::NotPermitted => "not_permitted",
            Effect::ApprovalRequired => "approval_required",
        };
        effects.entry(name).or_insert_with(Vec::new).push(e);
        std::hint::black_box(d);
    }
    lat.sort_unstable();
    for l in effects.values_mut() {
        l.sort_unstable();
    }
    (lat, effects)
}

fn main() {
    let now = Timestamp::parse("2026-11-22").unwrap();
    let identities: u64 =
        std::env::var("GOV_BENCH_IDENTITIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("gov-bench-decide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inventory.json");
    let stats = generate(
        &GenOptions { identities, seed: 42, now },
        BufWriter::new(std::fs::File::create(&path).unwrap()),
    )
    .unwrap();
    let src = gov::ingest::read_source(&path).unwrap();
    let graph = load_sources(vec![src], &LoadOptions::default()).unwrap().graph;
    let _ = std::fs::remove_dir_all(&dir);
    println!("inventory: {identities} identities, {} nodes, {} edges", stats.nodes, stats.edges);

    let parsed = gov::syntax::parse(&SourceFile::new("decide20.gov", POLICY)).unwrap();
    let program = compile(&[parsed], graph.schema(), &Options { now }).unwrap().program;
    let clauses = program.decisions[0].clauses().count();
    println!("policy: decision `access`, {clauses} clauses (benches/policies/decide20.gov)");

    // Requests: non-human subjects for their own service; half the targets
    // are resources the subject reaches through a grant, half random.
    let schema = graph.schema();
    let grants = schema.edge_kind("grants").unwrap();
    let can_access = schema.edge_kind("can_access").unwrap();
    let supports = schema.edge_kind("supports").unwrap();
    let Population { nhis, resources } = Population::of(&graph);
    let mut next = xorshift();
    let make = |decision: &str, next: &mut dyn FnMut() -> u64| -> Request {
        let subject = pick(&nhis, next());
        let app = graph.out(subject, supports)[0];
        let reached: Vec<_> = graph
            .out(subject, grants)
            .iter()
            .flat_map(|r| graph.out(*r, can_access).iter().copied())
            .collect();
        let target = if next().is_multiple_of(2) && !reached.is_empty() {
            pick(&reached, next())
        } else {
            pick(resources, next())
        };
        let action = pick(&ACTIONS, next());
        let mut input = BTreeMap::new();
        input.insert("subject".to_owned(), graph.id(subject).into());
        input.insert("target".to_owned(), graph.id(target).into());
        input.insert("app".to_owned(), graph.id(app).into());
        input.insert("action".to_owned(), action.into());
        Request { decision: decision.to_owned(), input, now: Some(now) }
    };
    let requests: Vec<Request> = (0..REQUESTS).map(|_| make("access", &mut next)).collect();
    let baseline: Vec<Request> =
        requests.iter().map(|r| Request { decision: "baseline".into(), ..r.clone() }).collect();

    let t = Instant::now();
    let engine = Engine::new(program, graph);
    println!("engine: built in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    // Warm up caches and the thread's frame buffer.
    let _ = run(&engine, &requests[..REQUESTS / 10]);
    let (base, _) = run(&engine, &baseline);
    let (lat, effects) = run(&engine, &requests);

    let mean = |l: &[Duration]| l.iter().sum::<Duration>() / l.len() as u32;
    println!("\ndecide, one thread, {REQUESTS} requests (each timed):");
    for (name, l) in &effects {
        println!(
            "  {name:<18} {:5.1}%  p50 {:5.2} us  p99 {:5.2} us",
            100.0 * l.len() as f64 / REQUESTS as f64,
            us(percentile(l, 0.5)),
            us(percentile(l, 0.99)),
        );
    }
    for (name, l) in [("baseline (1 clause)", &base), ("access (20 clauses)", &lat)] {
        println!(
            "  {name:<20} p50 {:6.2} us  p99 {:6.2} us  p99.9 {:6.2} us  mean {:6.2} us",
            us(percentile(l, 0.5)),
            us(percentile(l, 0.99)),
            us(percentile(l, 0.999)),
            us(mean(l)),
        );
    }
    println!(
        "  ratio to baseline: p50 {:.1}x, p99 {:.1}x (targets: p50 < 2 us, p99 < 20 us)",
        us(percentile(&lat, 0.5)) / us(percentile(&base, 0.5)),
        us(percentile(&lat, 0.99)) / us(percentile(&base, 0.99)),
    );

    // A gateway sees the same callers again and again: 1,000 distinct
    // requests, each asked 100 times, so the nodes they touch stay in cache.
    let hot: Vec<Request> = requests[..1000].iter().cycle().take(REQUESTS).cloned().collect();
    let (hot_lat, _) = run(&engine, &hot);
    // GOV_BENCH_PROFILE=N repeats the hot run N more times (for perf).
    let repeat: usize =
        std::env::var("GOV_BENCH_PROFILE").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    for _ in 0..repeat {
        std::hint::black_box(run(&engine, &hot));
    }
    println!(
        "  hot set (1,000 distinct requests x 100): p50 {:.2} us  p99 {:.2} us  mean {:.2} us",
        us(percentile(&hot_lat, 0.5)),
        us(percentile(&hot_lat, 0.99)),
        us(mean(&hot_lat)),
    );

    let threads = rayon::current_num_threads();
    let t = Instant::now();
    let allowed: usize = requests
        .par_iter()
        .map(|r| usize::from(engine.decide(r).unwrap().effect.is_allowed()))
        .sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "\nthroughput, {threads} threads, one shared engine: {:.0} decisions/s ({allowed} allowed)",
        REQUESTS as f64 / secs
    );
}
