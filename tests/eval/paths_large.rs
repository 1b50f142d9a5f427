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

/// The graph of a native inventory.
fn load(json: String) -> gov::graph::Graph {
    gov::ingest::load_sources(
        vec![SourceFile::new("g.json", json)],
        &gov::ingest::LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d:?}"))
    .graph
}

/// `(rule, entity, message, line)` of each finding of `policy` over `graph`.
fn findings(
    policy: &str,
    graph: &gov::graph::Graph,
    walk_limit: Option<u64>,
) -> Vec<(String, String, String, usize)> {
    let parsed = gov::syntax::parse(&SourceFile::new("p.gov", policy)).unwrap();
    let now = Timestamp::parse("2026-11-23").unwrap();
    let program = gov::check::compile(&[parsed], graph.schema(), &gov::check::Options { now })
        .unwrap_or_else(|d| panic!("{d:?}"))
        .program;
    let options = AuditOptions { now: Some(now), walk_limit, ..Default::default() };
    audit(&program, graph, &options)
        .findings
        .iter()
        .map(|f| {
            let at = &f.condition_loc;
            let line = at.file.line_col(at.span.start).0;
            (f.rule.to_string(), f.entity.clone(), f.message.clone(), line)
        })
        .collect()
}

/// Parallel edges and self-loops reach the same node again: a path walks
/// each distinct neighbour once, so nested multi-hop quantifiers over a
/// node with many of them stay as cheap as over a simple graph. Walked once
/// per edge, the first rule below visits 80^6 paths and the second 40^6.
#[test]
fn parallel_edges_and_self_loops_do_not_multiply_walks() {
    let mut edges = String::from(
        r#"{"from": "i", "to": "c", "kind": "has_credential"},
           {"from": "c", "to": "g", "kind": "can_access"},
           {"from": "i", "to": "g", "kind": "member_of"}"#,
    );
    for _ in 0..40 {
        edges.push_str(r#", {"from": "c", "to": "c", "kind": "can_access"}"#);
        edges.push_str(r#", {"from": "g", "to": "g", "kind": "member_of"}"#);
    }
    let graph = load(format!(
        r#"{{"format": "gov.inventory/v1", "nodes": [
            {{"id": "i", "kind": "identity", "attrs": {{"type": "bot"}}}},
            {{"id": "c", "kind": "credential", "attrs": {{"type": "key"}}}},
            {{"id": "g", "kind": "group"}}], "edges": [{edges}]}}"#
    ));
    let policy = r#"
rule undirected {
  for c: credential
  require all c -[_]- a -[_]- b -[_]- d where (all a -[_]- e -[_]- h -[_]- k where id(k) != "nowhere")
  require count(c -[_]- x) == 3
}
rule parallel {
  for g: group
  require exists g -[member_of]-> a -[member_of]-> b -[member_of]-> d where (exists a -[member_of]-> e -[member_of]-> h -[member_of]-> k where id(k) == "nowhere")
}
"#;
    let got = findings(policy, &graph, None);
    assert_eq!(got.len(), 1, "{got:?}");
    let (rule, entity, message, _) = &got[0];
    assert_eq!((rule.as_str(), entity.as_str()), ("parallel", "g"));
    assert!(!message.contains("could not evaluate"), "{message}");
}

/// A rule whose paths would visit more nodes than the walk limit, for one
/// entity, ends with an error finding at the path that ran out (fail
/// closed), in time proportional to the limit.
#[test]
fn walk_limit_ends_an_exploding_rule_with_a_located_error() {
    let n = 30;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for a in 0..n {
        nodes.push(format!(r#"{{"id": "g{a}", "kind": "group"}}"#));
        for b in 0..n {
            if a != b {
                edges.push(format!(r#"{{"from": "g{a}", "to": "g{b}", "kind": "member_of"}}"#));
            }
        }
    }
    let graph = load(format!(
        r#"{{"format": "gov.inventory/v1", "nodes": [{}], "edges": [{}]}}"#,
        nodes.join(","),
        edges.join(",")
    ));
    let policy = r#"
rule nested {
  for g: group
  require not exists g -[member_of]-> a -[member_of]-> b -[member_of]-> d where (exists a -[member_of]-> e -[member_of]-> h -[member_of]-> k where id(k) == "nowhere")
}
rule cheap {
  for g: group
  require count(g -[member_of]-> x) == 29
}
"#;
    let got = findings(policy, &graph, Some(100_000));
    assert_eq!(got.len(), n, "one error per group, none for the cheap rule: {got:?}");
    for (rule, _, message, line) in &got {
        assert_eq!(rule, "nested");
        assert!(message.contains("gov::eval::walk_limit"), "{message}");
        assert!(message.contains("100,000"), "{message}");
        assert_eq!(*line, 4);
    }
    // Within the default limit, the same graph and a smaller rule agree
    // with the count (29 * 28 two-hop walks that avoid their start... every
    // one of them exists) and raise nothing.
    let small = "rule two {\n  for g: group\n  require count(g -[member_of]-> a -[member_of]-> b) == 29 * 29\n}\n";
    assert_eq!(findings(small, &graph, None), Vec::new());
}
