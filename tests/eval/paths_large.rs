//! Variable-length path steps over reach sets larger than the evaluator's
//! small-set fast path (a linear scan up to a few dozen nodes, a hash set
//! beyond): distinct nodes are counted once, bounds hold, cycles end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::fmt::Write as _;

use gov::eval::{AuditOptions, audit};
use gov::source::SourceFile;
use gov::time::Timestamp;

/// A ring of `ring` groups (g0 -> g1 -> ... -> g0, `member_of`) and a hub
/// group that every ring group is a member of, plus one identity `i` that
/// is a member of g0.
fn inventory(ring: usize) -> String {
    let mut nodes = String::from(r#"{"id": "i", "kind": "identity", "attrs": {"type": "bot"}}"#);
    let mut edges = String::from(r#"{"from": "i", "to": "g0", "kind": "member_of"}"#);
    let _ = write!(nodes, r#", {{"id": "hub", "kind": "group"}}"#);
    for g in 0..ring {
        let _ = write!(nodes, r#", {{"id": "g{g}", "kind": "group"}}"#);
        let next = (g + 1) % ring;
        let _ = write!(edges, r#", {{"from": "g{g}", "to": "g{next}", "kind": "member_of"}}"#);
        let _ = write!(edges, r#", {{"from": "g{g}", "to": "hub", "kind": "member_of"}}"#);
    }
    format!(r#"{{"format": "gov.inventory/v1", "nodes": [{nodes}], "edges": [{edges}]}}"#)
}

/// The messages of the one rule's findings for identity `i`.
fn counts(ring: usize, exprs: &[&str]) -> Vec<String> {
    let inv = SourceFile::new("ring.json", inventory(ring));
    let graph = gov::ingest::load_sources(vec![inv], &gov::ingest::LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .graph;
    let mut policy = String::new();
    for (n, e) in exprs.iter().enumerate() {
        let _ = writeln!(
            policy,
            "rule r{n} {{\n  for i: identity\n  require false\n  message \"{{{e}}}\"\n}}"
        );
    }
    let parsed = gov::syntax::parse(&SourceFile::new("p.gov", policy)).unwrap();
    let now = Timestamp::parse("2026-11-23").unwrap();
    let program = gov::check::compile(&[parsed], graph.schema(), &gov::check::Options { now })
        .unwrap_or_else(|d| panic!("{d:?}"))
        .program;
    let a = audit(&program, &graph, &AuditOptions { now: Some(now), ..Default::default() });
    a.findings.iter().map(|f| f.message.to_string()).collect()
}

#[test]
fn reach_sets_past_the_small_set_limit_count_each_node_once() {
    let ring = 120;
    let got = counts(
        ring,
        &[
            // g0..g119 and the hub; g0 is reached again through the cycle but counts once.
            "count(i -[member_of*1..]-> g: group)",
            // Depth 1: g0; depth 2: g1 and hub; then one more ring group per hop.
            "count(i -[member_of*1..10]-> g: group)",
            "count(i -[member_of*3..5]-> g: group)",
            // Min 0 includes the identity itself.
            "count(i -[member_of*0..]-> _)",
            // Backwards from the hub over either direction: everything.
            "count(i -[member_of*1..]-> h: group where id(h) == \"hub\")",
            "count(i -[member_of*1..]-> _ -[member_of]-> h: group where id(h) == \"hub\")",
        ],
    );
    let expect = [
        ring + 1,
        // depth 1..10: g0..g9 (10 ring groups) and the hub.
        11,
        // depth 3..5: g2, g3, g4 (hub was first reached at depth 2).
        3,
        ring + 2,
        1,
        1,
    ];
    let got: Vec<usize> = got.iter().map(|m| m.parse().unwrap()).collect();
    assert_eq!(got, expect);
}
