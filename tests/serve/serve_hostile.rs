//! `gov serve` against careless operators and hostile clients: an editor's
//! save (truncate, then write) never takes decisions down; repeated gateway
//! headers are refused; idle connections cannot starve honest ones; with
//! `--decision-log-sync` every answered decision is on disk.
#![cfg(all(feature = "cli", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

use std::io::Write as _;
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Server, decide};

const POLICY: &str = "examples/nginx/gateway.gov";
const INVENTORY: &str = "examples/nginx/inventory.json";

fn ask(subject: &str) -> serde_json::Value {
    json!({"decision": "call-service", "input": {"subject": subject, "target": "payments", "action": "GET"}})
}

fn error_code(r: &support::Response) -> String {
    r.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn an_editor_save_never_takes_decisions_down() {
    let dir = tempfile::tempdir().unwrap();
    let policy = support::copy_into(dir.path(), POLICY);
    let inventory = support::copy_into(dir.path(), INVENTORY);
    let mut s = Server::start(&[&policy, "-i", &inventory, "--watch-interval", "20"], &[]);
    let original = std::fs::read_to_string(&policy).unwrap();
    let edited = original.replace("direct access", "direct access (edited)");

    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let client = {
        let (stop, sent, failed) = (Arc::clone(&stop), Arc::clone(&sent), Arc::clone(&failed));
        let addr = s.addr;
        std::thread::spawn(move || {
            let mut first_failure = None;
            while !stop.load(Ordering::Relaxed) {
                let r = support::request(
                    addr,
                    "POST",
                    "/v1/decide",
                    &[],
                    ask("alice").to_string().as_bytes(),
                );
                sent.fetch_add(1, Ordering::Relaxed);
                if r.status != 200 {
                    failed.fetch_add(1, Ordering::Relaxed);
                    first_failure.get_or_insert_with(|| format!("{} {}", r.status, r.text()));
                }
            }
            first_failure
        })
    };
    // Truncate, leave the file empty for a while (sometimes for many polls),
    // then write it; alternate two contents so that real reloads happen too.
    for i in 0..12 {
        std::fs::File::create(&policy).unwrap();
        std::thread::sleep(Duration::from_millis([5, 30, 300][i % 3]));
        let text = if i % 2 == 0 { &edited } else { &original };
        std::fs::File::create(&policy).unwrap().write_all(text.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let first_failure = client.join().unwrap();
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(sent > 50, "only {sent} requests were sent");
    assert_eq!(failed, 0, "{failed} of {sent} requests failed; first: {first_failure:?}");
    // The empty file was seen and refused, logged as a warning and counted.
    let line = s.wait_for("reload refused", Duration::from_secs(5));
    assert!(line.contains("drops decision being served: `call-service`"), "{line}");
    let metrics = s.request("GET", "/metrics", &[], b"").text();
    assert!(!metrics.contains("gov_reloads_total{result=\"refused\"} 0\n"), "{metrics}");
    // Edits were picked up along the way.
    assert!(metrics.contains("gov_reloads_total{result=\"ok\"}"), "{metrics}");
    assert!(!metrics.contains("gov_reloads_total{result=\"ok\"} 0\n"), "{metrics}");
}

#[test]
fn a_reload_that_drops_a_served_decision_needs_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let policy = support::copy_into(dir.path(), POLICY);
    let inventory = support::copy_into(dir.path(), INVENTORY);
    let original = std::fs::read_to_string(&policy).unwrap();
    let renamed = original.replace("decision call-service", "decision call-api");

    let mut s = Server::start(&[&policy, "-i", &inventory, "--watch-interval", "20"], &[]);
    std::fs::write(&policy, &renamed).unwrap();
    let line = s.wait_for("reload refused", Duration::from_secs(20));
    assert!(line.contains("drops decision being served: `call-service`"), "{line}");
    assert_eq!(decide(&s, &ask("alice"), &[]).status, 200);
    drop(s);

    std::fs::write(&policy, &original).unwrap();
    let mut s = Server::start(
        &[&policy, "-i", &inventory, "--watch-interval", "20", "--allow-decision-removal"],
        &[],
    );
    std::fs::write(&policy, &renamed).unwrap();
    s.wait_for("reloaded revision", Duration::from_secs(20));
    let r = decide(&s, &ask("alice"), &[]);
    assert_eq!((r.status, error_code(&r)), (404, "unknown_decision".to_owned()));
}

#[test]
fn repeated_gateway_headers_are_refused() {
    let s = Server::start(&[POLICY, "-i", INVENTORY, "--no-watch"], &[]);
    let path = "/v1/authz/nginx/call-service";
    // One identity: decided.
    let r =
        s.request("GET", path, &[("X-Gov-Identity", "alice"), ("X-Gov-Target", "payments")], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    for (name, a, b) in [
        ("X-Gov-Identity", "alice", "mallory"),
        ("X-Gov-Target", "payments", "payments"),
        ("X-Gov-Action", "GET", "DELETE"),
        ("X-Gov-Decision", "call-service", "call-service"),
    ] {
        let mut headers = vec![("X-Gov-Identity", "alice"), ("X-Gov-Target", "payments")];
        headers.retain(|(n, _)| *n != name);
        headers.push((name, a));
        headers.push((name, b));
        let endpoint = if name == "X-Gov-Decision" { "/v1/authz/envoy/x" } else { path };
        let r = s.request("GET", endpoint, &headers, b"");
        assert_eq!(
            (r.status, error_code(&r)),
            (400, "bad_header".to_owned()),
            "{name}: {}",
            r.text()
        );
        assert!(r.text().contains("more than once"), "{}", r.text());
    }
    // Envoy too: the identity twice is refused, whatever the order.
    let r = s.request(
        "GET",
        "/v1/authz/envoy/payments",
        &[
            ("X-Gov-Identity", "mallory"),
            ("X-Gov-Identity", "alice"),
            ("X-Gov-Decision", "call-service"),
            ("X-Gov-Target", "payments"),
        ],
        b"",
    );
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn a_json_body_with_a_byte_order_mark_is_read_as_the_cli_reads_it() {
    let s = Server::start(&[POLICY, "-i", INVENTORY, "--no-watch"], &[]);
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(ask("alice").to_string().as_bytes());
    let r = s.request("POST", "/v1/decide", &[], &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["effect"], "allow");
}

/// Connections that send part of a head and wait (with a 30 s header
/// timeout) hold slots; under a lowered descriptor limit, honest requests are
/// still answered at once: idle connections are closed to make room.
#[cfg(unix)]
#[test]
fn idle_connections_cannot_starve_honest_requests() {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gov"))
        .args(["serve", POLICY, "-i", INVENTORY, "--no-watch", "--timeout", "30000"])
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GOV_SERVE_TOKEN");
    let s = Server::spawn(cmd);
    let mut idle = Vec::new();
    for _ in 0..150 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
        idle.push(c);
    }
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    for _ in 0..20 {
        let r = decide(&s, &ask("alice"), &[]);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let took = start.elapsed();
    // Without a cap they wait for the idle ones' 30 s timeout.
    assert!(took < Duration::from_secs(10), "20 honest requests took {took:?}");
    drop(idle);
}

#[test]
fn a_small_connection_cap_keeps_serving() {
    let s = Server::start(
        &[POLICY, "-i", INVENTORY, "--no-watch", "--timeout", "30000", "--max-connections", "4"],
        &[],
    );
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(s.addr).unwrap());
    }
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..10 {
        assert_eq!(decide(&s, &ask("alice"), &[]).status, 200);
    }
    drop(idle);
}

/// With `--decision-log-sync` an answered decision is on disk: after a
/// `kill -9`, the log holds at least every decision that was answered.
#[test]
fn synced_decision_log_keeps_every_answered_decision() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut s = Server::start(
        &[
            POLICY,
            "-i",
            INVENTORY,
            "--no-watch",
            "--decision-log",
            log.to_str().unwrap(),
            "--decision-log-sync",
        ],
        &[],
    );
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (answered, stop, addr) = (Arc::clone(&answered), Arc::clone(&stop), s.addr);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut c) = TcpStream::connect(addr) else { break };
                    let body = ask("alice").to_string();
                    let head = format!(
                        "POST /v1/decide HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if c.write_all(head.as_bytes()).is_err() {
                        break;
                    }
                    let mut raw = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut c, &mut raw);
                    if raw.starts_with(b"HTTP/1.1 200") {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL: nothing is flushed on the way out.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let acknowledged = answered.load(Ordering::SeqCst);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let lines = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(acknowledged > 10, "only {acknowledged} decisions answered");
    assert!(lines >= acknowledged, "{acknowledged} decisions answered, {lines} logged");

    // A log that cannot be written fails decisions closed (503), not open.
    if std::path::Path::new("/dev/full").exists() {
        let s = Server::start(
            &[
                POLICY,
                "-i",
                INVENTORY,
                "--no-watch",
                "--decision-log",
                "/dev/full",
                "--decision-log-sync",
            ],
            &[],
        );
        let r = decide(&s, &ask("alice"), &[]);
        assert_eq!(
            (r.status, error_code(&r)),
            (503, "decision_log_failed".to_owned()),
            "{}",
            r.text()
        );
    }
}
