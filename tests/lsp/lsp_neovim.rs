//! `gov lsp` with a real editor: Neovim's built-in LSP client runs
//! `tests/lsp/neovim.lua` headless against the `gov` binary. Under CI=true a
//! missing `nvim` fails; elsewhere the test skips and says why.
#![cfg(feature = "lsp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use std::process::Command;
use std::time::Duration;

const POLICY: &str = r#"package editor.demo

/// Credentials are rotated within 90 days.
rule credential-max-age {
severity     high
  for c: credential where not c.ephemeral
  let limit = 90d
  require c has rotated_at and now - c.rotatd_at <= limit
  message "{c.name} is old"
}
"#;

fn nvim() -> Option<&'static str> {
    let found = Command::new("nvim").arg("--version").output().is_ok_and(|o| o.status.success());
    found.then_some("nvim")
}

#[test]
fn neovim_gets_diagnostics_hover_definition_completion_a_quick_fix_and_formatting() {
    let Some(nvim) = nvim() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "nvim is not installed (CI installs Debian's neovim)"
        );
        eprintln!("skipped: nvim is not installed (apt-get install neovim)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("demo.gov");
    std::fs::write(&policy, POLICY).unwrap();
    let out = dir.path().join("out.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lsp/neovim.lua");
    let mut child = Command::new(nvim)
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {script}"))
        .env("GOV_BIN", env!("CARGO_BIN_EXE_gov"))
        .env("GOV_POLICY", &policy)
        .env("GOV_OUT", &out)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let Some(status) = cli_support::wait_for(&mut child, Duration::from_secs(120)) else {
        panic!("nvim did not finish in 120 s");
    };
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(status.success(), "nvim failed: {got}");

    let diags = got["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{got}");
    assert_eq!(diags[0]["code"], "gov::check::unknown_attribute", "{got}");
    assert_eq!(diags[0]["line"], 7);
    assert!(diags[0]["message"].as_str().unwrap().contains("did you mean `rotated_at`"), "{got}");
    assert!(got["hover"].as_str().unwrap().contains("credential.ephemeral: bool"), "{got}");
    assert_eq!(got["definition"]["line"], 6, "{got}");
    assert_eq!(got["definition"]["character"], 6, "{got}");
    let completion: Vec<&str> =
        got["completion"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(completion.contains(&"rotated_at") && completion.contains(&"expires_at"), "{got}");
    assert_eq!(got["quick_fix"], "replace with `rotated_at`", "{got}");
    assert_eq!(got["diagnostics_after_fix"], serde_json::json!([]), "{got}");
    let formatted = got["formatted"].as_str().unwrap();
    assert!(formatted.contains("\n  severity high\n"), "{formatted}");
    assert!(formatted.contains("now - c.rotated_at <= limit"), "{formatted}");
}
