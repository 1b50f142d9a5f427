//! Decisions against the audit: each clause condition of a random decision is
//! also written as a rule (`require not (COND)`), so the audit says, per
//! identity, which conditions hold. The decision's effect must follow from
//! those by precedence (deny, approval, allow, else not_permitted), whatever
//! the clause order and whether a condition is read through a `let`.
//!
//! `PROPTEST_CASES` sets the number of random decisions (16 by default).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

use gov::eval::{AuditOptions, FindingKind, audit};
use gov::graph::Graph;
use gov::ingest::generate::{GenOptions, generate};
use gov::source::SourceFile;
use gov::time::Timestamp;
use gov::{Effect, Engine, Request};
use proptest::prelude::*;

const CONDITIONS: [&str; 10] = [
    "subject.active == false",
    "subject.type == \"bot\"",
    "subject.source == \"github\"",
    "exists subject -[owned_by]-> p: identity where p.active == false",
    "not exists subject -[owned_by]-> _",
    "exists subject -[has_credential]-> c: credential where c has expires_at and c.expires_at < now",
    "exists subject -[grants|member_of*1..3]-> _ -[can_access]-> r: resource where r.type == \"queue\"",
    "count(subject -[has_credential]-> _) >= 2",
    "subject has left_at",
    "exists subject -[supports]-> s: service where s.tier == 0",
];

fn now() -> Timestamp {
    Timestamp::parse("2026-11-22").unwrap()
}

