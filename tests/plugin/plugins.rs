//! WebAssembly plugins: check-time diagnostics on the declaration,
//! hostile modules that must end in an error finding within their limits
//! while the rest of the audit completes, and the two example plugins.
//!
//! Modules are built from WAT with the `wat` crate; no test needs the
//! `wasm32-unknown-unknown` target (the Rust example's `.wasm` is committed).
#![cfg(feature = "plugins")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;

use gov::Diagnostics;
use gov::check::{Compiled, Options, compile_with};
use gov::diag::Code;
use gov::eval::{Audit, AuditOptions, FindingKind, audit};
use gov::plugin::{Host, HostOptions, Limits, Loader};
use gov::source::SourceFile;
use gov::time::Timestamp;

const NOW: &str = "2026-11-22";

/// Limits small enough that every hostile test ends fast.
fn limits() -> Limits {
    Limits { fuel: 2_000_000, memory: 4 << 20, stack: 256 << 10, max_output: 1 << 20 }
}

fn host() -> Host {
    Host::new(&HostOptions { limits: limits(), cache_dir: None }).unwrap()
}

/// A module with the ABI's required exports around `body`. `gov_alloc`
/// always hands out offset 1024.
fn module(body: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "gov_abi_version") (result i32) (i32.const 1))
  (func (export "gov_alloc") (param i32) (result i32) (i32.const 1024))
  {body})"#
    )
}

/// `check(name: string) -> bool`: names starting with `x` run `hostile`,
/// names starting with `f` fail, the rest pass.
fn hostile_check(hostile: &str, extra: &str) -> String {
    module(&format!(
        r#"
  (func (export "check") (param $p i32) (param $n i32) (result i32)
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 120)) (then {hostile}))
    (i32.ne (i32.load8_u (local.get $p)) (i32.const 102)))
  {extra}"#
    ))
}

/// Writes the policy and the modules (WAT text compiled to `.wasm` binaries)
/// into a fresh directory and compiles the policy with `loader`.
fn compile_in(
    dir: &Path,
    policy: &str,
    modules: &[(&str, &[u8])],
    loader: &dyn Loader,
) -> (Result<Compiled, Diagnostics>, gov::graph::Graph, String) {
    for (name, bytes) in modules {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let inv = dir.join("inventory.json");
    std::fs::write(
        &inv,
        r#"{"format": "gov.inventory/v1", "nodes": [
          {"id": "a-good", "kind": "identity", "attrs": {"type": "service_account", "name": "good"}},
          {"id": "b-bad", "kind": "identity", "attrs": {"type": "service_account", "name": "xbad"}},
          {"id": "c-fail", "kind": "identity", "attrs": {"type": "service_account", "name": "fail"}},
          {"id": "d-good", "kind": "identity", "attrs": {"type": "service_account", "name": "good too"}},
          {"id": "e-bad", "kind": "identity", "attrs": {"type": "service_account", "name": "xbad again"}},
          {"id": "f-good", "kind": "identity", "attrs": {"type": "service_account", "name": "last"}}
        ]}"#,
    )
    .unwrap();
    let src = gov::ingest::read_source(&inv).unwrap();
    let graph =
        gov::ingest::load_sources(vec![src], &gov::ingest::LoadOptions::default()).unwrap().graph;
    let name = dir.join("policy.gov").display().to_string();
    let parsed = gov::syntax::parse(&SourceFile::new(name, policy)).unwrap();
    let now = Timestamp::parse(NOW).unwrap();
    let r = compile_with(&[parsed], graph.schema(), &Options { now }, loader);
    (r, graph, policy.to_owned())
}

fn wasm(wat_text: &str) -> Vec<u8> {
    wat::parse_str(wat_text).unwrap()
}

const CHECK_POLICY: &str = r#"plugin h = "h.wasm" {
  fn check(name: string) -> bool
}

rule names-ok {
  for id: identity where id has name
  require h.check(id.name)
}
"#;

