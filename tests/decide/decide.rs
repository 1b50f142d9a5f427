//! The decision API: semantics of `decision` blocks (precedence,
//! not_permitted vs deny, approvers, priority, fail closed), request
//! decoding errors, and hot swap through `EngineHandle`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gov::{DecideError, Decision, Effect, Engine, EngineHandle, Request, Sources};

const INVENTORY: &str = r#"{
  "format": "gov.inventory/v1",
  "nodes": [
    {"id": "alice", "kind": "identity", "attrs": {"type": "human", "active": true, "name": "Alice"}},
    {"id": "bob", "kind": "identity", "attrs": {"type": "human", "active": false, "name": "Bob"}},
    {"id": "sa-a", "kind": "identity", "attrs": {"type": "service_account", "name": "sa-a"}},
    {"id": "sa-b", "kind": "identity", "attrs": {"type": "service_account", "name": "sa-b"}},
    {"id": "team", "kind": "group", "attrs": {"name": "team"}},
    {"id": "billing", "kind": "service", "attrs": {"tier": 0, "owner": "alice@example.com", "name": "billing"}},
    {"id": "wiki", "kind": "service", "attrs": {"tier": 3, "owner": "bob@example.com", "name": "wiki"}}
  ],
  "edges": [
    {"from": "sa-a", "to": "alice", "kind": "owned_by"},
    {"from": "sa-b", "to": "bob", "kind": "owned_by"},
    {"from": "sa-a", "to": "team", "kind": "member_of"},
    {"from": "sa-b", "to": "team", "kind": "member_of"},
    {"from": "team", "to": "billing", "kind": "can_access"}
  ]
}"#;

const POLICY: &str = r#"
priority by service.tier {
  0 => P1 within 24h
  _ => P3 within 14d
}

decision call {
  input subject: identity, target: service, action: string
  deny "owner of {subject.name} has left" when exists subject -[owned_by]-> p: identity where p.active == false
  deny "no deletes" when action == "delete"
  require approval from target.owner when target.tier == 0 and action == "write"
  require approval from ["secops@example.com", target.owner] when action == "write"
  allow "member of a team with access" when exists subject -[member_of*1..4]-> _ -[can_access]-> target
  allow "direct" when exists subject -[can_access]-> target
}

decision ratio {
  input n: int, note: string?
  let big = 100 / n > 10
  allow "ratio" when big
}

decision order-free {
  input who: identity
  allow "anyone" when true
  deny "bob never" when id(who) == "bob"
}

decision approval-only {
  input who: identity
  require approval from who when true
}

decision lazy-let {
  input n: int, action: string
  let ratio = 100 / n
  deny "no deletes" when action == "delete"
  allow "small ratio" when ratio < 10
}
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    sources: Sources,
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn fixture(policy: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let policies = vec![write(dir.path(), "policy.gov", policy)];
    let inventories = vec![write(dir.path(), "inventory.json", INVENTORY)];
    Fixture { sources: Sources { policies, inventories, mapping: None }, _dir: dir }
}

fn engine() -> Engine {
    let f = fixture(POLICY);
    Engine::load(&f.sources).unwrap_or_else(|d| panic!("{d:?}"))
}

fn request(decision: &str, input: &[(&str, serde_json::Value)]) -> Request {
    let input: BTreeMap<String, serde_json::Value> =
        input.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    Request {
        decision: decision.into(),
        input,
        now: Some(gov::time::Timestamp::parse("2026-11-23").unwrap()),
    }
}

fn call(e: &Engine, subject: &str, target: &str, action: &str) -> Decision {
    e.decide(&request(
        "call",
        &[("subject", subject.into()), ("target", target.into()), ("action", action.into())],
    ))
    .unwrap()
}

#[test]
fn allow_when_an_allow_clause_matches() {
    let d = call(&engine(), "sa-a", "billing", "read");
    assert_eq!(d.effect, Effect::Allow);
    assert!(d.effect.is_allowed());
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].clause, "allow");
    assert_eq!(d.reasons[0].message, "member of a team with access");
    assert_eq!(&*d.reasons[0].decision, "call");
    assert!(d.reasons[0].file.ends_with("policy.gov"));
    assert_eq!(d.reasons[0].line, 13);
    assert_eq!(d.reasons[0].column, 3);
    assert_eq!(d.priority.as_deref(), Some("P1"));
    assert!(d.approvers.is_empty());
}

