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
    let Agreement { mix, fired, disagreements } = agreement(&gov, &cedar, &mut rego, &requests);
    if !disagreements.is_empty() {
        for d in disagreements.iter().take(10) {
            eprintln!("{d}");
        }
        eprintln!(
            "\n{} of {} requests decided differently: no timing",
            disagreements.len(),
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
    let mut clock = [Clock::default(); 3];
    // Warm-up: one pass each (caches, branch predictors, lazy state).
    for i in 0..n {
        black_box(gov.decide(i));
        black_box(cedar.decide(i));
        black_box(rego.decide(i));
    }
    for _ in 0..passes {
        pass(n, &mut lat[0], &mut clock[0], |i| gov.decide(i));
        pass(n, &mut lat[1], &mut clock[1], |i| cedar.decide(i));
        pass(n, &mut lat[2], &mut clock[2], |i| rego.decide(i));
    }
    if std::env::var_os("COMPARE_VERBOSE").is_some() {
        // The slowest requests of each engine (last pass), to explain a tail.
        for (e, l) in ["gov", "cedar", "regorus"].iter().zip(&lat) {
            let last = l.get(l.len() - n..).unwrap_or(&[]);
            let mut by: Vec<(u64, usize)> = last.iter().copied().zip(0..).collect();
            by.sort_unstable_by(|a, b| b.cmp(a));
            let slow: Vec<String> =
                by.iter().take(5).map(|(t, i)| format!("#{i} {t} ns")).collect();
            println!("slowest {e}: {}", slow.join(", "));
        }
    }
    let stats: Vec<Stats> = lat.iter_mut().zip(clock).map(|(l, c)| Stats::of(l, c)).collect();
    println!(
        "\nper-request latency, single thread, {} decisions per engine ({n} requests x {passes} passes, interleaved):",
        n * passes
    );
    println!(
        "  {:<8} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>7}",
        "engine", "p50", "p99", "mean", "max", "decisions/s", "CPU/decision", "on CPU"
    );
    for (name, s) in ["gov", "cedar", "regorus"].iter().zip(&stats) {
        println!(
            "  {name:<8} {:>10} {:>10} {:>10} {:>10} {:>12.0} {:>12} {:>6.0}%",
            us(s.p50),
            us(s.p99),
            us(s.mean),
            us(s.max),
            s.per_sec,
            us(s.cpu),
            s.on_cpu * 100.0
        );
    }
    let overhead = timer_overhead();
    println!(
        "  (wall-clock figures include the timer, {:.0} ns per call; CPU/decision is the thread's \
         CPU time over the passes, which contention from other processes inflates much less)",
        overhead
    );
    let (g, c, r) = (&stats[0], &stats[1], &stats[2]);
    println!("\nratios (how many times faster gov is; > 1 = gov faster):");
    for (other, o) in [("cedar  ", c), ("regorus", r)] {
        println!(
            "  gov vs {other}: p50 {:.1}x  p99 {:.1}x  mean {:.1}x  CPU/decision {:.1}x",
            o.p50 / g.p50,
            o.p99 / g.p99,
            o.mean / g.mean,
            o.cpu / g.cpu
        );
    }
    let targets = [
        ("gov at least as fast as cedar (p50)", g.p50 <= c.p50),
        ("gov 20x faster than regorus (p50)", r.p50 >= 20.0 * g.p50),
        ("gov p99 < 20 us", g.p99 < 20_000.0),
    ];
    println!("\ntargets:");
    for (what, met) in targets {
        println!("  {what}: {}", if met { "met" } else { "MISSED" });
    }
    // The absolute p50 target is the decide benchmark's: here the other two
    // engines run between gov's requests and evict the lines gov would
    // find in cache, and the requests are built up front.
    println!(
        "  gov p50 < 2 us: measured by `cargo bench --bench decide` in the gov crate \
         (here {:.2} us, interleaved with the other engines)",
        g.p50 / 1000.0
    );
    Ok(ExitCode::SUCCESS)
}

/// What the three engines said about the request list.
struct Agreement {
    /// Requests by effect.
    mix: BTreeMap<&'static str, usize>,
    /// Every clause that holds (from Rego, which computes all of them), by
    /// how many requests it holds for.
    fired: BTreeMap<String, usize>,
    /// One report per request decided differently (or that an engine failed on).
    disagreements: Vec<String>,
}

/// Decides every request with the three engines and compares the verdicts.
fn agreement(gov: &Gov, cedar: &Cedar, rego: &mut Rego, requests: &[data::Req]) -> Agreement {
    let mut out =
        Agreement { mix: BTreeMap::new(), fired: BTreeMap::new(), disagreements: Vec::new() };
    for (i, request) in requests.iter().enumerate() {
        let g = gov.verdict(i);
        let c = cedar.verdict(i);
        let r = rego.verdict(i);
        let problem = match (&g, &c, &r) {
            (Ok(g), Ok(c), Ok(r)) => {
                *out.mix.entry(g.effect.as_str()).or_default() += 1;
                for reason in &r.reasons {
                    *out.fired.entry(reason.clone()).or_default() += 1;
                }
                disagreement(g, c, r)
            }
            _ => Some("an engine failed".to_owned()),
        };
        if let Some(problem) = problem {
            out.disagreements.push(format!(
                "DISAGREEMENT on request {i} {request:?}: {problem}\n  gov:     {g:?}\n  cedar:   {c:?}\n  regorus: {r:?}"
            ));
        }
    }
    out
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

/// One timed pass over the requests: the wall-clock latency of each call
/// into `out`, the pass's wall and thread CPU time into `clock`.
fn pass(n: usize, out: &mut Vec<u64>, clock: &mut Clock, mut f: impl FnMut(usize) -> Effect) {
    let cpu = thread_cpu_ns();
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        black_box(f(black_box(i)));
        out.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    clock.wall += start.elapsed();
    clock.cpu_ns += thread_cpu_ns().saturating_sub(cpu);
}

#[derive(Clone, Copy, Default)]
struct Clock {
    wall: Duration,
    cpu_ns: u64,
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID
    // is supported on Linux; on failure `ts` stays zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

/// Latencies in nanoseconds.
struct Stats {
    p50: f64,
    p99: f64,
    mean: f64,
    max: f64,
    per_sec: f64,
    /// Thread CPU time per decision (includes the two `Instant::now` calls).
    cpu: f64,
    /// Share of the wall time the thread was on a CPU.
    on_cpu: f64,
}

impl Stats {
    fn of(lat: &mut [u64], clock: Clock) -> Stats {
        lat.sort_unstable();
        let at = |q: f64| {
            lat.get(((lat.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0) as f64
        };
        let count = lat.len().max(1) as f64;
        Stats {
            p50: at(0.50),
            p99: at(0.99),
            mean: lat.iter().sum::<u64>() as f64 / count,
            max: lat.last().copied().unwrap_or(0) as f64,
            per_sec: count / clock.wall.as_secs_f64(),
            cpu: clock.cpu_ns as f64 / count,
            on_cpu: clock.cpu_ns as f64 / 1e9 / clock.wall.as_secs_f64(),
        }
    }
}

/// The cost of the two `Instant::now` calls around each timed call.
fn timer_overhead() -> f64 {
    let rounds = 100_000u32;
    let start = Instant::now();
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(t.elapsed());
    }
    start.elapsed().as_nanos() as f64 / f64::from(rounds)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The three encodings decide alike on a small graph, every clause of
    /// the decision holds for some request, and all four effects occur.
    #[test]
    fn engines_agree_and_every_clause_matters() {
        let now = gov::time::Timestamp::parse("2026-11-23").unwrap().0;
        let world = data::World::generate(10_000, 7, now);
        let requests = world.requests(2_000, 7);
        assert!(world.max_membership_depth() <= 4);
        let mut steps = Setup::new();
        let gov = Gov::setup(&world, GOV_POLICY, &requests, &mut steps).unwrap();
        let cedar = Cedar::setup(&world, CEDAR_POLICY, &requests, &mut steps).unwrap();
        let mut rego = Rego::setup(&world, REGO_POLICY, &requests, &mut steps).unwrap();
        let a = agreement(&gov, &cedar, &mut rego, &requests);
        assert!(a.disagreements.is_empty(), "{}", a.disagreements.join("\n"));
        assert_eq!(a.mix.len(), 4, "effects: {:?}", a.mix);
        let clauses = CEDAR_POLICY.lines().filter(|l| l.starts_with("@clause(")).count();
        assert_eq!(clauses, 20);
        assert_eq!(a.fired.len(), clauses, "clauses that hold: {:?}", a.fired);
    }

    /// A disagreement is found: a Cedar policy set without the first deny
    /// clause decides some requests differently from gov and Rego.
    #[test]
    fn a_changed_policy_is_a_disagreement() {
        let now = gov::time::Timestamp::parse("2026-11-23").unwrap().0;
        let world = data::World::generate(2_000, 3, now);
        let requests = world.requests(1_000, 3);
        let weaker =
            CEDAR_POLICY.replacen("context.credential.expires_at < context.now", "false", 1);
        assert_ne!(weaker, CEDAR_POLICY);
        let mut steps = Setup::new();
        let gov = Gov::setup(&world, GOV_POLICY, &requests, &mut steps).unwrap();
        let cedar = Cedar::setup(&world, &weaker, &requests, &mut steps).unwrap();
        let mut rego = Rego::setup(&world, REGO_POLICY, &requests, &mut steps).unwrap();
        let a = agreement(&gov, &cedar, &mut rego, &requests);
        assert!(!a.disagreements.is_empty());
        assert!(a.disagreements[0].contains("credential expired"), "{}", a.disagreements[0]);
    }

    #[test]
    fn same_seed_same_bytes() {
        let a = data::World::generate(500, 5, 0);
        let b = data::World::generate(500, 5, 0);
        assert_eq!(a.gov_inventory(), b.gov_inventory());
        assert_eq!(a.cedar_entities(), b.cedar_entities());
        assert_eq!(a.rego_data(), b.rego_data());
        assert_ne!(a.gov_inventory(), data::World::generate(500, 6, 0).gov_inventory());
    }
}
