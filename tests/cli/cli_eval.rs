//! The `gov check`, `gov eval` and `gov explain` commands as a CI pipeline
//! uses them: every output format on a small inventory, exit codes by
//! `--fail-on`, SARIF that validates against the OASIS schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use std::process::{Command, Output};

fn gov(args: &[&str]) -> Output {
    cli_support::gov_in(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eval"), args)
}

fn eval(extra: &[&str]) -> Output {
    let mut args = vec!["eval", "policy.gov", "--inventory", "small.json", "--now", "2026-11-22"];
    args.extend_from_slice(extra);
    gov(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exit_code_follows_fail_on() {
    // Open findings: two hard (owner-required), one soft (credential-max-age).
    assert_eq!(eval(&[]).status.code(), Some(1), "default --fail-on hard");
    assert_eq!(eval(&["--fail-on", "hard"]).status.code(), Some(1));
    assert_eq!(eval(&["--fail-on", "never"]).status.code(), Some(0));
    assert_eq!(eval(&["--rule", "credential-max-age", "--fail-on", "hard"]).status.code(), Some(0));
    assert_eq!(eval(&["--rule", "credential-max-age", "--fail-on", "soft"]).status.code(), Some(1));
    assert_eq!(eval(&["--rule", "nope"]).status.code(), Some(2));
    assert_eq!(eval(&["--entity", "svc-search"]).status.code(), Some(0));
}

#[test]
fn human_output_groups_by_priority_and_names_the_rule_source() {
    let out = eval(&[]);
    let text = stdout(&out);
    let p1 = text.find("P1").expect("P1 group");
    let p3 = text.find("P3").expect("P3 group");
    assert!(p1 < p3, "{text}");
    assert!(text.contains("svc-billing has no active human owner"), "{text}");
    assert!(text.contains("rule owner-required {"), "rule source line: {text}");
    assert!(text.contains("small.json:"), "entity record: {text}");
}

#[test]
fn json_output_lists_open_and_waived_findings() {
    let v: serde_json::Value = serde_json::from_slice(&eval(&["--format", "json"]).stdout).unwrap();
    assert_eq!(v["format"], "gov.findings/v1");
    let findings = v["findings"].as_array().unwrap();
    let entities: Vec<&str> = findings.iter().map(|f| f["entity"].as_str().unwrap()).collect();
    assert!(
        entities.contains(&"svc-orphan") && entities.contains(&"etl-legacy-key"),
        "{entities:?}"
    );
    let waived = findings.iter().find(|f| f["entity"] == "etl-legacy-key").unwrap();
    assert_eq!(waived["status"], "waived", "{waived}");
    assert_eq!(waived["waiver"]["exception"], "legacy-etl-key", "{waived}");
}

#[test]
fn sarif_output_validates_against_the_schema() {
    let schema_path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/schemas/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let sarif: serde_json::Value =
        serde_json::from_slice(&eval(&["--format", "sarif"]).stdout).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["partialFingerprints"].as_object().is_some_and(|o| !o.is_empty()))
    );
}

#[test]
fn junit_and_markdown_outputs() {
    let junit = stdout(&eval(&["--format", "junit"]));
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(junit.contains("owner-required") && junit.contains("<failure"), "{junit}");
    let md = stdout(&eval(&["--format", "markdown"]));
    assert!(md.contains('|') && md.contains("owner-required"), "{md}");
}

#[test]
fn output_file() {
    let dir = std::env::temp_dir().join(format!("gov-cli-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.sarif");
    let o = eval(&["--format", "sarif", "--output", file.to_str().unwrap(), "--fail-on", "never"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    assert!(std::fs::read_to_string(&file).unwrap().contains("\"2.1.0\""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// JSON is streamed to the file (written under a temporary name and renamed
/// when complete): the same bytes as on stdout, and nothing left beside it.
#[test]
fn json_output_file_is_the_stdout_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.json");
    std::fs::write(&file, "an older report").unwrap();
    let o = eval(&["--format", "json", "--output", file.to_str().unwrap(), "--fail-on", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let streamed = std::fs::read_to_string(&file).unwrap();
    assert_eq!(streamed, stdout(&eval(&["--format", "json", "--fail-on", "never"])));
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["findings.json"]);
}

/// A report that cannot be written (here: stdout is a full device) is an
/// error naming where, with its own exit code, not a panic or a success.
#[test]
fn a_full_disk_is_an_error_not_a_success() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else { return };
    let o = Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(["eval", "policy.gov", "--inventory", "small.json", "--now", "2026-11-22"])
        .args(["--format", "json", "--fail-on", "never"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eval"))
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cannot write `<stdout>`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn explain_shows_the_failing_condition_and_paths() {
    let o = gov(&[
        "explain",
        "owner-required",
        "svc-billing",
        "-p",
        "policy.gov",
        "-i",
        "small.json",
        "--now",
        "2026-11-22",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("first failing condition"), "{text}");
    assert!(text.contains("svc-billing → bob"), "{text}");
    assert!(text.contains("p.active = false"), "{text}");
    let o = gov(&[
        "explain",
        "credential-max-age",
        "etl-legacy-key",
        "-p",
        "policy.gov",
        "-i",
        "small.json",
        "--now",
        "2026-11-22",
    ]);
    assert!(stdout(&o).contains("waived by exception `legacy-etl-key`"));
    let o = gov(&["explain", "owner-required", "-p", "policy.gov"]);
    assert!(stdout(&o).contains("Every non-human identity has an active human owner."));
}

#[test]
fn check_reports_errors_with_exit_3_and_warnings_with_deny_warnings() {
    let o = gov(&["check", "policy.gov", "--now", "2026-11-22"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("gov::check::expired_exception"));
    let o = gov(&["check", "policy.gov", "--now", "2026-11-22", "--deny-warnings"]);
    assert_eq!(o.status.code(), Some(3));
    let dir = std::env::temp_dir().join(format!("gov-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.gov");
    std::fs::write(&bad, "rule r {\n  for c: credential\n  require now - c.rotatd_at < 90d\n}\n")
        .unwrap();
    let o = gov(&["check", bad.to_str().unwrap(), "--error-format", "json"]);
    assert_eq!(o.status.code(), Some(3));
    let line = String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or_default().to_owned();
    let d: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(d["code"], "gov::check::unknown_attribute");
    assert_eq!(d["line"], 3);
    assert!(d["help"].as_str().unwrap().contains("rotated_at"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn broken_inventory_exits_4() {
    let dir = std::env::temp_dir().join(format!("gov-cli-inv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inv = dir.join("inv.json");
    std::fs::write(
        &inv,
        "{\"format\": \"gov.inventory/v1\", \"nodes\": [ {\"id\": \"a\", \"kind\": \"identity\"",
    )
    .unwrap();
    let o = gov(&["eval", "policy.gov", "--inventory", inv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mapping_file_errors_have_their_exit_codes() {
    let o = eval(&["--mapping", "no-such-mapping.yaml"]);
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = std::env::temp_dir().join(format!("gov-cli-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("map.yaml");
    std::fs::write(&bad, "owner: [owner\n  tier: {").unwrap();
    let o = eval(&["--mapping", bad.to_str().unwrap(), "--error-format", "json"]);
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("gov::ingest::invalid_mapping"));
    let good = dir.join("good.yaml");
    std::fs::write(&good, "owner: [custodian]\n").unwrap();
    assert_eq!(
        eval(&["--mapping", good.to_str().unwrap(), "--fail-on", "never"]).status.code(),
        Some(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rule whose undirected three-hop path visits a few nodes per service
/// account of `small.json`: a walk limit of 2 stops it, 1000 does not.
fn write_walk_policy(dir: &std::path::Path) -> std::path::PathBuf {
    let policy = dir.join("walk.gov");
    std::fs::write(
        &policy,
        "rule credentials-reach-a-service {\n  enforce hard\n  for i: identity\n  where i.type == \"service_account\"\n  require exists i -[_]- c -[_]- _ -[supports]-> s: service\n}\n",
    )
    .unwrap();
    policy
}

/// `--walk-limit` bounds the nodes one rule's paths visit for one entity:
/// past it the rule ends in an error finding with its code (an open finding,
/// so the build fails); zero is a usage error.
#[test]
fn walk_limit_turns_a_long_walk_into_an_error_finding() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_walk_policy(dir.path());
    let policy = policy.to_str().unwrap();
    let run = |limit: &str| {
        let args = [
            "eval",
            policy,
            "--inventory",
            "small.json",
            "--now",
            "2026-11-22",
            "--format",
            "plain",
        ];
        let mut args = args.to_vec();
        args.extend(["--walk-limit", limit]);
        gov(&args)
    };
    let ok = run("1000");
    assert_eq!(ok.status.code(), Some(1), "svc-orphan reaches no service: {}", stdout(&ok));
    assert!(!stdout(&ok).contains("gov::eval::walk_limit"), "{}", stdout(&ok));
    let limited = run("2");
    assert_eq!(limited.status.code(), Some(1));
    let text = stdout(&limited);
    assert!(
        text.contains("visited more than 2 nodes for one entity (gov::eval::walk_limit)"),
        "{text}"
    );
    assert!(text.contains("error[hard]: svc-billing"), "{text}");
    assert_eq!(run("0").status.code(), Some(2));
}

/// `gov report` and `gov diff` audit with the same `--walk-limit` as `gov
/// eval`: the report shows the error finding, and a change that adds the
/// exploding rule adds it.
#[test]
fn report_and_diff_take_the_walk_limit() {
    let dir = tempfile::tempdir().unwrap();
    let head = write_walk_policy(dir.path());
    let base = dir.path().join("base.gov");
    std::fs::write(&base, "rule named {\n  for i: identity\n  require i has name\n}\n").unwrap();
    let (head, base) = (head.to_str().unwrap(), base.to_str().unwrap());
    let html = dir.path().join("report.html");
    let html_arg = html.to_str().unwrap();
    let common = ["--inventory", "small.json", "--now", "2026-11-22", "--walk-limit"];
    let report = |limit: &str| {
        let mut args = vec!["report", head, "-o", html_arg];
        args.extend(common);
        args.push(limit);
        let out = gov(&args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(&html).unwrap()
    };
    assert!(!report("1000").contains("gov::eval::walk_limit"));
    assert!(report("2").contains("visited more than 2 nodes for one entity"));
    let diff = |limit: &str| {
        let mut args = vec!["diff", "--base", base, "--head", head, "--format", "json"];
        args.extend(common);
        args.push(limit);
        gov(&args)
    };
    let wide = diff("1000");
    assert_eq!(wide.status.code(), Some(1), "svc-orphan is a new hard finding: {}", stdout(&wide));
    assert!(!stdout(&wide).contains("gov::eval::walk_limit"), "{}", stdout(&wide));
    let narrow = stdout(&diff("2"));
    assert!(narrow.contains("visited more than 2 nodes for one entity"), "{narrow}");
    assert_eq!(diff("0").status.code(), Some(2));
}
