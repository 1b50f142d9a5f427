//! The HTML posture report in a real browser: headless Chromium, driven over
//! the DevTools protocol, opens the Acme report (with its recorded history)
//! from a `file://` URL and the test asserts on the live DOM: one scorecard
//! row per business service with the pass rates of the metrics JSON, one
//! trend point per recorded run, the search box filters the findings, hostile
//! entity names are text, and nothing errs or loads from the network.
//!
//! Needs Chromium (`.ci/run` installs Debian's `chromium`). Under `CI=true`
//! a missing browser fails the test; elsewhere it is skipped with a reason.
//! The screenshot goes to `target/report.png`, and to `docs/img/report.png`
//! (the README's) when `UPDATE_SCREENSHOT=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cdp.rs"]
mod cdp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn gov(args: &[&str]) -> std::process::Output {
    let out =
        Command::new(env!("CARGO_BIN_EXE_gov")).args(args).current_dir(ROOT).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "gov {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn chromium() -> Option<PathBuf> {
    match cdp::find_chromium() {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no chromium on the PATH: .ci/run installs Debian's `chromium`")
        }
        None => {
            eprintln!("skipped: no chromium on the PATH (apt-get install chromium)");
            None
        }
    }
}

/// Acme's history (two earlier runs, made by `examples/acme-history/record.sh`)
/// and today's report over it.
fn acme_report(dir: &Path) -> (PathBuf, Value) {
    let history = dir.join("history");
    let status = Command::new("bash")
        .arg("examples/acme-history/record.sh")
        .arg(env!("CARGO_BIN_EXE_gov"))
        .arg(&history)
        .current_dir(ROOT)
        .status()
        .unwrap();
    assert!(status.success());
    let html = dir.join("acme.html");
    let (h, o) = (history.to_str().unwrap(), html.to_str().unwrap());
    let common = ["policies/", "examples/acme/exceptions.gov", "-i", "examples/acme/", "--now"];
    gov(&[&["report"], &common[..], &["2026-11-22", "--history", h, "-o", o]].concat());
    let metrics =
        gov(&[&["eval"], &common[..], &["2026-11-22", "--format", "metrics-json"]].concat());
    (html, serde_json::from_slice(&metrics.stdout).unwrap())
}

const HOSTILE: [&str; 3] =
    ["<script>alert(1)</script>", "\" onmouseover=\"x", "<img src=x onerror=alert(2)>"];

/// Acme plus identities with hostile names and no owner (so they have findings).
fn hostile_report(dir: &Path) -> PathBuf {
    let nodes: Vec<Value> = HOSTILE
        .iter()
        .map(|id| json!({"id": id, "kind": "identity", "attrs": {"type": "service_account", "name": id, "active": true}}))
        .collect();
    let edges: Vec<Value> = HOSTILE
        .iter()
        .map(|id| json!({"from": id, "to": "service:ledger", "kind": "supports"}))
        .collect();
    let inv = dir.join("hostile.json");
    let doc = json!({"format": "gov.inventory/v1", "nodes": nodes, "edges": edges});
    std::fs::write(&inv, doc.to_string()).unwrap();
    let html = dir.join("hostile.html");
    gov(&[
        "report",
        "policies/",
        "-i",
        "examples/acme/",
        "-i",
        inv.to_str().unwrap(),
        "--now",
        "2026-11-22",
        "-o",
        html.to_str().unwrap(),
    ]);
    html
}

fn errors(b: &cdp::Browser) -> Vec<String> {
    let mut out = Vec::new();
    for e in b.events_of("Runtime.exceptionThrown") {
        out.push(format!("exception: {}", e["exceptionDetails"]));
    }
    for e in b.events_of("Runtime.consoleAPICalled") {
        if matches!(e["type"].as_str(), Some("error" | "assert")) {
            out.push(format!("console.{}: {}", e["type"], e["args"]));
        }
    }
    for e in b.events_of("Log.entryAdded") {
        if e["entry"]["level"] == "error" {
            out.push(format!("log: {}", e["entry"]["text"]));
        }
    }
    for e in b.events_of("Page.javascriptDialogOpening") {
        out.push(format!("a dialog opened: {}", e["message"]));
    }
    out
}