/// Audits on one worker thread, so that the entities after a failed call
/// reuse (a re-created instance on) the same worker.
fn audit_one_thread(c: &Compiled, graph: &gov::graph::Graph) -> Audit {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let now = Timestamp::parse(NOW).unwrap();
    pool.install(|| {
        audit(&c.program, graph, &AuditOptions { now: Some(now), ..Default::default() })
    })
}

/// Runs the hostile `check` over the six identities: the two `x...` names
/// must be error findings naming the plugin and `reason`, `fail` a violation,
/// the other three pass.
fn assert_hostile(hostile: &str, extra: &str, reason: &str) {
    let dir = tempfile::tempdir().unwrap();
    let m = wasm(&hostile_check(hostile, extra));
    let (r, graph, _) = compile_in(dir.path(), CHECK_POLICY, &[("h.wasm", &m)], &host());
    let c = r.unwrap_or_else(|d| panic!("{d:?}"));
    let started = std::time::Instant::now();
    let a = audit_one_thread(&c, &graph);
    let took = started.elapsed();
    let s = &a.rules[0];
    assert_eq!((s.checked, s.failed, s.errors), (6, 1, 2), "{:#?}", a.findings);
    let errors: Vec<_> = a.findings.iter().filter(|f| f.kind == FindingKind::Error).collect();
    assert_eq!(errors.iter().map(|f| f.entity.as_str()).collect::<Vec<_>>(), ["b-bad", "e-bad"]);
    for f in &errors {
        assert!(f.message.contains("plugin `h`"), "{}", f.message);
        assert!(f.message.contains(reason), "expected `{reason}` in: {}", f.message);
        assert_eq!(f.condition_loc.text(), "h.check(id.name)");
    }
    let violations: Vec<_> =
        a.findings.iter().filter(|f| f.kind == FindingKind::Violation).collect();
    assert_eq!(violations.iter().map(|f| f.entity.as_str()).collect::<Vec<_>>(), ["c-fail"]);
    // Far above what the limits allow (milliseconds), far below a hang.
    assert!(took.as_secs() < 20, "the audit took {took:?}");
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    assert_hostile("(loop $l (br $l))", "", "ran out of fuel (2000000 units per call)");
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    assert_hostile(
        "(loop $l (drop (memory.grow (i32.const 1))) (br $l))",
        "",
        "exceeded its memory limit of 4194304 bytes",
    );
}

#[test]
fn deep_recursion_overflows_the_stack() {
    assert_hostile(
        "(drop (call $down (i64.const 0)))",
        "(func $down (param i64) (result i64) (call $down (i64.add (local.get 0) (i64.const 1))))",
        "overflowed its stack",
    );
}

#[test]
fn trap_is_an_error_finding() {
    assert_hostile("(unreachable)", "", "trapped: wasm `unreachable` instruction executed");
}

#[test]
fn out_of_bounds_memory_access_is_an_error_finding() {
    assert_hostile(
        "(drop (i32.load (i32.const 0x7ffffff0)))",
        "",
        "trapped: out of bounds memory access",
    );
}

#[test]
fn bool_outside_zero_and_one_is_a_malformed_return() {
    assert_hostile(
        "(return (i32.const 7))",
        "",
        "reported an error (it exports no `gov_last_error` to say which)",
    );
}

#[test]
fn reported_error_carries_the_plugin_message() {
    assert_hostile(
        "(return (i32.const -1))",
        r#"(data (i32.const 16) "vendored list is stale")
           (func (export "gov_last_error") (result i64) (i64.const 0x1000000016))"#,
        "reported an error: vendored list is stale",
    );
}

/// A plugin returning strings: `name(s) -> string` with a chosen bad result
/// for names starting with `x`.
fn assert_bad_string(result: &str, extra: &str, reason: &str) {
    let dir = tempfile::tempdir().unwrap();
    let m = wasm(&module(&format!(
        r#"
  (func (export "echo") (param $p i32) (param $n i32) (result i64)
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 120)) (then (return {result})))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $n))))
  {extra}"#
    )));
    let policy = r#"plugin s = "s.wasm" {
  fn echo(name: string) -> string
}

