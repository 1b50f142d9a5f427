//! A plugin call with scalar arguments, or with a short string borrowed from
//! the graph, allocates nothing on the host once the worker's instance
//! exists: a gateway calling a plugin per request pays no allocator. A
//! counting global allocator makes that checkable; it lives in
//! its own test binary so that it counts nothing else.
#![cfg(feature = "plugins")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use gov::eval::engine::{Frame, Interpreter};
use gov::ir::value::Value;
use gov::source::SourceFile;
use gov::time::Timestamp;

const MODULE: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "gov_abi_version") (result i32) (i32.const 1))
  (func (export "gov_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "len") (param i32 i32) (result i64) (i64.extend_i32_u (local.get 1))))"#;

fn allocations_in_1000_calls(filter: &str) -> usize {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.wasm"), wat::parse_str(MODULE).unwrap()).unwrap();
    let policy = format!(
        "plugin k = \"k.wasm\" {{\n  fn add(a: int, b: int) -> int\n  fn len(s: string) -> int\n}}\n\nrule r {{\n  for id: identity where {filter}\n  require true\n}}\n"
    );
    let inv = SourceFile::new(
        "inv.json",
        r#"{"format": "gov.inventory/v1", "nodes": [{"id": "a", "kind": "identity", "attrs": {"type": "bot", "name": "billing-exporter"}}]}"#,
    );
    let graph = gov::ingest::load_sources(vec![inv], &Default::default()).unwrap().graph;
    let name = dir.path().join("p.gov").display().to_string();
    let parsed = gov::syntax::parse(&SourceFile::new(name, policy)).unwrap();
    let now = Timestamp::parse("2026-11-22").unwrap();
    let program = gov::check::compile(&[parsed], graph.schema(), &gov::check::Options { now })
        .unwrap()
        .program;
    let rule = &program.rules[0];
    let filter = rule.filter.as_ref().unwrap();
    let engine = Interpreter::new(&program, &graph, now);
    let n = graph.lookup("a").unwrap();
    let mut f = Frame::new(rule.frame, n);
    f.set(rule.var, Value::Node(n));
    // The first call instantiates the module for this frame.
    assert_eq!(engine.eval(filter, &mut f).unwrap(), Value::Bool(true));
    let mut ok = true;
    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            ok &= engine.eval(filter, &mut f).unwrap() == Value::Bool(true);
        }
    });
    assert!(ok);
    usize::try_from(info.count_total).unwrap()
}

#[test]
fn scalar_and_short_string_calls_do_not_allocate() {
    // The measurement sees allocations: the same loop around a call that
    // allocates (a string result) is not zero.
    assert!(allocations_in_1000_calls("id has name and lower(id.name) != \"\"") >= 1000);
    assert_eq!(allocations_in_1000_calls("k.add(40, 2) == 42"), 0);
    assert_eq!(allocations_in_1000_calls("id has name and k.len(id.name) == 16"), 0);
}