#[test]
fn no_matching_allow_is_not_permitted_not_deny() {
    let d = call(&engine(), "sa-a", "wiki", "read");
    assert_eq!(d.effect, Effect::NotPermitted);
    assert!(!d.effect.is_allowed());
    assert!(d.reasons.is_empty());
    assert_eq!(d.priority.as_deref(), Some("P3"));
}

#[test]
fn deny_wins_over_approval_and_allow_and_reports_every_deny() {
    // sa-b's owner left; delete is refused too; it may reach billing.
    let d = call(&engine(), "sa-b", "billing", "delete");
    assert_eq!(d.effect, Effect::Deny);
    let messages: Vec<&str> = d.reasons.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages, ["owner of sa-b has left", "no deletes"]);
    assert!(d.reasons.iter().all(|r| r.clause == "deny"));
    // Also over an approval that would match.
    let d = call(&engine(), "sa-b", "billing", "write");
    assert_eq!(d.effect, Effect::Deny);
}

#[test]
fn deny_wins_whatever_the_clause_order() {
    let e = engine();
    let d = e.decide(&request("order-free", &[("who", "bob".into())])).unwrap();
    assert_eq!(d.effect, Effect::Deny);
    let d = e.decide(&request("order-free", &[("who", "alice".into())])).unwrap();
    assert_eq!(d.effect, Effect::Allow);
}

#[test]
fn approval_wins_over_allow_with_the_union_of_approvers() {
    let d = call(&engine(), "sa-a", "billing", "write");
    assert_eq!(d.effect, Effect::ApprovalRequired);
    assert!(!d.effect.is_allowed());
    assert_eq!(d.approvers, ["alice@example.com", "secops@example.com"]);
    assert_eq!(d.reasons.len(), 2);
    assert!(d.reasons.iter().all(|r| r.clause == "approval"));
    assert_eq!(d.reasons[0].message, "approval required from alice@example.com");
    assert_eq!(
        d.reasons[1].message,
        "approval required from secops@example.com, alice@example.com"
    );
    assert_eq!(d.priority.as_deref(), Some("P1"));
}

/// A `priority by` that reads only the service is looked up per service
/// (computed when the engine is built); one that reads `now` is evaluated
/// per request, with the request's time.
#[test]
fn priority_follows_the_request_time_when_it_reads_now() {
    let policy = POLICY.replacen(
        "priority by service.tier {",
        "priority by (if now >= 2026-11-23 then service.tier else 9) {",
        1,
    );
    let f = fixture(&policy);
    let e = Engine::load(&f.sources).unwrap_or_else(|d| panic!("{d:?}"));
    let at = |now: &str| {
        let mut r = request(
            "call",
            &[("subject", "sa-a".into()), ("target", "billing".into()), ("action", "read".into())],
        );
        r.now = Some(gov::time::Timestamp::parse(now).unwrap());
        e.decide(&r).unwrap().priority.map(|p| p.into_owned())
    };
    assert_eq!(at("2026-11-23").as_deref(), Some("P1"));
    assert_eq!(at("2026-11-22").as_deref(), Some("P3"));
    // Read from the table built with the engine: the same answers.
    assert_eq!(call(&engine(), "sa-a", "billing", "read").priority.as_deref(), Some("P1"));
    assert_eq!(call(&engine(), "sa-a", "wiki", "read").priority.as_deref(), Some("P3"));
}

#[test]
fn approval_needs_no_allow_and_entities_approve_by_id() {
    let d = engine().decide(&request("approval-only", &[("who", "alice".into())])).unwrap();
    assert_eq!(d.effect, Effect::ApprovalRequired);
    assert_eq!(d.approvers, ["alice"]);
    // No service input: no priority.
    assert_eq!(d.priority, None);
}

#[test]
fn a_runtime_error_fails_closed() {
    let e = engine();
    let d = e.decide(&request("ratio", &[("n", 2.into())])).unwrap();
    assert_eq!(d.effect, Effect::Allow);
    let d = e.decide(&request("ratio", &[("n", 0.into())])).unwrap();
    assert_eq!(d.effect, Effect::Deny);
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].clause, "error");
    assert!(d.reasons[0].message.contains("fail closed"), "{}", d.reasons[0].message);
    assert!(d.reasons[0].message.contains("zero"), "{}", d.reasons[0].message);
}