fn requests(b: &cdp::Browser) -> Vec<String> {
    b.events_of("Network.requestWillBeSent")
        .iter()
        .filter_map(|e| e["request"]["url"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_acme_report_works_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (html, metrics) = acme_report(dir.path());
    let hostile = hostile_report(dir.path());

    let mut b = cdp::Browser::start(&chromium, 1400, 1000);
    for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
        b.call(domain, json!({}));
    }
    b.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
    );
    let url = format!("file://{}", html.display());
    b.open(&url);

    // One scorecard row per business service (and one for the entities with
    // none), in the metrics' order, with its pass rate.
    let rows = b.eval(
        "Array.from(document.querySelectorAll('#scorecard tr.service-row')).map(r => \
         [r.dataset.service, Number(r.dataset.passRate), r.querySelector('.pass .pct').textContent])",
    );
    let rows = rows.as_array().unwrap();
    let services = metrics["services"].as_array().unwrap();
    assert_eq!(rows.len(), services.len());
    assert_eq!(services.iter().filter(|s| s["id"].is_string()).count(), 14, "Acme's 14 services");
    for (row, s) in rows.iter().zip(services) {
        assert_eq!(row[0], s["id"].as_str().map_or(json!(""), |id| json!(id)));
        let expected = s["pass_rate"].as_f64().unwrap();
        assert!((row[1].as_f64().unwrap() - expected).abs() < 1e-4, "{row} vs {expected}");
        assert_eq!(row[2], json!(format!("{:.1}%", expected * 100.0)));
    }
    // Tier order: tier 0 first.
    assert_eq!(rows[0][0], "service:ledger");

    // One trend point per recorded run: two earlier runs and this one.
    let points = b.eval(
        "Array.from(document.querySelectorAll('#trend circle.trend-point')).map(c => c.dataset.now)",
    );
    assert_eq!(points.as_array().unwrap().len(), 3, "{points}");
    assert_eq!(points[0].as_str().unwrap().get(..10), Some("2026-10-25"));
    assert_eq!(points[2].as_str().unwrap().get(..10), Some("2026-11-22"));

    // The search box filters the findings table (typed, as a person would).
    let visible = "document.querySelectorAll('tr.finding:not(.hidden)').length";
    let before = b.eval(visible).as_u64().unwrap();
    assert!(before > 10, "{before} findings shown");
    b.eval("document.getElementById('search').focus()");
    b.call("Input.insertText", json!({"text": "shopbridge"}));
    let after = b.eval(visible).as_u64().unwrap();
    assert!(after >= 1 && after < before, "{after} of {before}");
    let texts = b.eval(
        "Array.from(document.querySelectorAll('tr.finding:not(.hidden)')).map(r => r.textContent.toLowerCase())",
    );
    assert!(texts.as_array().unwrap().iter().all(|t| t.as_str().unwrap().contains("shopbridge")));
    assert!(
        b.eval("document.getElementById('shown-count').textContent")
            .as_str()
            .unwrap()
            .starts_with(&format!("{after} of"))
    );
    b.eval("const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input'))");
    assert_eq!(b.eval(visible).as_u64().unwrap(), before);

    // The screenshot the README shows.
    b.eval("window.scrollTo(0, 0)");
    let shot = b.call("Page.captureScreenshot", json!({"format": "png"}));
    let png =
        base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::write(Path::new(ROOT).join("target/report.png"), &png).unwrap();
    if std::env::var("UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        std::fs::write(Path::new(ROOT).join("docs/img/report.png"), &png).unwrap();
    }

    // Hostile names are text: present in the DOM's text, never as elements
    // or attributes, and no script of theirs ran.
    b.open(&format!("file://{}", hostile.display()));
    let entities =
        b.eval("Array.from(document.querySelectorAll('code.entity')).map(c => c.textContent)");
    for name in HOSTILE {
        assert!(entities.as_array().unwrap().iter().any(|e| e == name), "{name} shown as text");
    }
    assert_eq!(
        b.eval("document.querySelectorAll('body script').length"),
        json!(1),
        "only the report's own script"
    );
    assert_eq!(
        b.eval("document.querySelectorAll('img, [onmouseover], [onerror]').length"),
        json!(0)
    );
    b.eval("document.getElementById('search').focus()");
    b.call("Input.insertText", json!({"text": "onmouseover"}));
    assert!(b.eval(visible).as_u64().unwrap() >= 1);

    std::thread::sleep(Duration::from_millis(200));
    let errs = errors(&b);
    assert!(errs.is_empty(), "errors in the browser: {errs:#?}");
    let remote: Vec<String> = requests(&b)
        .into_iter()
        .filter(|u| !u.starts_with("file://") && !u.starts_with("data:"))
        .collect();
    assert!(remote.is_empty(), "the report requested {remote:?}");
}
