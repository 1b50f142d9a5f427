//! The `gov ingest` and `gov graph` commands: output and exit codes
//! (0 ok, 2 usage, 4 invalid inventory, 5 I/O error).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use cli_support::{gov, text};

const AUTHZ: &str = "../shared/realdata/aws_authz_details__cloudsplaining_example.json";

#[test]
fn ingest_detects_formats_and_writes_native_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("inv.json");
    let o =
        gov(&["ingest", AUTHZ, "tests/fixtures/ingest/k8s_rbac.json", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["format"], "gov.inventory/v1");
    let stats = gov(&["graph", "stats", out.to_str().unwrap(), "--format", "json"]);
    assert_eq!(stats.status.code(), Some(0), "{}", text(&stats.stderr));
    let st: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(st["nodes_by_kind"]["group"], 5 + 1);
    assert!(st["edges_by_kind"]["assumes"].as_u64().unwrap() > 80);
}

#[test]
fn ingest_with_explicit_format_and_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.yaml");
    std::fs::write(&map, "service: [app.kubernetes.io/part-of]\ntier: [tier]\n").unwrap();
    let o = gov(&[
        "ingest",
        "--from",
        "k8s",
        "tests/fixtures/ingest/k8s_rbac.json",
        "--mapping",
        map.to_str().unwrap(),
        "-o",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(
        r#""id":"service:payments","kind":"service","attrs":{"name":"payments","tier":0}"#
    ));
}

#[test]
fn invalid_inventory_exits_4_and_lists_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"format\": \"gov.inventory/v1\", \"nodes\": [{\"id\": \"a\", \"kind\": \"grop\"}]}",
    )
    .unwrap();
    let o = gov(&["graph", "stats", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    let err = text(&o.stderr);
    assert!(err.contains("gov::ingest::unknown_kind"), "{err}");
    assert!(err.contains("did you mean `group`?"), "{err}");
    assert!(err.contains("1 error in the inventory"), "{err}");
    let lenient = gov(&["graph", "stats", bad.to_str().unwrap(), "--lenient"]);
    assert_eq!(lenient.status.code(), Some(0));
    assert!(text(&lenient.stderr).contains("warning: 1 problem reported; the rest was loaded"));
}

#[test]
fn missing_file_exits_5() {
    let o = gov(&["graph", "stats", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(text(&o.stderr).contains("cannot read `no/such/file.json`"));
    let o = gov(&["ingest", "no/such/file.json", "-o", "x.json"]);
    assert_eq!(o.status.code(), Some(5));
}

#[test]
fn usage_error_exits_2() {
    assert_eq!(gov(&["ingest", "--from", "ldap", "x", "-o", "y"]).status.code(), Some(2));
    assert_eq!(gov(&["graph", "show"]).status.code(), Some(2));
}

#[test]
fn show_renders_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("gen.json");
    let g = gov(&[
        "graph",
        "generate",
        "--identities",
        "200",
        "--seed",
        "4",
        "-o",
        inv.to_str().unwrap(),
    ]);
    assert_eq!(g.status.code(), Some(0), "{}", text(&g.stderr));
    let inv = inv.to_str().unwrap();
    let id = "nhi:svc-acct-0000001";
    let t = text(&gov(&["graph", "show", id, inv, "--depth", "1"]).stdout);
    assert!(t.starts_with("nhi:svc-acct-0000001 (identity)\n"), "{t}");
    assert!(t.contains(" -[supports]-> service:svc-"), "{t}");
    let dot = text(&gov(&["graph", "show", id, inv, "--format", "dot"]).stdout);
    assert!(
        dot.starts_with("digraph neighbourhood {") && dot.contains("[label=\"supports\"]"),
        "{dot}"
    );
    let mermaid = text(&gov(&["graph", "show", id, inv, "--format", "mermaid"]).stdout);
    assert!(
        mermaid.starts_with("flowchart LR\n") && mermaid.contains("-->|has_credential|"),
        "{mermaid}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &gov(&["graph", "show", id, inv, "--format", "json", "--depth", "2"]).stdout,
    )
    .unwrap();
    assert_eq!(json["nodes"][0]["id"], id);
    assert!(json["nodes"][0]["provenance"]["record"].as_u64().is_some());
    let missing = gov(&["graph", "show", "nhi:svc-acct-000001", inv]);
    assert_eq!(missing.status.code(), Some(4));
    assert!(text(&missing.stderr).contains("did you mean `nhi:svc-acct-0000001`?"));
}

#[test]
fn a_directory_loads_every_inventory_in_it() {
    let dir = tempfile::tempdir().unwrap();
    for (name, seed) in [("a.json", 1), ("b.json", 2)] {
        let o = gov(&[
            "ingest",
            if seed == 1 { AUTHZ } else { "tests/fixtures/ingest/k8s_rbac.json" },
            "-o",
            dir.path().join(name).to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0));
    }
    let o = gov(&["graph", "stats", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("service                    1"), "{}", text(&o.stdout));
}

/// Every failure of the command line is a diagnostic with a code: with
/// `--error-format json`, each stderr line is a JSON object a tool can read,
/// never a bare `error:` line.
#[test]
fn command_line_errors_honour_the_json_error_format() {
    let cases: &[(&[&str], i32, &str)] = &[
        (&["eval", "policies/"], 2, "gov::cli::usage"),
        (
            &["eval", "policies/", "-i", "examples/acme/", "--rule", "owner-requird"],
            2,
            "gov::cli::not_found",
        ),
        (&["explain", "nope", "-p", "policies/"], 2, "gov::cli::not_found"),
        (&["eval", "--no-such-flag"], 2, "gov::cli::usage"),
        (&["report", "policies/"], 2, "gov::cli::usage"),
        (&["diff", "--base", "policies"], 2, "gov::cli::usage"),
        (&["graph", "show", "nobody", "examples/nginx/inventory.json"], 4, "gov::cli::not_found"),
        (&["graph", "generate", "--now", "yesterday", "-o", "-"], 2, "gov::cli::usage"),
        (&["ingest", "tests/fixtures/ingest/no-such-file.json", "-o", "-"], 5, "gov::io"),
        (&["ingest", "examples/nginx/inventory.json"], 2, "gov::cli::usage"),
    ];
    for (args, exit, code) in cases {
        let mut all = vec!["--error-format", "json"];
        all.extend_from_slice(args);
        let o = gov(&all);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(*exit), "{args:?}: {err}");
        let lines: Vec<serde_json::Value> = err
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: `{l}`: {e}")))
            .collect();
        assert!(lines.iter().any(|d| d["code"] == *code), "{args:?}: {err}");
    }
    // The nearest rule's name is the hint.
    let o = gov(&["eval", "policies/", "-i", "examples/acme/", "--rule", "nhi-owner-requird"]);
    assert!(text(&o.stderr).contains("did you mean `nhi-owner-required`?"), "{}", text(&o.stderr));
}
