//! Plugin call overhead and scaling.
//!
//! - overhead: the same check, `not starts_with(id.name, "zzz")`, as a
//!   built-in and as a call of a WebAssembly plugin (WAT, one short string
//!   argument), each a one-rule audit over N identities on one thread, best
//!   of 5. The difference divided by N is the plugin's overhead per call.
//! - scaling: the plugin rule over N identities on 1 and 2 threads (rayon
//!   pools), best of 3; the ratio is the speed-up, next to the built-in
//!   rule's speed-up in the same run (the baseline on a shared machine).
//!
//! N is 1,000,000 (`GOV_BENCH_IDENTITIES` overrides). Run with
//! `cargo bench --bench plugins`. Compare only figures from one run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use gov::check::{Options, compile};
use gov::eval::{AuditOptions, audit};
use gov::ingest::{LoadOptions, load_sources};
use gov::source::SourceFile;
use gov::time::Timestamp;

// The same allocator as the `gov` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `not_zzz(name) -> bool`: true unless the name starts with `zzz`, like the built-in.
const PLUGIN: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "gov_abi_version") (result i32) (i32.const 1))
  (func (export "gov_alloc") (param $len i32) (result i32)
    (if (i32.gt_u (i32.add (local.get $len) (i32.const 1024)) (i32.const 65536))
      (then (return (i32.const -1))))
    (i32.const 1024))
  (func (export "not_zzz") (param $p i32) (param $n i32) (result i32)
    (if (i32.lt_u (local.get $n) (i32.const 3)) (then (return (i32.const 1))))
    (i32.eqz
      (i32.and
        (i32.eq (i32.load8_u (local.get $p)) (i32.const 122))
        (i32.and
          (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 122))
          (i32.eq (i32.load8_u offset=2 (local.get $p)) (i32.const 122)))))))"#;

const POLICY: &str = r#"plugin names = "names.wat" {
  fn not_zzz(name: string) -> bool
}

rule builtin-check {
  for id: identity where id has name
  require not starts_with(id.name, "zzz")
}

rule plugin-check {
  for id: identity where id has name
  require names.not_zzz(id.name)
}
"#;

fn inventory(n: usize) -> String {
    let teams = ["billing", "search", "data", "platform", "ml"];
    let mut s = String::with_capacity(n * 110);
    s.push_str(r#"{"format": "gov.inventory/v1", "nodes": ["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let team = teams[i % teams.len()];
        let _ = write!(
            s,
            r#"{{"id": "id-{i}", "kind": "identity", "attrs": {{"type": "service_account", "name": "{team}-svc-{i}"}}}}"#
        );
    }
    s.push_str("]}");
    s
}

fn best(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut checked = 0;
    for _ in 0..runs {
        let t = Instant::now();
        checked = f();
        best = best.min(t.elapsed());
    }
    (best, checked)
}

fn main() {
    let n: usize = std::env::var("GOV_BENCH_IDENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let now = Timestamp::parse("2026-11-22").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("names.wat"), PLUGIN).unwrap();
    let policy_path = dir.path().join("bench.gov");

    let t = Instant::now();
    let inv = SourceFile::new("bench.json", inventory(n));
    let graph = load_sources(vec![inv], &LoadOptions::default()).unwrap().graph;
    println!("inventory: {n} identities, loaded in {:.1?}", t.elapsed());

    let t = Instant::now();
    let parsed =
        gov::syntax::parse(&SourceFile::new(policy_path.display().to_string(), POLICY)).unwrap();
    let program = compile(&[parsed], graph.schema(), &Options { now }).unwrap().program;
    println!("compile (plugin module compiled by wasmtime): {:.1?}", t.elapsed());

    let run = |rule: &str, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let opts = AuditOptions {
            now: Some(now),
            rules: vec![rule.to_owned()],
            entity: None,
            walk_limit: None,
        };
        let (program, graph) = (&program, &graph);
        let rule = rule.to_owned();
        move || {
            let a = pool.install(|| audit(program, graph, &opts));
            assert_eq!(a.rules[0].failed + a.rules[0].errors, 0, "{rule}: every check passes");
            a.rules[0].checked
        }
    };

    let (builtin, checked) = best(5, run("builtin-check", 1));
    let (plugin, checked_p) = best(5, run("plugin-check", 1));
    assert_eq!(checked, checked_p);
    let per = |d: Duration| d.as_secs_f64() * 1e9 / checked as f64;
    println!("\noverhead, 1 thread, {checked} checks, best of 5:");
    println!("  built-in  {:>8.1?}  {:>6.1} ns/check", builtin, per(builtin));
    println!("  plugin    {:>8.1?}  {:>6.1} ns/check", plugin, per(plugin));
    println!(
        "  plugin overhead per call: {:.1} ns (plugin / built-in = {:.2}x)",
        per(plugin) - per(builtin),
        plugin.as_secs_f64() / builtin.as_secs_f64()
    );

    // The built-in rule's scaling in the same run is the baseline: on a
    // shared machine the cores may not be free.
    println!("\nscaling over {checked} entities, best of 3:");
    for rule in ["builtin-check", "plugin-check"] {
        let (one, _) = best(3, run(rule, 1));
        let (two, _) = best(3, run(rule, 2));
        println!(
            "  {rule:<14} 1 thread {:>8.1?}   2 threads {:>8.1?}   speed-up {:.2}x",
            one,
            two,
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
}
