//! `gov serve` over HTTP, with the built binary: decisions, the documented
//! status and JSON error of every bad request, the bearer token, the gateway
//! endpoints, hot reload that refuses a broken policy, and the decision log
//! (including a full disk).
#![cfg(all(feature = "cli", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use support::{Server, decide};

const POLICY: &str = "examples/nginx/gateway.gov";
const INVENTORY: &str = "examples/nginx/inventory.json";

fn start(extra: &[&str]) -> Server {
    let mut args = vec![POLICY, "-i", INVENTORY, "--no-watch"];
    args.extend_from_slice(extra);
    Server::start(&args, &[])
}

fn ask(subject: &str, target: &str, action: &str) -> serde_json::Value {
    json!({"decision": "call-service", "input": {"subject": subject, "target": target, "action": action}})
}

fn error_code(r: &support::Response) -> String {
    let v = r.json();
    assert!(v["error"]["message"].is_string(), "no error message in {v}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    v["error"]["code"].as_str().unwrap().to_owned()
}

#[test]
fn decide_answers_every_effect_with_reasons_and_revision() {
    let s = start(&[]);
    let revision =
        s.request("GET", "/healthz", &[], b"").json()["revision"].as_str().unwrap().to_owned();

    let r = decide(&s, &ask("alice", "payments", "GET"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["effect"], "allow");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["revision"], revision.as_str());
    assert_eq!(v["reasons"][0]["clause"], "allow");
    assert_eq!(v["reasons"][0]["message"], "a team with access may read");
    assert_eq!(v["reasons"][0]["line"], 10);

    let v = decide(&s, &ask("bob", "payments", "GET"), &[]).json();
    assert_eq!(v["effect"], "deny");
    assert_eq!(v["allowed"], false);
    assert_eq!(v["reasons"][0]["message"], "the identity is deactivated");

    let v = decide(&s, &ask("mallory", "payments", "GET"), &[]).json();
    assert_eq!(v["effect"], "not_permitted");
    assert_eq!(v["reasons"], json!([]));

    let v = decide(&s, &ask("svc-ledger", "payments", "DELETE"), &[]).json();
    assert_eq!(v["effect"], "approval_required");
    assert_eq!(v["approvers"], json!(["payments-lead@example.com"]));

    let metrics = s.request("GET", "/metrics", &[], b"").text();
    for effect in ["allow", "deny", "not_permitted", "approval_required"] {
        assert!(
            metrics.contains(&format!("gov_decisions_total{{effect=\"{effect}\"}} 1\n")),
            "{metrics}"
        );
    }
    assert!(metrics.contains("gov_decision_duration_seconds_count 4\n"), "{metrics}");
    assert!(metrics.contains(&format!("gov_policy_revision_info{{revision=\"{revision}\"}} 1\n")));

    let v = s.request("GET", "/v1/decisions", &[], b"").json();
    assert_eq!(v["decisions"], json!(["call-service"]));
}

#[test]
fn bad_requests_get_the_documented_status_and_a_json_error() {
    let s = start(&["--max-body", "1024", "--max-header", "8192"]);

    // Malformed JSON: 400 with the position.
    let r = s.request(
        "POST",
        "/v1/decide",
        &[],
        b"{\"decision\": \"call-service\",\n \"input\": {\"subject\" \"alice\"}}",
    );
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r), "malformed_json");
    assert_eq!(r.json()["error"]["line"], 2);
    assert!(r.json()["error"]["column"].as_u64().unwrap() > 1);
    let r = s.request("POST", "/v1/decide", &[], b"");
    assert_eq!((r.status, error_code(&r).as_str()), (400, "malformed_json"));
    // Valid JSON of the wrong shape.
    let r = s.request("POST", "/v1/decide", &[], b"{\"decision\": 5}");
    assert_eq!((r.status, error_code(&r).as_str()), (400, "invalid_request"));
    let r = s.request("POST", "/v1/decide", &[], b"[1, 2]");
    assert_eq!((r.status, error_code(&r).as_str()), (400, "invalid_request"));

    // Oversized body: 413, declared or not.
    let big = format!("{{\"decision\": \"{}\"}}", "x".repeat(5000));
    let r = s.request("POST", "/v1/decide", &[], big.as_bytes());
    assert_eq!((r.status, error_code(&r).as_str()), (413, "body_too_large"));

    // Oversized head (the limit is 8192 here): a JSON 431 on every route.
    let huge = "h".repeat(10_000);
    let r = s.request("GET", "/healthz", &[("X-Padding", &huge)], b"");
    assert_eq!((r.status, error_code(&r).as_str()), (431, "header_too_large"));
    assert!(r.json()["error"]["hint"].as_str().unwrap().contains("--max-header"), "{}", r.text());
    let r = s.request("POST", "/v1/decide", &[("X-Padding", &huge)], b"{}");
    assert_eq!((r.status, error_code(&r).as_str()), (431, "header_too_large"));
    // Past four times the limit (at least 64 KiB) hyper answers 431 itself,
    // without a body, and closes the connection.
    let r = s.request("GET", "/healthz", &[("X-Padding", &"h".repeat(70_000))], b"");
    assert_eq!(r.status, 431);

    // Unknown decision: 404 with a suggestion.
    let r = decide(&s, &json!({"decision": "call-servic", "input": {}}), &[]);
    assert_eq!((r.status, error_code(&r).as_str()), (404, "unknown_decision"));
    assert!(r.json()["error"]["hint"].as_str().unwrap().contains("call-service"), "{}", r.text());

    // Unknown identity: 404 on the JSON API, 401 on the gateway endpoints.
    let r = decide(&s, &ask("eve", "payments", "GET"), &[]);
    assert_eq!((r.status, error_code(&r).as_str()), (404, "unknown_entity"));
    let r = s.request(
        "GET",
        "/v1/authz/nginx/call-service",
        &[("X-Gov-Identity", "eve"), ("X-Gov-Target", "payments")],
        b"",
    );
    assert_eq!((r.status, error_code(&r).as_str()), (401, "unknown_entity"));
    // Missing identity header: 401.
    let r = s.request("GET", "/v1/authz/nginx/call-service", &[("X-Gov-Target", "payments")], b"");
    assert_eq!((r.status, error_code(&r).as_str()), (401, "missing_identity"));
    // Missing, unknown and mistyped inputs: 400.
    let r = decide(
        &s,
        &json!({"decision": "call-service", "input": {"subject": "alice", "action": "GET"}}),
        &[],
    );
    assert_eq!((r.status, error_code(&r).as_str()), (400, "missing_input"));
    let mut extra = ask("alice", "payments", "GET");
    extra["input"]["colour"] = json!("blue");
    let r = decide(&s, &extra, &[]);
    assert_eq!((r.status, error_code(&r).as_str()), (400, "unknown_input"));
    let r =
        decide(&s, &ask("alice", "payments", "GET").tap(|v| v["input"]["action"] = json!(7)), &[]);
    assert_eq!((r.status, error_code(&r).as_str()), (400, "bad_input"));

    // Routes and methods.
    let r = s.request("GET", "/v1/decide", &[], b"");
    assert_eq!((r.status, error_code(&r).as_str()), (405, "method_not_allowed"));
    assert_eq!(r.header("allow"), Some("POST"));
    let r = s.request("GET", "/v1/nothing", &[], b"");
    assert_eq!((r.status, error_code(&r).as_str()), (404, "not_found"));

    // Still serving, and every error was counted by code.
    assert_eq!(s.request("GET", "/healthz", &[], b"").status, 200);
    let metrics = s.request("GET", "/metrics", &[], b"").text();
    for (code, n) in [
        ("malformed_json", 2),
        ("invalid_request", 2),
        ("body_too_large", 1),
        ("header_too_large", 2),
        ("unknown_entity", 2),
    ] {
        assert!(
            metrics.contains(&format!("gov_decision_errors_total{{code=\"{code}\"}} {n}\n")),
            "{metrics}"
        );
    }
}

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}
impl Tap for serde_json::Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