#[test]
fn a_let_is_evaluated_only_for_the_clauses_that_read_it() {
    let e = engine();
    let ask = |n: i64, action: &str| {
        e.decide(&request("lazy-let", &[("n", n.into()), ("action", action.into())])).unwrap()
    };
    // Denied before any clause reads `ratio`: its division by zero never runs.
    let d = ask(0, "delete");
    assert_eq!(d.effect, Effect::Deny);
    let clauses: Vec<&str> = d.reasons.iter().map(|r| r.clause).collect();
    assert_eq!(clauses, ["deny"]);
    assert_eq!(d.reasons[0].message, "no deletes");
    // The allow clause reads it: the error fails closed.
    let d = ask(0, "read");
    assert_eq!(d.effect, Effect::Deny);
    assert_eq!(d.reasons.iter().map(|r| r.clause).collect::<Vec<_>>(), ["error"]);
    assert!(d.reasons[0].message.contains("division by zero"), "{}", d.reasons[0].message);
    assert_eq!(ask(20, "read").effect, Effect::Allow);
}

#[test]
fn request_errors_have_stable_kinds() {
    let e = engine();
    let err = e.decide(&request("cal", &[])).unwrap_err();
    assert_eq!(err.kind(), "unknown_decision");
    assert!(
        matches!(&err, DecideError::UnknownDecision { suggestion: Some(s), .. } if s == "call"),
        "{err:?}"
    );
    let err = e
        .decide(&request(
            "call",
            &[("subject", "nobody".into()), ("target", "billing".into()), ("action", "x".into())],
        ))
        .unwrap_err();
    assert_eq!(err.kind(), "unknown_entity");
    assert_eq!(err.to_string(), "input `subject`: no entity `nobody`");
    // An id of another kind is not an entity of the declared kind.
    let err = e
        .decide(&request(
            "call",
            &[("subject", "billing".into()), ("target", "billing".into()), ("action", "x".into())],
        ))
        .unwrap_err();
    assert_eq!(err.kind(), "unknown_entity");
    let err = e
        .decide(&request("call", &[("subject", "sa-a".into()), ("action", "x".into())]))
        .unwrap_err();
    assert_eq!(err.kind(), "missing_input");
    assert_eq!(err.to_string(), "missing input `target`");
    let err = e
        .decide(&request(
            "call",
            &[
                ("subject", "sa-a".into()),
                ("target", "billing".into()),
                ("action", "x".into()),
                ("extra", 1.into()),
            ],
        ))
        .unwrap_err();
    assert_eq!(err.kind(), "unknown_input");
    let err = e.decide(&request("ratio", &[("n", "two".into())])).unwrap_err();
    assert_eq!(err.kind(), "bad_input");
    assert_eq!(err.to_string(), "input `n`: expected an integer");
    // Optional inputs may be left out or null.
    assert!(
        e.decide(&request("ratio", &[("n", 1.into()), ("note", serde_json::Value::Null)])).is_ok()
    );
}

#[test]
fn requests_decode_from_json() {
    let r: Request = serde_json::from_str(
        r#"{"decision": "call", "input": {"subject": "sa-a", "target": "billing", "action": "read"},
            "now": "2026-11-23T00:00:00Z"}"#,
    )
    .unwrap();
    let d = engine().decide(&r).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["effect"], "allow");
    assert_eq!(json["reasons"][0]["clause"], "allow");
    assert_eq!(json["priority"], "P1");
    let r: Request = serde_json::from_str(r#"{"decision": "approval-only"}"#).unwrap();
    assert_eq!(r.now, None);
    assert_eq!(engine().decide(&r).unwrap_err().kind(), "missing_input");
}

#[test]
fn engine_lists_its_decisions_and_has_a_stable_revision() {
    let a = engine();
    let b = engine();
    assert_eq!(
        a.decisions().collect::<Vec<_>>(),
        ["call", "ratio", "order-free", "approval-only", "lazy-let"]
    );
    assert_eq!(a.revision(), b.revision());
    assert_eq!(a.revision().len(), 16);
    let f = fixture(&POLICY.replace("no deletes", "no deletions"));
    let c = Engine::load(&f.sources).unwrap();
    assert_ne!(a.revision(), c.revision());
}

#[test]
fn engine_is_shared_across_threads() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Engine>();
    let e = engine();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || call(&e, "sa-a", "billing", "read").effect)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Effect::Allow);
    }
}

#[test]
fn load_reports_every_problem_as_diagnostics() {
    let f = fixture("decision d {\n  input x: identty\n  allow when y\n}\n");
    let diags = Engine::load(&f.sources).unwrap_err();
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.contains(&"gov::check::type_mismatch"), "{codes:?}");
    assert!(codes.contains(&"gov::check::unbound_variable"), "{codes:?}");
    let missing =
        Sources { policies: vec![PathBuf::from("/nonexistent/p.gov")], ..Sources::default() };
    let diags = Engine::load(&missing).unwrap_err();
    assert_eq!(diags.iter().next().unwrap().code.as_str(), "gov::io");
}