rule echo-is-name {
  for id: identity where id has name
  require s.echo(id.name) == id.name and id.name != "fail"
}
"#;
    let (r, graph, _) = compile_in(dir.path(), policy, &[("s.wasm", &m)], &host());
    let c = r.unwrap_or_else(|d| panic!("{d:?}"));
    let a = audit_one_thread(&c, &graph);
    let s = &a.rules[0];
    assert_eq!((s.checked, s.failed, s.errors), (6, 1, 2), "{:#?}", a.findings);
    for f in a.findings.iter().filter(|f| f.kind == FindingKind::Error) {
        assert!(f.entity.ends_with("-bad"), "{}", f.entity);
        assert!(f.message.contains("plugin `s`"), "{}", f.message);
        assert!(f.message.contains(reason), "expected `{reason}` in: {}", f.message);
    }
}

#[test]
fn string_result_outside_memory_is_rejected() {
    assert_bad_string(
        "(i64.or (i64.shl (i64.const 0xfff0) (i64.const 32)) (i64.const 100))",
        "",
        "returned bytes 65520..65620 outside its memory of 65536 bytes",
    );
}

#[test]
fn string_result_that_is_not_utf8_is_rejected() {
    assert_bad_string(
        "(i64.const 3)",
        r#"(data (i32.const 0) "\ff\fe\fd")"#,
        "returned a string that is not UTF-8",
    );
}

#[test]
fn huge_output_is_capped() {
    assert_bad_string(
        "(i64.const 0x200000)",
        "",
        "returned 2097152 bytes, more than the limit of 1048576",
    );
}

#[test]
fn gov_alloc_returning_garbage_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let m = wasm(
        r#"(module
  (memory (export "memory") 1)
  (func (export "gov_abi_version") (result i32) (i32.const 1))
  (func (export "gov_alloc") (param i32) (result i32) (i32.const -16))
  (func (export "check") (param i32 i32) (result i32) (i32.const 1)))"#,
    );
    let (r, graph, _) = compile_in(dir.path(), CHECK_POLICY, &[("h.wasm", &m)], &host());
    let a = audit_one_thread(&r.unwrap(), &graph);
    assert_eq!(a.rules[0].errors, 6);
    assert!(a.findings[0].message.contains("outside its memory"), "{}", a.findings[0].message);
}

/// Check-time problems: the error's code, message and the text its label
/// underlines.
fn assert_diag(policy: &str, modules: &[(&str, &[u8])], code: Code, message: &str, under: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (r, _, text) = compile_in(dir.path(), policy, modules, &host());
    let diags = r.expect_err("the policy must not compile");
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "one root cause, one error: {errors:#?}");
    let d = errors[0];
    assert_eq!(d.code, code, "{d:#?}");
    assert!(d.message.contains(message), "expected `{message}` in: {}", d.message);
    let span = d.labels[0].span;
    assert_eq!(&text[span.start..span.end], under, "{d:#?}");
    if matches!(code, Code::PluginLoad | Code::PluginSignature) {
        assert!(d.help.is_some(), "{d:#?}");
    }
}

#[test]
fn missing_file_is_a_diagnostic_on_the_path() {
    assert_diag(CHECK_POLICY, &[], Code::PluginLoad, "cannot read plugin module", "\"h.wasm\"");
}

#[test]
fn invalid_module_is_a_diagnostic_on_the_path() {
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", b"\0asm\x01\0\0\0garbage")],
        Code::PluginLoad,
        "is not a valid WebAssembly module",
        "\"h.wasm\"",
    );
}

#[test]
fn module_with_imports_is_refused() {
    // Imports come first in a module's text.
    let m = wasm(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "gov_abi_version") (result i32) (i32.const 1))
  (func (export "gov_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "check") (param i32 i32) (result i32) (i32.const 1)))"#,
    );
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", &m)],
        Code::PluginLoad,
        "imports `wasi_snapshot_preview1::fd_write` (a function)",
        "\"h.wasm\"",
    );
}

