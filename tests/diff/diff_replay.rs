//! `gov diff --decision-log` on a log recorded by a real `gov serve`: the
//! requests it reports as flipped are exactly those that `gov decide`, run
//! one request at a time with each policy set at the recorded time, flips.
#![cfg(all(feature = "cli", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, decide};

const POLICY: &str = "examples/nginx/gateway.gov";
const INVENTORY: &str = "examples/nginx/inventory.json";

fn gov(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("GOV_ERROR_FORMAT", "plain")
        .output()
        .unwrap()
}

/// The effect `gov decide` gives one request at `now`.
fn decide_effect(policy: &str, request: &Value, now: &str, dir: &Path) -> String {
    let file = dir.join("request.json");
    std::fs::write(&file, request.to_string()).unwrap();
    let o = gov(&[
        "decide",
        policy,
        "-i",
        INVENTORY,
        "--request",
        file.to_str().unwrap(),
        "--now",
        now,
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    v["effect"].as_str().unwrap().to_owned()
}

#[test]
fn replayed_flips_are_exactly_what_gov_decide_flips_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let server = Server::start(
        &[POLICY, "-i", INVENTORY, "--no-watch", "--decision-log", log.to_str().unwrap()],
        &[],
    );
    let mut sent = 0;
    for subject in ["alice", "bob", "mallory", "svc-ledger"] {
        for target in ["payments", "ledger"] {
            for action in ["GET", "POST", "DELETE"] {
                let body = json!({"decision": "call-service",
                    "input": {"subject": subject, "target": target, "action": action}});
                assert_eq!(decide(&server, &body, &[]).status, 200);
                sent += 1;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= sent || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(server);
    assert_eq!(text.lines().count(), sent, "{text}");
    // A torn line and a stray one: counted, never fatal.
    std::fs::write(&log, format!("{text}{{\"time\": \"2026-\nnot json\n")).unwrap();

    // The change: the direct-access allow only reads, and service accounts may not delete.
    let head = dir.path().join("gateway.gov");
    let changed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(POLICY))
        .unwrap()
        .replace(
            "allow \"direct access\" when exists",
            "allow \"direct access\" when action == \"GET\" and exists",
        )
        .replace(
            "  require approval",
            "  deny \"service accounts may not delete\" when subject has type and subject.type == \"service_account\" and action == \"DELETE\"\n  require approval",
        );
    assert_ne!(
        changed,
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(POLICY)).unwrap()
    );
    std::fs::write(&head, changed).unwrap();
    let head = head.to_str().unwrap();

    let o = gov(&[
        "diff",
        "--base",
        POLICY,
        "--head",
        head,
        "-i",
        INVENTORY,
        "--decision-log",
        log.to_str().unwrap(),
        "--format",
        "json",
        "--examples",
        "1000",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    let d = &v["decisions"];
    assert_eq!(d["records"], sent);
    assert_eq!(d["base_differs_from_log"], 0, "the base is the policy the server ran");
    let invalid: Vec<u64> = d["invalid_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(invalid, [sent as u64 + 1, sent as u64 + 2]);
    let mut reported = BTreeSet::new();
    for g in d["groups"].as_array().unwrap() {
        assert_eq!(g["count"].as_u64().unwrap() as usize, g["examples"].as_array().unwrap().len());
        for e in g["examples"].as_array().unwrap() {
            reported.insert((
                e["line"].as_u64().unwrap() as usize,
                g["before"].as_str().unwrap().to_owned(),
                g["after"].as_str().unwrap().to_owned(),
            ));
        }
    }

    let mut expected = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        let request =
            json!({"decision": record["request"]["decision"], "input": record["request"]["input"]});
        let now = record["time"].as_str().unwrap();
        let before = decide_effect(POLICY, &request, now, dir.path());
        assert_eq!(before, record["effect"].as_str().unwrap(), "line {}", i + 1);
        let after = decide_effect(head, &request, now, dir.path());
        if before != after {
            expected.insert((i + 1, before, after));
        }
    }
    assert!(expected.len() >= 2, "the change flips requests: {expected:?}");
    assert_eq!(reported, expected);
}