#[test]
fn a_broken_reload_keeps_the_old_engine_serving() {
    let f = fixture(POLICY);
    let handle = EngineHandle::new(Engine::load(&f.sources).unwrap());
    let old = handle.current().revision().to_owned();
    // Break the policy on disk: the reload fails, the old engine still decides.
    std::fs::write(&f.sources.policies[0], "decision call {\n  allow when nope\n}\n").unwrap();
    let err = handle.reload(&f.sources).unwrap_err();
    assert!(err.has_errors());
    assert_eq!(handle.current().revision(), old);
    assert_eq!(call(&handle.current(), "sa-a", "billing", "read").effect, Effect::Allow);
    // A broken inventory is refused too.
    std::fs::write(&f.sources.policies[0], POLICY).unwrap();
    std::fs::write(&f.sources.inventories[0], "{ not json").unwrap();
    assert!(handle.reload(&f.sources).is_err());
    assert_eq!(handle.current().revision(), old);
    // A good update swaps: the new policy allows nothing.
    std::fs::write(&f.sources.inventories[0], INVENTORY).unwrap();
    std::fs::write(
        &f.sources.policies[0],
        "decision call {\n  input subject: identity, target: service, action: string\n  allow when false\n}\n",
    )
    .unwrap();
    let held = handle.current();
    let new = handle.reload(&f.sources).unwrap();
    assert_ne!(new, old);
    assert_eq!(handle.current().revision(), new);
    assert_eq!(call(&handle.current(), "sa-a", "billing", "read").effect, Effect::NotPermitted);
    // A reader that loaded the old engine keeps it until it lets go.
    assert_eq!(held.revision(), old);
    assert_eq!(call(&held, "sa-a", "billing", "read").effect, Effect::Allow);
    let previous = handle.replace((*held).clone());
    assert_eq!(previous.revision(), new);
    assert_eq!(handle.current().revision(), old);
}

fn run_tests(text: &str) -> Result<gov::testing::TestReport, gov::Diagnostics> {
    let parsed = gov::syntax::parse(&gov::source::SourceFile::new("t.gov", text)).unwrap();
    gov::testing::run(&[parsed], &gov::testing::TestOptions { filter: None, coverage: false })
}

const TESTED: &str = r#"
decision d {
  input who: identity, n: int?
  deny "left" when who.active == false
  allow "n is big" when default(n, 0) > 10
}

test "decisions" {
  now 2026-11-23
  given {
    identity "alice" { type: "human", active: true }
    identity "bob" { type: "human", active: false }
  }
  expect decision d with { who: "alice", n: 11 } is allow
  expect decision d with { who: "alice" } is not_permitted
  expect decision d with { who: "bob", n: 11 } is deny
  expect decision pkg.d with { who: "bob" } is deny
  expect decision d with { who: "alice", n: 11 } is EFFECT
}
"#;

#[test]
fn gov_test_checks_decision_expectations() {
    let report = run_tests(&TESTED.replace("is EFFECT", "is approval")).unwrap();
    let r = &report.results[0];
    assert!(!r.passed);
    assert_eq!(r.expectations, 5);
    assert_eq!(r.failures, ["expected decision d to be approval, but it is allow (n is big)"]);
    let report = run_tests(&TESTED.replace("is EFFECT", "is allow")).unwrap();
    assert!(report.results[0].passed, "{:?}", report.results[0].failures);
}

#[test]
fn gov_test_rejects_unknown_decisions_and_inputs() {
    let diags = run_tests(&TESTED.replace(
        "decision d with { who: \"alice\", n: 11 } is EFFECT",
        "decision e with {} is allow",
    ))
    .unwrap_err();
    let d = diags.iter().next().unwrap();
    assert_eq!(d.code.as_str(), "gov::check::unknown_decision");
    assert_eq!(d.help.as_deref(), Some("did you mean `d`?"));
    let diags = run_tests(
        &TESTED.replace("who: \"alice\", n: 11 } is EFFECT", "who: \"alice\", n: \"x\" } is allow"),
    )
    .unwrap_err();
    let d = diags.iter().next().unwrap();
    assert_eq!(d.code.as_str(), "gov::check::invalid_decision_input");
    assert_eq!(d.message, "decision `d`: input `n`: expected an integer");
}
