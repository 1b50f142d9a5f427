//! Issue #7 comparative benchmark: the same 20-clause authorization decision
//! (policy/call_service.{gov,cedar,rego}) over the same generated identity
//! graph, decided by gov, cedar-policy and regorus in one process.
//!
//! 1. generate the graph and the requests (seeded, deterministic);
//! 2. set up each engine from its own text encoding (timed per step);
//! 3. decide every request with every engine and stop with exit code 1 on
//!    any disagreement of effect or reasons, before timing anything;
//! 4. time each engine on the same request list (warm-up pass, then passes
//!    interleaved across the engines), one call per `Instant` pair.
//!
//! Run from bench/compare: `cargo run --release` (env: COMPARE_IDENTITIES,
//! COMPARE_REQUESTS, COMPARE_PASSES, COMPARE_SEED; COMPARE_VERBOSE=1 lists
//! how often each clause holds; COMPARE_PROFILE_GOV=SECONDS only runs gov's
//! decide in a loop, for a profiler).

mod data;
mod engines;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gov::Effect;

use engines::{Cedar, Gov, Rego, Setup, Verdict};

const GOV_POLICY: &str = include_str!("../policy/call_service.gov");
const CEDAR_POLICY: &str = include_str!("../policy/call_service.cedar");
const REGO_POLICY: &str = include_str!("../policy/call_service.rego");

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let identities = env("COMPARE_IDENTITIES", 100_000);
    let n_requests = env("COMPARE_REQUESTS", 10_000).max(1);
    let passes = env("COMPARE_PASSES", 3).max(1);
    let seed = env("COMPARE_SEED", 7) as u64;
    let now = gov::time::Timestamp::parse("2026-11-23T00:00:00Z").map_err(|e| e.to_string())?.0;

    let start = Instant::now();
    let world = data::World::generate(identities, seed, now);
    let requests = world.requests(n_requests, seed);
    let depth = world.max_membership_depth();
    println!(
        "graph: {} identities, {} groups, {} roles, {} services, {} credentials = {} nodes, {} edges; \
         longest member_of path {depth} hops; {} requests (seed {seed}), generated in {:.2?}",
        world.identities.len(),
        world.groups.len(),
        world.roles.len(),
        world.services.len(),
        world.credentials.len(),
        world.node_count(),
        world.edge_count(),
        requests.len(),
        start.elapsed()
    );
    if depth > 4 {
        return Err(format!("member_of paths reach {depth} hops; gov's policy walks at most 4"));
    }

    let mut setups: Vec<(&str, Setup)> = Vec::new();
    let mut steps = Setup::new();
    let gov = Gov::setup(&world, GOV_POLICY, &requests, &mut steps)?;
    setups.push(("gov", std::mem::take(&mut steps)));
    if let Some(secs) =
        std::env::var("COMPARE_PROFILE_GOV").ok().and_then(|s| s.parse::<f64>().ok())
    {
        // Only gov's decide in a loop, for `perf record` (no agreement check).
        let start = Instant::now();
        let mut decisions = 0usize;
        while start.elapsed().as_secs_f64() < secs {
            for i in 0..requests.len() {
                black_box(gov.decide(i));
            }
            decisions += requests.len();
        }
        println!("gov: {decisions} decisions in {:.2?}", start.elapsed());
        return Ok(ExitCode::SUCCESS);
    }
    let cedar = Cedar::setup(&world, CEDAR_POLICY, &requests, &mut steps)?;
    setups.push(("cedar", std::mem::take(&mut steps)));
    let mut rego = Rego::setup(&world, REGO_POLICY, &requests, &mut steps)?;
    setups.push(("regorus", std::mem::take(&mut steps)));
    println!("\nsetup (one-time, wall clock):");
    for (engine, steps) in &setups {
        let counted: Duration =
            steps.iter().filter(|(w, _)| !w.ends_with("(not counted)")).map(|(_, d)| *d).sum();
        println!("  {engine:<8} {:>9.1} ms total", ms(counted));
        for (what, d) in steps {
            println!("  {:<8} {:>9.1} ms  {what}", "", ms(*d));
        }
    }

    // ------------------------------------------------------------ agreement
    let mut mix: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = 0usize;
    for (i, request) in requests.iter().enumerate() {
        let g = gov.verdict(i);
        let c = cedar.verdict(i);
        let r = rego.verdict(i);
        let problem = match (&g, &c, &r) {
            (Ok(g), Ok(c), Ok(r)) => {
                *mix.entry(g.effect.as_str()).or_default() += 1;
                for reason in &r.reasons {
                    *fired.entry(reason.clone()).or_default() += 1;
                }
                disagreement(g, c, r)
            }
            _ => Some("an engine failed".to_owned()),
        };
        if let Some(problem) = problem {
            disagreements += 1;
            if disagreements <= 10 {
                eprintln!("DISAGREEMENT on request {i} {request:?}: {problem}");
                eprintln!("  gov:     {g:?}\n  cedar:   {c:?}\n  regorus: {r:?}");
            }
        }
    }
    if disagreements > 0 {
        eprintln!(
            "\n{disagreements} of {} requests decided differently: no timing",
            requests.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    let mix_line: Vec<String> = mix.iter().map(|(e, n)| format!("{e} {n}")).collect();
    println!(
        "\nagreement: all {} requests get the same effect and the same deny/allow reasons from the three engines ({})",
        requests.len(),
        mix_line.join(", ")
    );
    if std::env::var_os("COMPARE_VERBOSE").is_some() {
        println!("clauses that hold (all of them, as Rego computes them):");
        for (reason, n) in &fired {
            println!("  {n:>6}  {reason}");
        }
    }

    // ------------------------------------------------------------ timing
    let n = requests.len();
    let mut lat: [Vec<u64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut busy = [Duration::ZERO; 3];
    // Warm-up: one pass each (caches, branch predictors, lazy state).
    for i in 0..n {
        black_box(gov.decide(i));
        black_box(cedar.decide(i));
        black_box(rego.decide(i));
    }
    for _ in 0..passes {
        pass(n, &mut lat[0], &mut busy[0], |i| gov.decide(i));
        pass(n, &mut lat[1], &mut busy[1], |i| cedar.decide(i));
        pass(n, &mut lat[2], &mut busy[2], |i| rego.decide(i));
    }
    let stats: Vec<Stats> = lat.iter_mut().zip(busy).map(|(l, b)| Stats::of(l, b)).collect();
    println!(
        "\nper-request latency, single thread, {} decisions per engine ({n} requests x {passes} passes, interleaved):",
        n * passes
    );
    println!(
        "  {:<8} {:>10} {:>10} {:>10} {:>10} {:>14}",
        "engine", "p50", "p99", "mean", "max", "decisions/s"
    );
    for (name, s) in ["gov", "cedar", "regorus"].iter().zip(&stats) {
        println!(
            "  {name:<8} {:>10} {:>10} {:>10} {:>10} {:>14.0}",
            us(s.p50),
            us(s.p99),
            us(s.mean),
            us(s.max),
            s.per_sec
        );
    }
    let (g, c, r) = (&stats[0], &stats[1], &stats[2]);
    println!("\nratios (how many times faster gov is; > 1 = gov faster):");
    println!(
        "  gov vs cedar:   p50 {:.2}x  p99 {:.2}x  mean {:.2}x",
        c.p50 / g.p50,
        c.p99 / g.p99,
        c.mean / g.mean
    );
    println!(
        "  gov vs regorus: p50 {:.1}x  p99 {:.1}x  mean {:.1}x",
        r.p50 / g.p50,
        r.p99 / g.p99,
        r.mean / g.mean
    );
    let targets = [
        ("gov p50 < 2 us", g.p50 < 2_000.0),
        ("gov p99 < 20 us", g.p99 < 20_000.0),
        ("gov at least as fast as cedar (p50)", g.p50 <= c.p50),
        ("gov 20x faster than regorus (p50)", r.p50 >= 20.0 * g.p50),
    ];
    println!("\ntargets (issue #7):");
    for (what, met) in targets {
        println!("  {what}: {}", if met { "met" } else { "MISSED" });
    }
    Ok(ExitCode::SUCCESS)
}

/// Why three verdicts differ, if they do: the effect, and the reasons of
/// the deciding kind (deny reasons for a deny, allow reasons for an allow:
/// Cedar only reports the policies that determined its answer).
fn disagreement(g: &Verdict, c: &Verdict, r: &Verdict) -> Option<String> {
    if g.effect != c.effect || g.effect != r.effect {
        return Some(format!(
            "effects differ: gov {}, cedar {}, regorus {}",
            g.effect.as_str(),
            c.effect.as_str(),
            r.effect.as_str()
        ));
    }
    let pick = |v: &Verdict, kind: &str| {
        v.reasons.iter().filter(|s| s.starts_with(kind)).cloned().collect::<Vec<_>>()
    };
    match g.effect {
        // Every deny clause that holds, from each engine.
        Effect::Deny => {
            let (gr, cr, rr) = (pick(g, "deny: "), pick(c, "deny: "), pick(r, "deny: "));
            if gr != cr || gr != rr {
                return Some(format!(
                    "deny reasons differ: gov {gr:?}, cedar {cr:?}, regorus {rr:?}"
                ));
            }
        }
        // gov reports the first allow clause that holds; Cedar and Rego all of them.
        Effect::Allow => {
            let (gr, cr, rr) = (pick(g, "allow: "), pick(c, "allow: "), pick(r, "allow: "));
            if gr.len() != 1 || cr != rr || !cr.contains(&gr[0]) {
                return Some(format!(
                    "allow reasons differ: gov {gr:?}, cedar {cr:?}, regorus {rr:?}"
                ));
            }
        }
        Effect::ApprovalRequired | Effect::NotPermitted => {}
    }
    None
}

fn pass(n: usize, out: &mut Vec<u64>, busy: &mut Duration, mut f: impl FnMut(usize) -> Effect) {
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        black_box(f(black_box(i)));
        out.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    *busy += start.elapsed();
}

/// Latencies in nanoseconds.
struct Stats {
    p50: f64,
    p99: f64,
    mean: f64,
    max: f64,
    per_sec: f64,
}

impl Stats {
    fn of(lat: &mut [u64], busy: Duration) -> Stats {
        lat.sort_unstable();
        let at = |q: f64| {
            lat.get(((lat.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0) as f64
        };
        let mean = lat.iter().sum::<u64>() as f64 / lat.len().max(1) as f64;
        Stats {
            p50: at(0.50),
            p99: at(0.99),
            mean,
            max: lat.last().copied().unwrap_or(0) as f64,
            per_sec: lat.len() as f64 / busy.as_secs_f64(),
        }
    }
}

fn us(ns: f64) -> String {
    if ns >= 100_000.0 {
        format!("{:.0} us", ns / 1000.0)
    } else {
        format!("{:.2} us", ns / 1000.0)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
