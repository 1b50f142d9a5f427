//! The README's first command: the standard library over the Acme example
//! organisation with its exceptions, findings in every priority, approved
//! exceptions waiving, the expired one reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

#[test]
fn readme_first_command_finds_every_priority_and_applies_exceptions() {
    let out = cli_support::gov(cli_support::QUICK_START_JSON);
    assert_eq!(
        out.status.code(),
        Some(1),
        "hard findings fail the run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    for p in ["P1", "P2", "P3", "P4"] {
        assert!(
            findings.iter().any(|f| f["priority"]["label"] == p && f["status"] == "open"),
            "no open {p} finding"
        );
    }
    let waived: Vec<&str> = findings
        .iter()
        .filter(|f| f["status"] == "waived")
        .map(|f| f["waiver"]["exception"].as_str().unwrap())
        .collect();
    assert_eq!(
        waived,
        ["legacy-deployer-keys", "legacy-deployer-keys", "sms-gateway-key-rotation"]
    );
    let expired: Vec<&str> = v["expired_exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["exception"].as_str().unwrap())
        .collect();
    assert_eq!(expired, ["analytics-readonly-shared"]);
    // The expired exception waives nothing: its credential stays open.
    assert!(findings.iter().any(|f| f["entity"] == "vault:kv/shared/analytics-db-readonly"
        && f["rule"] == "credential-max-age-by-tier"
        && f["status"] == "open"));
}