fn inventory() -> &'static str {
    static INV: OnceLock<String> = OnceLock::new();
    INV.get_or_init(|| {
        let mut out = Vec::new();
        generate(&GenOptions { identities: 1000, seed: 11, now: now() }, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
}

fn graph() -> Graph {
    let src = SourceFile::new("inv.json", inventory());
    gov::ingest::load_sources(vec![src], &Default::default()).unwrap().graph
}

/// Which conditions hold for which identity, from the audit of one rule per condition.
fn truth() -> &'static BTreeMap<String, BTreeSet<usize>> {
    static TRUTH: OnceLock<BTreeMap<String, BTreeSet<usize>>> = OnceLock::new();
    TRUTH.get_or_init(|| {
        let mut text = String::new();
        for (i, c) in CONDITIONS.iter().enumerate() {
            writeln!(text, "rule c{i} {{\n  for subject: identity\n  require not ({c})\n}}")
                .unwrap();
        }
        let g = graph();
        let parsed = gov::syntax::parse(&SourceFile::new("rules.gov", text)).unwrap();
        let program =
            gov::check::compile(&[parsed], g.schema(), &gov::check::Options { now: now() })
                .unwrap_or_else(|d| panic!("{d:?}"))
                .program;
        let a = audit(&program, &g, &AuditOptions { now: Some(now()), ..Default::default() });
        let mut t: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let identity = g.schema().kind("identity").unwrap();
        for n in g.nodes_of_kind(identity) {
            t.insert(g.id(*n).to_owned(), BTreeSet::new());
        }
        for f in &a.findings {
            assert_eq!(f.kind, FindingKind::Violation, "{}", f.message);
            let i: usize = f.rule[1..].parse().unwrap();
            t.get_mut(&f.entity).unwrap().insert(i);
        }
        // The generator makes every condition hold for someone and fail for someone.
        for i in 0..CONDITIONS.len() {
            let holds = t.values().filter(|s| s.contains(&i)).count();
            assert!(holds > 0 && holds < t.len(), "condition {i} holds for {holds}");
        }
        t
    })
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Deny,
    Approval,
    Allow,
}

fn decision_text(clauses: &[(usize, Kind)], via_let: bool) -> String {
    let mut text = String::from("decision d {\n  input subject: identity\n");
    if via_let && let Some((c, _)) = clauses.first() {
        writeln!(text, "  let first = {}", CONDITIONS[*c]).unwrap();
    }
    for (i, (c, k)) in clauses.iter().enumerate() {
        let cond = if via_let && i == 0 { "first".to_owned() } else { CONDITIONS[*c].to_owned() };
        match k {
            Kind::Deny => writeln!(text, "  deny \"c{c}\" when {cond}"),
            Kind::Approval => writeln!(text, "  require approval from \"a{c}\" when {cond}"),
            Kind::Allow => writeln!(text, "  allow \"c{c}\" when {cond}"),
        }
        .unwrap();
    }
    text.push_str("}\n");
    text
}

fn check(clauses: &[(usize, Kind)], via_let: bool) {
    let text = decision_text(clauses, via_let);
    let g = graph();
    let parsed = gov::syntax::parse(&SourceFile::new("d.gov", text.clone())).unwrap();
    let program = gov::check::compile(&[parsed], g.schema(), &gov::check::Options { now: now() })
        .unwrap_or_else(|d| panic!("{text}\n{d:?}"))
        .program;
    let engine = Engine::new(program, g);
    // Every fourth identity keeps the test quick; the audit covers all of them.
    for (id, holds) in truth().iter().step_by(4) {
        let hit = |k: fn(&Kind) -> bool| -> Vec<usize> {
            clauses
                .iter()
                .filter(|(c, kind)| k(kind) && holds.contains(c))
                .map(|(c, _)| *c)
                .collect()
        };
        let denies = hit(|k| matches!(k, Kind::Deny));
        let approvals = hit(|k| matches!(k, Kind::Approval));
        let allows = hit(|k| matches!(k, Kind::Allow));
        let request = Request {
            decision: "d".into(),
            input: [("subject".to_owned(), serde_json::Value::from(id.as_str()))].into(),
            now: Some(now()),
        };
        let d = engine.decide(&request).unwrap();
        let messages: Vec<&str> = d.reasons.iter().map(|r| r.message.as_str()).collect();
        if !denies.is_empty() {
            assert_eq!(d.effect, Effect::Deny, "{id}\n{text}");
            let want: Vec<String> = denies.iter().map(|c| format!("c{c}")).collect();
            assert_eq!(messages, want, "{id}\n{text}");
        } else if !approvals.is_empty() {
            assert_eq!(d.effect, Effect::ApprovalRequired, "{id}\n{text}");
            let mut want: Vec<String> = Vec::new();
            for c in &approvals {
                if !want.contains(&format!("a{c}")) {
                    want.push(format!("a{c}"));
                }
            }
            assert_eq!(d.approvers, want, "{id}\n{text}");
        } else if let Some(first) = allows.first() {
            assert_eq!(d.effect, Effect::Allow, "{id}\n{text}");
            assert_eq!(messages, [format!("c{first}")], "{id}\n{text}");
        } else {
            assert_eq!(d.effect, Effect::NotPermitted, "{id}\n{text}");
            assert!(d.reasons.is_empty());
        }
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Deny), Just(Kind::Approval), Just(Kind::Allow)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        ..ProptestConfig::default()
    })]

    #[test]
    fn decisions_follow_precedence_over_what_the_audit_sees(
        clauses in prop::collection::vec((0..CONDITIONS.len(), kind()), 1..8),
        via_let in any::<bool>(),
    ) {
        check(&clauses, via_let);
    }
}

#[test]
fn every_kind_of_clause_alone_and_together() {
    let all: Vec<usize> = (0..CONDITIONS.len()).collect();
    check(&all.iter().map(|c| (*c, Kind::Allow)).collect::<Vec<_>>(), false);
    check(&all.iter().map(|c| (*c, Kind::Approval)).collect::<Vec<_>>(), true);
    check(&all.iter().map(|c| (*c, Kind::Deny)).collect::<Vec<_>>(), false);
    let mixed: Vec<(usize, Kind)> =
        all.iter().map(|c| (*c, [Kind::Allow, Kind::Approval, Kind::Deny][c % 3])).collect();
    check(&mixed, true);
}