#[test]
fn wrong_abi_version_is_refused() {
    let m = wasm(
        r#"(module
  (memory (export "memory") 1)
  (func (export "gov_abi_version") (result i32) (i32.const 2))
  (func (export "gov_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "check") (param i32 i32) (result i32) (i32.const 1)))"#,
    );
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", &m)],
        Code::PluginLoad,
        "speaks ABI version 2; this gov speaks version 1",
        "\"h.wasm\"",
    );
}

#[test]
fn missing_version_export_is_refused() {
    let m = wasm(
        r#"(module
  (memory (export "memory") 1)
  (func (export "gov_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "check") (param i32 i32) (result i32) (i32.const 1)))"#,
    );
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", &m)],
        Code::PluginLoad,
        "`gov_abi_version` is not exported",
        "\"h.wasm\"",
    );
}

#[test]
fn start_function_that_loops_fails_at_check_time() {
    let m = wasm(&module(
        r#"(func $spin (loop $l (br $l))) (start $spin)
           (func (export "check") (param i32 i32) (result i32) (i32.const 1))"#,
    ));
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", &m)],
        Code::PluginLoad,
        "fails to start: ran out of fuel",
        "\"h.wasm\"",
    );
}

#[test]
fn missing_export_is_a_diagnostic_on_the_function() {
    let m = wasm(&module(r#"(func (export "other") (param i32 i32) (result i32) (i32.const 1))"#));
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", &m)],
        Code::PluginSignature,
        "plugin function `h.check` is not exported",
        "fn check(name: string) -> bool",
    );
}

#[test]
fn wrong_signature_is_a_diagnostic_on_the_function() {
    let m = wasm(&module(r#"(func (export "check") (param i64) (result i32) (i32.const 1))"#));
    assert_diag(
        CHECK_POLICY,
        &[("h.wasm", &m)],
        Code::PluginSignature,
        "is exported as `(i64) -> (i32)`, the ABI needs `(i32, i32) -> (i32)`",
        "fn check(name: string) -> bool",
    );
}

#[test]
fn optional_plugin_type_is_refused() {
    let policy = r#"plugin h = "h.wasm" {
  fn check(name: string?) -> bool
}
"#;
    assert_diag(policy, &[], Code::PluginSignature, "cannot be optional", "string?");
}

#[test]
fn build_without_plugin_support_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (r, _, text) = compile_in(dir.path(), CHECK_POLICY, &[], &gov::plugin::Unavailable);
    let diags = r.err().unwrap();
    let d = diags.iter().next().unwrap();
    assert_eq!(d.code, Code::PluginUnavailable);
    assert!(d.message.contains("this build of gov has no plugin support"), "{}", d.message);
    assert!(d.help.as_deref().unwrap().contains("--features plugins"));
    assert_eq!(&text[d.labels[0].span.start..d.labels[0].span.end], "\"h.wasm\"");
    // One root cause: the call of the unloaded plugin is not reported again.
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 1);
}

fn good_module() -> Vec<u8> {
    wasm(&hostile_check("(unreachable)", ""))
}

#[test]
fn calls_are_typed_like_functions() {
    let m = good_module();
    let wrong_type = r#"plugin h = "h.wasm" {
  fn check(name: string) -> bool
}

rule r {
  for id: identity
  require h.check(42)
}
"#;
    assert_diag(
        wrong_type,
        &[("h.wasm", &m)],
        Code::TypeMismatch,
        "expects `string`, found `int`",
        "42",
    );
    let arity = wrong_type.replace("h.check(42)", "h.check(\"a\", \"b\")");
    assert_diag(
        &arity,
        &[("h.wasm", &m)],
        Code::WrongArity,
        "`h.check` takes 1 argument, found 2",
        "h.check(\"a\", \"b\")",
    );
    let unknown = wrong_type.replace("h.check(42)", "h.chek(\"a\")");
    assert_diag(
        &unknown,
        &[("h.wasm", &m)],
        Code::UnknownFunction,
        "plugin `h` declares no function `chek`",
        "chek",
    );
    let optional = wrong_type.replace("h.check(42)", "h.check(id.name)");
    assert_diag(
        &optional,
        &[("h.wasm", &m)],
        Code::OptionalWithoutGuard,
        "expects `string`, found `string?`",
        "id.name",
    );
    let result = wrong_type.replace("h.check(42)", "h.check(\"a\") + 1");
    assert_diag(
        &result,
        &[("h.wasm", &m)],
        Code::TypeMismatch,
        "`+` does not apply to `bool` and `int`",
        "h.check(\"a\") + 1",
    );
}

