//! `gov.toml`: `gov eval` with no policy arguments runs the project's audit;
//! flags override the file; a bad key is a located error.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use cli_support::gov_in as gov;

#[test]
fn eval_without_arguments_runs_the_acme_project_and_flags_override_it() {
    let acme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let out = gov(&acme, &["eval", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Hard-enforced rules fail at Acme (fail_on = "hard"): exit 1, with findings.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("\"rule\""), "{stdout}");
    // The same audit from explicit arguments gives the same report.
    let explicit = gov(
        &acme,
        &[
            "eval",
            "../../policies/",
            "exceptions.gov",
            "-i",
            ".",
            "--now",
            "2026-11-22",
            "--format",
            "json",
        ],
    );
    // The same findings (file names differ: the project's paths are absolute).
    let key = |out: &[u8]| -> (serde_json::Value, Vec<(String, String)>) {
        let v: serde_json::Value = serde_json::from_slice(out).unwrap();
        let mut f: Vec<(String, String)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["rule"].to_string(), f["entity"].to_string()))
            .collect();
        f.sort();
        (v["summary"].clone(), f)
    };
    let (summary, findings) = key(&out.stdout);
    assert!(!findings.is_empty());
    assert_eq!(key(&explicit.stdout), (summary, findings));
    // A flag overrides the file.
    let never = gov(&acme, &["eval", "--fail-on", "never", "--format", "json"]);
    assert_eq!(never.status.code(), Some(0));
}

#[test]
fn an_unknown_key_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gov.toml"),
        "policies = [\"p.gov\"]\ninventory = [\"x.json\"]\n",
    )
    .unwrap();
    let out = gov(dir.path(), &["--error-format", "plain", "eval"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("gov::project::unknown_key"), "{stderr}");
    assert!(stderr.contains("gov.toml:2:1"), "{stderr}");
}

#[test]
fn eval_without_arguments_or_project_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = gov(dir.path(), &["eval"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gov.toml"));
}
