//! End-to-end audits on a small inventory: compile, load, evaluate, and the
//! findings a reviewer would expect.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use gov::eval::{Audit, AuditOptions, FindingKind, Scan, scan};
use gov::source::SourceFile;
use gov::time::Timestamp;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/eval/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn run(policy: &str, now: &str) -> Audit {
    with_scan(policy, now, |s| s.into_audit())
}

/// Compiles `policy` against the small inventory and hands the scan to `then`.
fn with_scan<T>(policy: &str, now: &str, then: impl FnOnce(Scan<'_>) -> T) -> T {
    let inv = gov::ingest::read_source(std::path::Path::new(&fixture("small.json"))).unwrap();
    let loaded = gov::ingest::load_sources(vec![inv], &gov::ingest::LoadOptions::default())
        .unwrap_or_else(|d| {
            panic!("{}", d.iter().map(gov::report::diagnostics::render_plain).collect::<String>())
        });
    let parsed = gov::syntax::parse(&SourceFile::new("policy.gov", policy)).unwrap();
    let now = Timestamp::parse(now).unwrap();
    let compiled =
        gov::check::compile(&[parsed], loaded.graph.schema(), &gov::check::Options { now })
            .unwrap_or_else(|d| {
                panic!(
                    "{}",
                    d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
                )
            });
    then(scan(
        &compiled.program,
        &loaded.graph,
        &AuditOptions { now: Some(now), ..Default::default() },
    ))
}

/// A caller that needs counts and the gate, not the findings' text, stops at
/// the scan; what it reports must agree with the findings built from it.
#[test]
fn scan_agrees_with_the_findings_built_from_it() {
    let policy = std::fs::read_to_string(fixture("policy.gov")).unwrap();
    let (len, worst, rules, a) = with_scan(&policy, "2026-11-22", |s| {
        let seen = (s.len(), s.worst_open_enforcement(), s.rules().to_vec());
        (seen.0, seen.1, seen.2, s.into_audit())
    });
    assert_eq!(len, a.findings.len());
    assert_eq!(len, 4);
    assert_eq!(worst, a.worst_open_enforcement());
    assert!(worst.is_some());
    let counts = |r: &[gov::eval::RuleSummary]| {
        r.iter()
            .map(|r| (r.id.clone(), r.checked, r.failed, r.waived, r.errors))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&rules), counts(&a.rules));
    let none = with_scan("rule r { for c: credential require true }", "2026-11-22", |s| {
        (s.is_empty(), s.worst_open_enforcement())
    });
    assert_eq!(none, (true, None));
}

#[test]
fn small_inventory_findings() {
    let policy = std::fs::read_to_string(fixture("policy.gov")).unwrap();
    let a = run(&policy, "2026-11-22");
    let open: Vec<(String, String)> = a
        .findings
        .iter()
        .filter(|f| f.is_open())
        .map(|f| (f.rule.to_string(), f.entity.clone()))
        .collect();
    assert_eq!(
        open,
        [
            ("owner-required".to_owned(), "svc-billing".to_owned()),
            ("owner-required".to_owned(), "svc-orphan".to_owned()),
            ("credential-max-age".to_owned(), "key-billing-1".to_owned()),
        ]
    );
    let waived: Vec<_> =
        a.findings.iter().filter(|f| !f.is_open()).map(|f| f.entity.as_str()).collect();
    assert_eq!(waived, ["etl-legacy-key"]);
    let billing = a.findings.iter().find(|f| f.entity == "svc-billing").unwrap();
    assert_eq!(billing.message, "svc-billing has no active human owner");
    assert_eq!(billing.priority.map(|p| p.level), Some(1));
    assert_eq!(billing.service.as_deref(), Some("billing"));
    let key = a.findings.iter().find(|f| f.entity == "key-billing-1").unwrap();
    assert_eq!(format!("{:?}", key.severity), "Critical");
    assert!(key.message.starts_with("key-billing-1 was last rotated 681d ago"), "{}", key.message);
    assert!(
        key.evidence.iter().any(|e| &*e.expr == "c.rotated_at" && e.value == "2025-01-10"),
        "{:?}",
        key.evidence
    );
    assert_eq!(a.expired_exceptions.len(), 1);
    assert_eq!(a.expired_exceptions[0].exception, "old-waiver");
    assert!(a.findings.iter().all(|f| f.kind == FindingKind::Violation));
    let summary = a.rules.iter().find(|r| r.id == "owner-required").unwrap();
    assert_eq!((summary.checked, summary.failed), (3, 2));
}

#[test]
fn division_by_zero_is_an_error_finding_not_a_panic() {
    let a = run("rule r { for c: credential require 1 / len(c.type) - 1 / 0 == 0 }", "2026-11-22");
    assert!(!a.findings.is_empty());
    assert!(
        a.findings
            .iter()
            .all(|f| f.kind == FindingKind::Error && f.message.contains("division by zero"))
    );
}
