//! Posture outputs through the CLI: `gov eval --history`, `--format
//! metrics-json` (validated against `schemas/metrics.schema.json`),
//! `--format openmetrics` (checked by Prometheus' `promtool`), the Markdown
//! scorecard, and `gov report`'s HTML (hostile names escaped, nothing loaded
//! from outside, findings per service bounded).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn gov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gov")).args(args).current_dir(ROOT).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = gov(args);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "gov {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `gov eval` of the standard library and Acme's exceptions over Acme.
fn acme(now: &str, extra: &[&str]) -> String {
    let base = ["eval", "policies/", "examples/acme/exceptions.gov", "-i", "examples/acme/"];
    ok(&[&base[..], &["--now", now], extra].concat())
}

fn schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/schemas/metrics.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(doc: &Value) {
    let v = schema();
    let errors: Vec<String> =
        v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn metrics_json_follows_its_schema_and_adds_up() {
    let doc: Value =
        serde_json::from_str(&acme("2026-11-22", &["--format", "metrics-json"])).unwrap();
    assert_valid(&doc);
    assert_eq!(doc["schema"], "gov.metrics/v1");
    let services = doc["services"].as_array().unwrap();
    // Every Acme service has a row, findings or not; the unassigned last.
    assert_eq!(services.iter().filter(|s| s["id"].is_string()).count(), 14);
    assert!(services.last().unwrap()["id"].is_null());
    let sum = |k: &str| services.iter().map(|s| s[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("checked"), doc["totals"]["checked"].as_u64().unwrap());
    assert_eq!(sum("passed"), doc["totals"]["passed"].as_u64().unwrap());
    let open: u64 = services.iter().map(|s| s["open"]["total"].as_u64().unwrap()).sum();
    assert_eq!(open, doc["totals"]["open"].as_u64().unwrap());
    // The JSON report agrees on the open count.
    let findings: Value = serde_json::from_str(&acme("2026-11-22", &["--format", "json"])).unwrap();
    let open_json =
        findings["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "open").count();
    assert_eq!(open as usize, open_json);
    // Tier order, most critical first.
    let tiers: Vec<i64> = services.iter().filter_map(|s| s["tier"].as_i64()).collect();
    assert!(tiers.is_sorted(), "{tiers:?}");
    // Controls: each maps code with its rules.
    let nhi1 =
        doc["controls"].as_array().unwrap().iter().find(|c| c["control"] == "OWASP-NHI:NHI1");
    assert!(nhi1.is_some_and(
        |c| c["framework"] == "OWASP-NHI" && !c["rules"].as_array().unwrap().is_empty()
    ));
    // Acme declares one expired exception; it is exception debt.
    assert_eq!(doc["exceptions"]["expired"][0]["exception"], "analytics-readonly-shared");
    // Without a history: one run.
    assert_eq!(doc["history"]["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn the_schema_rejects_what_the_format_does_not_allow() {
    let mut doc: Value =
        serde_json::from_str(&acme("2026-11-22", &["--format", "metrics-json"])).unwrap();
    doc["totals"]["pass_rate"] = json!(1.5);
    assert!(!schema().is_valid(&doc));
    doc["totals"]["pass_rate"] = json!(0.5);
    doc["schema"] = json!("gov.metrics/v2");
    assert!(!schema().is_valid(&doc));
}

/// Acme's recorded history (the two earlier states) in `dir`.
fn acme_history(dir: &Path) {
    let status = Command::new("bash")
        .arg("examples/acme-history/record.sh")
        .arg(env!("CARGO_BIN_EXE_gov"))
        .arg(dir)
        .current_dir(ROOT)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_acme_history_gives_trends_due_dates_and_time_to_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("h");
    acme_history(&h);
    let hs = h.to_str().unwrap();
    let doc: Value =
        serde_json::from_str(&acme("2026-11-22", &["--format", "metrics-json", "--history", hs]))
            .unwrap();
    assert_valid(&doc);
    let runs = doc["history"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    // The four legacy accounts of 2026-10-25: two gone by 2026-11-08, two by today.
    let resolved: Vec<u64> = runs.iter().map(|r| r["resolved"].as_u64().unwrap()).collect();
    assert!(resolved[1] >= 2 && resolved[2] >= 2, "{resolved:?}");
    assert!(
        doc["totals"]["overdue"].as_u64().unwrap() > 0,
        "findings open since October are overdue"
    );
    assert!(!doc["history"]["time_to_resolve"].as_array().unwrap().is_empty());
    // The JSON report's due dates run from first seen: a finding open since
    // 2026-10-25 is due before today.
    let findings: Value = serde_json::from_str(&acme(
        "2026-11-23",
        &["--format", "json", "--history", hs, "--fail-on", "never"],
    ))
    .unwrap();
    let dues: Vec<&str> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["priority"]["due"].as_str())
        .collect();
    // Without a history every due date is `now + within`, after now.
    assert!(dues.iter().any(|d| *d < "2026-11-23"), "due dates run from first seen: {dues:?}");
}

#[test]
fn a_run_before_the_newest_recorded_one_is_refused_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("h");
    let hs = h.to_str().unwrap();
    acme("2026-11-22", &["--format", "metrics-json", "--history", hs]);
    let out = gov(&[
        "eval",
        "policies/",
        "-i",
        "examples/acme/",
        "--now",
        "2026-11-01",
        "--history",
        hs,
        "--error-format",
        "plain",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gov::history::clock_backwards"), "{err}");
    assert!(out.stdout.is_empty(), "no report for a refused run");
    assert_eq!(std::fs::read_dir(&h).unwrap().count(), 1);
}

#[test]
fn a_damaged_history_record_is_reported_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("h");
    acme_history(&h);
    let mut files: Vec<_> = std::fs::read_dir(&h).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    std::fs::write(&files[0], b"GOVRUN\x00\x01 truncated").unwrap();
    let out = gov(&[
        "eval",
        "policies/",
        "-i",
        "examples/acme/",
        "--now",
        "2026-11-22",
        "--history",
        h.to_str().unwrap(),
        "--format",
        "metrics-json",
        "--error-format",
        "plain",
    ]);
    assert_eq!(out.status.code(), Some(1), "hard findings, as without a history");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gov::history::corrupt_record"), "{err}");
    assert!(err.contains(&files[0].display().to_string()) && err.contains("at byte"), "{err}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["history"]["runs"].as_array().unwrap().len(), 2, "the other run and this one");
}

fn promtool() -> Option<String> {
    let found = Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match found {
        Ok(_) => Some("promtool".to_owned()),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no promtool: .ci/run installs Debian's `prometheus`")
        }
        Err(_) => {
            eprintln!("skipped: no promtool on the PATH (apt-get install prometheus)");
            None
        }
    }
}

#[test]
fn openmetrics_output_passes_promtool() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("h");
    acme_history(&h);
    let text = acme("2026-11-22", &["--format", "openmetrics", "--history", h.to_str().unwrap()]);
    assert!(text.ends_with("# EOF\n"));
    assert!(
        text.contains("gov_service_pass_ratio{service=\"service:ledger\",tier=\"0\"} 0."),
        "{text}"
    );
    assert!(text.contains(
        "gov_service_open_findings{service=\"service:ledger\",tier=\"0\",priority=\"P1\"}"
    ));
    assert!(text.contains("gov_sla_adherence_ratio{priority="));
    let Some(promtool) = promtool() else { return };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A broken exposition fails promtool: the check can fail.
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"gov_x{service=\"a} 1\n").unwrap();
    assert!(!child.wait_with_output().unwrap().status.success());
}

#[test]
fn markdown_has_the_scorecard_and_the_changes_since_the_previous_run() {
    let md = acme("2026-11-22", &["--format", "markdown"]);
    assert!(md.contains("#### Scorecard by business service"), "{md}");
    assert!(md.contains("| `service:ledger` (ledger) | 0 |"), "{md}");
    assert!(md.contains("*no business service*"));
    assert!(!md.contains("Since the previous run"), "no history, no changes");
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("h");
    acme_history(&h);
    let md = acme("2026-11-22", &["--format", "markdown", "--history", h.to_str().unwrap()]);
    assert!(md.contains("#### Since the previous run (2026-11-08"), "{md}");
    assert!(md.contains("`sa-legacy-batch-settlement`"), "resolved since 2026-11-08: {md}");
    assert!(md.contains("`client-shopbridge`"), "new since 2026-11-08: {md}");
    assert!(md.contains("Open over runs"));
}

fn hostile_inventory(dir: &Path) -> String {
    let names = ["<script>alert(1)</script>", "\" onmouseover=\"x", "</td></tr><tr><td>"];
    let nodes: Vec<Value> = names
        .iter()
        .map(|id| json!({"id": id, "kind": "identity", "attrs": {"type": "service_account", "name": id, "active": true}}))
        .collect();
    let mut nodes = nodes;
    nodes.push(json!({"id": "service:<b>evil</b>", "kind": "service", "attrs": {"name": "<i>x</i>", "tier": 1}}));
    let edges: Vec<Value> = names
        .iter()
        .map(|id| json!({"from": id, "to": "service:<b>evil</b>", "kind": "supports"}))
        .collect();
    let path = dir.join("hostile.json");
    std::fs::write(
        &path,
        json!({"format": "gov.inventory/v1", "nodes": nodes, "edges": edges}).to_string(),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_html_report_escapes_hostile_names_and_loads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = hostile_inventory(tmp.path());
    let out = tmp.path().join("r.html");
    let o = out.to_str().unwrap();
    ok(&["report", "policies/", "-i", &inv, "--now", "2026-11-22", "-o", o]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&quot; onmouseover=&quot;x"));
    assert!(!html.contains("\" onmouseover=\"x"));
    assert!(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;"));
    assert!(html.contains("service:&lt;b&gt;evil&lt;/b&gt;") && !html.contains("<b>evil"));
    assert!(!html.contains("<i>x</i>"));
    // Self-contained: exactly one script (the report's own), no links or
    // sources to anything.
    assert_eq!(html.matches("<script").count(), 1);
    for attr in [" src=", " href=", "url(", "@import", "http://", "https://"] {
        assert!(!html.contains(attr), "{attr} in the report");
    }
}

#[test]
fn the_html_report_bounds_findings_per_service() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.html");
    let o = out.to_str().unwrap();
    ok(&[
        "report",
        "policies/",
        "-i",
        "examples/acme/",
        "--now",
        "2026-11-22",
        "-o",
        o,
        "--max-findings",
        "2",
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    let services = html.matches("<details class=\"service\"").count();
    assert!(services > 3);
    assert!(html.matches("<tr class=\"finding").count() <= 2 * services);
    assert!(html.contains("more findings of this service (see the JSON report)"));
    // Without -o it writes to stdout.
    let stdout = ok(&["report", "policies/", "-i", "examples/acme/", "--now", "2026-11-22"]);
    assert!(stdout.starts_with("<!DOCTYPE html>"));
}
