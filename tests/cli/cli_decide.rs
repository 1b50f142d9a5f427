//! `gov decide` on the Acme example with `examples/acme/gateway.gov`: exit 0
//! only for `allow`, the JSON and human outputs, requests from stdin, and the
//! exit codes of requests and policies that are broken. Also runs the
//! policy's own `test` block through `gov test`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn gov(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn decide(subject: &str, target: &str, action: &str, format: &str) -> Output {
    let request = format!(
        r#"{{"decision": "call-service", "input": {{"subject": "{subject}", "target": "{target}", "action": "{action}"}}}}"#
    );
    gov(
        &[
            "decide",
            "examples/acme/gateway.gov",
            "-i",
            "examples/acme/",
            "--request",
            "-",
            "--now",
            "2026-11-22",
            "--format",
            format,
        ],
        &request,
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn allowed_exits_0_with_the_allow_reason() {
    let o = decide("sa-ledger-webhooks", "service:ledger", "read", "human");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("allow (call-service)\n"), "{text}");
    assert!(
        text.contains("allow: sa-ledger-webhooks may use ledger (examples/acme/gateway.gov:"),
        "{text}"
    );
    assert!(text.contains("priority: P1"), "{text}");
}

#[test]
fn approval_deny_and_not_permitted_exit_1() {
    let o = decide("sa-ledger-webhooks", "service:ledger", "write", "json");
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["effect"], "approval_required");
    assert_eq!(v["approvers"], serde_json::json!(["platform-security@acmepay.example"]));
    assert_eq!(v["decision"], "call-service");
    assert_eq!(v["revision"].as_str().unwrap().len(), 16);

    // The owner of sa-ledger-recon has left.
    let o = decide("sa-ledger-recon", "service:ledger", "read", "json");
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["effect"], "deny");
    assert_eq!(v["reasons"][0]["clause"], "deny");
    assert_eq!(v["reasons"][0]["message"], "the owner of sa-ledger-recon has left");

    let o = decide("sa-checkout-webhooks", "service:ledger", "read", "json");
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["effect"], "not_permitted");
    assert_eq!(v["reasons"], serde_json::json!([]));
}

#[test]
fn requests_that_cannot_be_decided_exit_2() {
    let o = decide("nobody", "service:ledger", "read", "human");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("gov::check::invalid_decision_input"), "{err}");
    assert!(err.contains("input `subject`: no entity `nobody`"), "{err}");
    let o = gov(
        &["decide", "examples/acme/gateway.gov", "-i", "examples/acme/", "--request", "-"],
        r#"{"decision": "call-servce"}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown decision `call-servce`"), "{err}");
    assert!(err.contains("did you mean `call-service`?"), "{err}");
    let o = gov(&["decide", "examples/acme/gateway.gov", "--request", "-"], "not json");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn broken_policies_and_files_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.gov");
    std::fs::write(&bad, "decision d {\n  allow when nope\n}\n").unwrap();
    let o = gov(&["decide", bad.to_str().unwrap(), "--request", "-"], r#"{"decision": "d"}"#);
    assert_eq!(o.status.code(), Some(3));
    let o =
        gov(&["decide", "examples/acme/gateway.gov", "--request", "/nonexistent/request.json"], "");
    assert_eq!(o.status.code(), Some(5));
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, r#"{"format": "gov.inventory/v1", "nodes": [{"id": "x"}]}"#).unwrap();
    let o = gov(
        &["decide", "examples/acme/gateway.gov", "-i", inv.to_str().unwrap(), "--request", "-"],
        r#"{"decision": "call-service"}"#,
    );
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_gateway_policy_tests_pass() {
    let o = gov(&["test", "examples/acme/gateway.gov"], "");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 passed, 0 failed"));
}