/// Scalars of every ABI type cross both ways, and lists cross as JSON.
#[test]
fn scalar_and_list_types_cross_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let m = wasm(&module(
        r#"
  (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "half") (param f64) (result f64) (f64.div (local.get 0) (f64.const 2)))
  (func (export "flip") (param i32) (result i32) (i32.eqz (local.get 0)))
  (func (export "later") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  ;; Returns its JSON argument unchanged: the host parses what it wrote.
  (func (export "same") (param $p i32) (param $n i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $n))))"#,
    ));
    let policy = r#"plugin k = "k.wasm" {
  fn add(a: int, b: int) -> int
  fn half(x: float) -> float
  fn flip(b: bool) -> bool
  fn later(t: timestamp, d: duration) -> timestamp
  fn same(xs: [string]) -> [string]
}

rule types-cross {
  for id: identity where id has name
  require k.add(40, 2) == 42
  require k.half(5) == 2.5
  require k.flip(false)
  require k.later(2026-01-01, 1d) == 2026-01-02
  require k.same(["a", id.name, "q\"uote"]) == ["a", id.name, "q\"uote"]
  require id.name != "fail"
}
"#;
    let (r, graph, _) = compile_in(dir.path(), policy, &[("k.wasm", &m)], &host());
    let c = r.unwrap_or_else(|d| panic!("{d:?}"));
    let a = audit_one_thread(&c, &graph);
    let s = &a.rules[0];
    assert_eq!((s.checked, s.failed, s.errors), (6, 1, 0), "{:#?}", a.findings);
}

/// Several worker threads, each with its own instances, give the same findings.
#[test]
fn parallel_audit_matches_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let m = good_module();
    let (r, graph, _) = compile_in(dir.path(), CHECK_POLICY, &[("h.wasm", &m)], &host());
    let c = r.unwrap();
    let one = audit_one_thread(&c, &graph);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    let now = Timestamp::parse(NOW).unwrap();
    let many = pool.install(|| {
        audit(&c.program, &graph, &AuditOptions { now: Some(now), ..Default::default() })
    });
    let key = |a: &Audit| {
        a.findings.iter().map(|f| (f.entity.clone(), f.kind, f.message.clone())).collect::<Vec<_>>()
    };
    assert_eq!(key(&one), key(&many));
}

/// Findings' text is built by evaluating a failing rule again. A plugin that
/// keeps state between calls (here: `check` fails on its second call only)
/// can pass the second time; the finding is kept, as the audit counted it,
/// and says why it has no evidence.
#[test]
fn stateful_plugin_keeps_its_finding_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let m = wasm(&module(
        r#"
  (global $calls (mut i32) (i32.const 0))
  (func (export "check") (param $p i32) (param $n i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.ne (global.get $calls) (i32.const 2)))"#,
    ));
    let (r, graph, _) = compile_in(dir.path(), CHECK_POLICY, &[("h.wasm", &m)], &host());
    let c = r.unwrap_or_else(|d| panic!("{d:?}"));
    let a = audit_one_thread(&c, &graph);
    let s = &a.rules[0];
    assert_eq!((s.checked, s.failed, s.errors), (6, 1, 0), "{:#?}", a.findings);
    let f = &a.findings[0];
    assert_eq!((f.entity.as_str(), f.kind), ("b-bad", FindingKind::Violation));
    assert!(f.message.contains("keeps state between calls"), "{}", f.message);
    assert!(f.evidence.is_empty());
    assert_eq!(f.condition_loc.text(), "names-ok");
}