#[test]
fn the_bearer_token_guards_v1_and_nothing_else() {
    let s =
        Server::start(&[POLICY, "-i", INVENTORY, "--no-watch"], &[("GOV_SERVE_TOKEN", "s3cret")]);
    let body = ask("alice", "payments", "GET");
    let r = decide(&s, &body, &[]);
    assert_eq!((r.status, error_code(&r).as_str()), (401, "unauthorized"));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = decide(&s, &body, &[("Authorization", "Bearer s3creT")]);
    assert_eq!((r.status, error_code(&r).as_str()), (401, "unauthorized"));
    let r = s.request("GET", "/v1/authz/nginx/call-service", &[("X-Gov-Identity", "alice")], b"");
    assert_eq!((r.status, error_code(&r).as_str()), (401, "unauthorized"));
    let r = decide(&s, &body, &[("Authorization", "Bearer s3cret")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.request("GET", "/healthz", &[], b"").status, 200);
    assert_eq!(s.request("GET", "/metrics", &[], b"").status, 200);
}

#[test]
fn gateway_endpoints_map_headers_to_inputs_and_effects_to_statuses() {
    let s = start(&["--decision", "call-service"]);
    let check = |path: &str, method: &str, identity: &str, target: &str, extra: &[(&str, &str)]| {
        let mut h = vec![("X-Gov-Identity", identity), ("X-Gov-Target", target)];
        h.extend_from_slice(extra);
        s.request(method, path, &h, b"")
    };
    // NGINX: the action comes from X-Original-Method (the subrequest's own method is GET).
    let r = check("/v1/authz/nginx", "GET", "alice", "payments", &[("X-Original-Method", "GET")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-gov-effect"), Some("allow"));
    let r = check("/v1/authz/nginx", "GET", "alice", "payments", &[("X-Original-Method", "POST")]);
    assert_eq!((r.status, r.header("x-gov-effect")), (403, Some("not_permitted")));
    let r = check("/v1/authz/nginx/call-service", "GET", "bob", "payments", &[]);
    assert_eq!((r.status, r.header("x-gov-effect")), (403, Some("deny")));
    assert_eq!(r.header("x-gov-reason"), Some("the identity is deactivated"));
    // An explicit action header wins over the method.
    let r =
        check("/v1/authz/nginx", "GET", "svc-ledger", "payments", &[("X-Gov-Action", "DELETE")]);
    assert_eq!((r.status, r.header("x-gov-effect")), (403, Some("approval_required")));
    assert_eq!(r.header("x-gov-approvers"), Some("payments-lead@example.com"));
    // Envoy: the original method and path come as they are, under the prefix.
    let r = check("/v1/authz/envoy/payments/items/1", "GET", "alice", "payments", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = check("/v1/authz/envoy/payments/items/1", "DELETE", "alice", "payments", &[]);
    assert_eq!(r.status, 403);
    let r = check("/v1/authz/envoy/x", "GET", "eve", "payments", &[]);
    assert_eq!(r.status, 401);
    // An unknown target fails closed.
    let r = check("/v1/authz/nginx", "GET", "alice", "nowhere", &[]);
    assert_eq!((r.status, error_code(&r).as_str()), (403, "unknown_entity"));
}

/// A policy update with an error leaves the old policy serving; a good one is picked up.
#[test]
fn a_broken_policy_update_leaves_the_old_policy_serving() {
    let dir = tempfile::tempdir().unwrap();
    let policy = support::copy_into(dir.path(), POLICY);
    let inventory = support::copy_into(dir.path(), INVENTORY);
    let mut s = Server::start(&[&policy, "-i", &inventory, "--watch-interval", "50"], &[]);
    let health = |s: &Server| {
        s.request("GET", "/healthz", &[], b"").json()["revision"].as_str().unwrap().to_owned()
    };
    let old = health(&s);
    let original = std::fs::read_to_string(&policy).unwrap();

    // A type error: refused, the old revision keeps answering.
    std::fs::write(&policy, original.replace("action == \"GET\"", "action == 1")).unwrap();
    let line = s.wait_for("reload refused", Duration::from_secs(20));
    assert!(line.contains(&old), "{line}");
    assert_eq!(health(&s), old);
    let r = decide(&s, &ask("alice", "payments", "GET"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["effect"], "allow");
    assert_eq!(r.json()["revision"], old.as_str());

    // A good update: alice may no longer read through her team.
    std::fs::write(&policy, original.replace("action == \"GET\"", "action == \"HEAD\"")).unwrap();
    let line = s.wait_for("reloaded revision", Duration::from_secs(20));
    let new = health(&s);
    assert_ne!(new, old);
    assert!(line.contains(&new), "{line}");
    let v = decide(&s, &ask("alice", "payments", "GET"), &[]).json();
    assert_eq!(
        (v["effect"].as_str(), v["revision"].as_str()),
        (Some("not_permitted"), Some(new.as_str()))
    );

    // SIGHUP reloads too (nothing changed: the same revision).
    s.signal("HUP");
    s.wait_for("unchanged", Duration::from_secs(20));
    let metrics = s.request("GET", "/metrics", &[], b"").text();
    assert!(metrics.contains("gov_reloads_total{result=\"refused\"} 1\n"), "{metrics}");
    assert!(metrics.contains("gov_reloads_total{result=\"ok\"} 2\n"), "{metrics}");
}

#[test]
fn the_decision_log_has_one_json_line_per_decision() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let s = start(&["--decision-log", log.to_str().unwrap()]);
    assert_eq!(decide(&s, &ask("alice", "payments", "GET"), &[]).status, 200);
    assert_eq!(decide(&s, &ask("bob", "payments", "GET"), &[]).status, 200);
    let r = s.request(
        "GET",
        "/v1/authz/nginx/call-service",
        &[("X-Gov-Identity", "mallory"), ("X-Gov-Target", "payments")],
        b"",
    );
    assert_eq!(r.status, 403);
    // Errors are not decisions: not logged.
    assert_eq!(decide(&s, &json!({"decision": "nope"}), &[]).status, 404);

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        if lines.len() >= 3 || std::time::Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(lines.len(), 3, "{lines:?}");
    let effects: Vec<&str> = lines.iter().map(|l| l["effect"].as_str().unwrap()).collect();
    assert_eq!(effects, ["allow", "deny", "not_permitted"]);
    let first = &lines[0];
    assert_eq!(first["endpoint"], "decide");
    assert_eq!(first["request"]["decision"], "call-service");
    assert_eq!(first["request"]["input"]["subject"], "alice");
    assert_eq!(first["reasons"][0]["message"], "a team with access may read");
    assert!(first["revision"].as_str().unwrap().len() >= 8);
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[2]["endpoint"], "nginx");
    assert_eq!(lines[2]["request"]["input"]["action"], "GET");
}

/// A full disk (`/dev/full` answers every write with ENOSPC) costs log records, counted, never a decision.
#[test]
fn a_full_disk_drops_log_records_and_decisions_go_on() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let mut s = start(&["--decision-log", "/dev/full"]);
    for _ in 0..20 {
        let r = decide(&s, &ask("alice", "payments", "GET"), &[]);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    s.wait_for("decision log: write failed", Duration::from_secs(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = s.request("GET", "/metrics", &[], b"").text();
        if metrics.contains("gov_decision_log_dropped_total 20\n") {
            assert!(metrics.contains("gov_decision_log_written_total 0\n"), "{metrics}");
            assert!(metrics.contains("gov_decisions_total{effect=\"allow\"} 20\n"), "{metrics}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.request("GET", "/healthz", &[], b"").status, 200);
}

/// A client that sends the head and stalls on the body gets 503 at the deadline, not a hung server.
#[test]
fn a_stalled_request_times_out_with_503() {
    use std::io::{Read, Write};
    let s = start(&["--timeout", "300"]);
    let mut c = std::net::TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"decision\"")
        .unwrap();
    let started = std::time::Instant::now();
    let mut raw = Vec::new();
    let _ = c.read_to_end(&mut raw);
    let r = support::parse_response(&raw);
    assert_eq!((r.status, error_code(&r).as_str()), (503, "timeout"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Others were served meanwhile and after.
    assert_eq!(decide(&s, &ask("alice", "payments", "GET"), &[]).status, 200);
}

/// A server that cannot start says why and exits with the documented code.
#[test]
fn startup_errors_exit_with_their_codes() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gov"))
            .arg("serve")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("GOV_SERVE_TOKEN")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.gov");
    std::fs::write(
        &broken,
        "decision d {\n  input subject: identity\n  allow when subject.nope\n}\n",
    )
    .unwrap();
    let (code, err) = run(&[broken.to_str().unwrap(), "-i", INVENTORY, "--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("gov::check::unknown_attribute"), "{err}");
    let (code, err) = run(&[POLICY, "-i", INVENTORY, "--identity-header", "bad header"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a valid header name"), "{err}");
    let missing = dir.path().join("missing/decisions.jsonl");
    let (code, err) = run(&[
        POLICY,
        "-i",
        INVENTORY,
        "--listen",
        "127.0.0.1:0",
        "--decision-log",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("cannot open the decision log"), "{err}");
}