/// The on-disk cache: a second host with the same directory reuses the
/// compiled module (the cache directory is filled by the first).
#[test]
fn plugin_cache_directory_is_filled() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let m = good_module();
    let host =
        Host::new(&HostOptions { limits: limits(), cache_dir: Some(cache.clone()) }).unwrap();
    let (r, _, _) = compile_in(dir.path(), CHECK_POLICY, &[("h.wasm", &m)], &host);
    r.unwrap();
    let files = walk(&cache);
    assert!(!files.is_empty(), "no compiled module under {}", cache.display());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The example plugins (WAT and Rust) with their example rules: `gov test`.
#[test]
fn example_plugins_pass_their_tests() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plugins/naming.gov");
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = gov::syntax::parse(&SourceFile::new(path.display().to_string(), text)).unwrap();
    let report = gov::testing::run(&[parsed], &gov::testing::TestOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(report.results.len(), 2);
    for r in &report.results {
        assert!(r.passed, "{}: {:?}", r.name, r.failures);
    }
}

/// `gov test` runs the examples, and `--plugin-fuel` reaches the sandbox.
#[cfg(feature = "cli")]
#[test]
fn cli_runs_the_examples_and_honours_plugin_fuel() {
    let gov = env!("CARGO_BIN_EXE_gov");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plugins");
    let ok = std::process::Command::new(gov).arg("test").arg(&examples).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    let starved = std::process::Command::new(gov)
        .args(["test", "--plugin-fuel", "200"])
        .arg(&examples)
        .output()
        .unwrap();
    assert_eq!(starved.status.code(), Some(1));
    let out = String::from_utf8_lossy(&starved.stdout);
    assert!(out.contains("ran out of fuel (200 units per call)"), "{out}");
}

/// Decisions reuse a thread's plugin instances across requests; after a swap
/// to a program with another module, the new module answers, not the old
/// instance.
#[test]
fn decisions_call_plugins_and_a_new_program_gets_its_own_instances() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory.json");
    std::fs::write(
        &inv,
        r#"{"format": "gov.inventory/v1", "nodes": [
          {"id": "svc-a", "kind": "identity", "attrs": {"type": "service_account", "name": "a"}}
        ]}"#,
    )
    .unwrap();
    let engine_with = |answer: i32, name: &str| {
        let wasm = wat::parse_str(module(&format!(
            r#"(func (export "ok") (param i32 i32) (result i32) (i32.const {answer}))"#
        )))
        .unwrap();
        std::fs::write(dir.path().join(format!("{name}.wasm")), wasm).unwrap();
        let policy = dir.path().join(format!("{name}.gov"));
        std::fs::write(
            &policy,
            format!(
                r#"plugin p = "{name}.wasm" {{
  fn ok(name: string) -> bool
}}

decision gate {{
  input subject: identity
  allow when p.ok(default(subject.name, ""))
}}
"#
            ),
        )
        .unwrap();
        gov::Engine::load(&gov::Sources {
            policies: vec![policy],
            inventories: vec![inv.clone()],
            mapping: None,
        })
        .unwrap()
    };
    let request: gov::Request =
        serde_json::from_str(r#"{"decision": "gate", "input": {"subject": "svc-a"}}"#).unwrap();
    let yes = engine_with(1, "yes");
    let no = engine_with(0, "no");
    for _ in 0..3 {
        assert_eq!(yes.decide(&request).unwrap().effect, gov::Effect::Allow);
        assert_eq!(no.decide(&request).unwrap().effect, gov::Effect::NotPermitted);
    }
}
