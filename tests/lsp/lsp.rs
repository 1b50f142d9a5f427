//! `gov lsp` at the protocol level: a client sends real JSON-RPC messages to
//! the server running in-process and checks what an editor would show.
#![cfg(feature = "lsp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{Client, pos_of};
use serde_json::{Value, json};

const RULES: &str = r#"package acme.rules

const MAX_AGE = 90d

/// Every credential is rotated within the window.
rule credential-max-age {
  severity high
  enforce hard
  for c: credential where not c.ephemeral
  let limit = MAX_AGE
  require c has rotated_at and now - c.rotated_at <= limit
  message "{c.name} was last rotated {now - c.rotated_at} ago"
}

fn is_human(x: identity) -> bool { x.type == "human" }
"#;

const EXCEPTIONS: &str = r#"package acme.exceptions

exception legacy-key {
  rule credential-max-age
  when c.name == "legacy"
  until 2099-01-31
  approved_by "ciso@example.com"
  reason "vendor cannot rotate"
}
"#;

/// A workspace on disk with two files; returns the dir and both URIs.
fn workspace() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.gov"), RULES).unwrap();
    std::fs::write(dir.path().join("exceptions.gov"), EXCEPTIONS).unwrap();
    let rules = gov::lsp::path_to_uri(&dir.path().join("rules.gov"));
    let exc = gov::lsp::path_to_uri(&dir.path().join("exceptions.gov"));
    (dir, rules, exc)
}

fn start(dir: &tempfile::TempDir) -> Client {
    Client::start(Some(dir.path()), json!({"now": "2026-06-01"}))
}

fn hover_text(v: &Value) -> String {
    v["contents"]["value"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_typo_gets_a_located_diagnostic_with_code_and_help_then_clears() {
    let (dir, rules, _) = workspace();
    let mut c = start(&dir);
    let broken = RULES.replace("c.rotated_at <= limit", "c.rotatd_at <= limit");
    c.open(&rules, &broken);
    let diags = c.diagnostics(&rules);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "gov::check::unknown_attribute");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "gov");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains("rotatd_at") && msg.contains("help: did you mean `rotated_at`?"), "{msg}");
    let (line, col) = pos_of(&broken, "rotatd_at <=", 0);
    assert_eq!(d["range"]["start"]["line"], line);
    assert!(d["range"]["start"]["character"].as_u64().unwrap() <= u64::from(col));
    assert_eq!(d["range"]["end"]["character"], col + 9);

    c.change(&rules, 2, RULES);
    assert_eq!(c.diagnostics(&rules), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn an_exception_for_a_renamed_rule_in_another_file_is_reported_there() {
    let (dir, rules, exc) = workspace();
    let mut c = start(&dir);
    c.open(&rules, &RULES.replace("rule credential-max-age", "rule credential-age"));
    let diags = c.diagnostics(&exc);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "gov::check::unknown_rule");
    assert!(
        diags[0]["message"].as_str().unwrap().contains("did you mean `credential-age`"),
        "{diags:?}"
    );
    c.shutdown();
}

#[test]
fn a_parse_error_is_reported_and_other_files_stay_quiet() {
    let (dir, rules, _) = workspace();
    let mut c = start(&dir);
    c.open(&rules, &RULES.replace("severity high", "severity hihg"));
    let diags = c.diagnostics(&rules);
    assert_eq!(diags[0]["code"], "gov::parse::unknown_severity", "{diags:?}");
    // The exception names a rule of the broken file: no cascade.
    assert!(c.notifications.iter().all(|n| !n.params.to_string().contains("unknown_rule")));
    c.shutdown();
}

#[test]
fn hover_shows_attribute_types_rule_docs_builtins_constants_and_variables() {
    let (dir, rules, exc) = workspace();
    let mut c = start(&dir);
    c.open(&rules, RULES);
    assert!(c.diagnostics(&rules).is_empty());

    let (l, col) = pos_of(RULES, "rotated_at <= limit", 2);
    let h = hover_text(&c.at("textDocument/hover", &rules, l, col));
    assert!(h.contains("credential.rotated_at: timestamp?"), "{h}");

    let (l, col) = pos_of(EXCEPTIONS, "credential-max-age", 3);
    c.open(&exc, EXCEPTIONS);
    let h = hover_text(&c.at("textDocument/hover", &exc, l, col));
    assert!(
        h.contains("rule credential-max-age") && h.contains("Every credential is rotated"),
        "{h}"
    );

    let (l, col) = pos_of(RULES, "MAX_AGE\n", 1);
    let h = hover_text(&c.at("textDocument/hover", &rules, l, col));
    assert!(h.contains("value: `90d`"), "{h}");

    let (l, col) = pos_of(RULES, "c.ephemeral", 0);
    let h = hover_text(&c.at("textDocument/hover", &rules, l, col));
    assert!(h.contains("c: credential"), "{h}");

    let text = RULES.replace("x.type == \"human\"", "lower(x.type) == \"human\"");
    c.change(&rules, 2, &text);
    let (l, col) = pos_of(&text, "lower(", 1);
    let h = hover_text(&c.at("textDocument/hover", &rules, l, col));
    assert!(h.contains("lower(text)"), "{h}");

    // Nothing to say on punctuation.
    let (l, col) = pos_of(&text, "{\n  severity", 0);
    assert_eq!(c.at("textDocument/hover", &rules, l, col), Value::Null);
    c.shutdown();
}

#[test]
fn definition_and_references_cross_files() {
    let (dir, rules, exc) = workspace();
    let mut c = start(&dir);
    c.open(&exc, EXCEPTIONS);
    let (l, col) = pos_of(EXCEPTIONS, "credential-max-age", 5);
    let d = c.at("textDocument/definition", &exc, l, col);
    assert_eq!(d["uri"], rules.as_str());
    let (dl, dc) = pos_of(RULES, "credential-max-age", 0);
    assert_eq!(d["range"]["start"], json!({"line": dl, "character": dc}));

    let refs = c.at("textDocument/references", &exc, l, col);
    let uris: Vec<&str> =
        refs.as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(uris.len(), 2, "{refs}");
    assert!(uris.contains(&rules.as_str()) && uris.contains(&exc.as_str()));

    // A `let` goes to its binding; a bound variable to its `for`.
    let (l, col) = pos_of(RULES, "limit\n  message", 1);
    let d = c.at("textDocument/definition", &rules, l, col);
    let (dl, dc) = pos_of(RULES, "limit = ", 0);
    assert_eq!(d["range"]["start"], json!({"line": dl, "character": dc}));
    let (l, col) = pos_of(RULES, "c.ephemeral", 0);
    let d = c.at("textDocument/definition", &rules, l, col);
    let (dl, dc) = pos_of(RULES, "c: credential", 0);
    assert_eq!(d["range"]["start"], json!({"line": dl, "character": dc}));
    c.shutdown();
}

#[test]
fn completion_offers_attributes_edges_severities_and_rule_ids() {
    let (dir, rules, exc) = workspace();
    let mut c = start(&dir);
    let labels = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap().to_owned()).collect()
    };
    let text = RULES.replace("not c.ephemeral", "not c.");
    c.open(&rules, &text);
    let (l, col) = pos_of(&text, "not c.", 6);
    let got = labels(&c.at("textDocument/completion", &rules, l, col));
    assert!(
        got.contains(&"rotated_at".to_owned()) && got.contains(&"ephemeral".to_owned()),
        "{got:?}"
    );
    assert!(
        !got.contains(&"tier".to_owned()),
        "service attributes are not credential attributes: {got:?}"
    );

    let text = RULES.replace("severity high", "severity h");
    c.change(&rules, 2, &text);
    let (l, col) = pos_of(&text, "severity h", 10);
    let got = labels(&c.at("textDocument/completion", &rules, l, col));
    assert!(got.contains(&"high".to_owned()) && got.contains(&"critical".to_owned()), "{got:?}");

    let text = RULES.replace("let limit = MAX_AGE", "let limit = count(c <-[");
    c.change(&rules, 3, &text);
    let (l, col) = pos_of(&text, "c <-[", 5);
    let got = labels(&c.at("textDocument/completion", &rules, l, col));
    assert!(got.contains(&"has_credential".to_owned()), "{got:?}");
    assert!(!got.contains(&"member_of".to_owned()), "nothing is a member of a credential: {got:?}");

    let text = EXCEPTIONS.replace("rule credential-max-age", "rule cred");
    c.open(&exc, &text);
    let (l, col) = pos_of(&text, "rule cred", 9);
    let got = labels(&c.at("textDocument/completion", &exc, l, col));
    assert!(got.contains(&"credential-max-age".to_owned()), "{got:?}");
    c.shutdown();
}

#[test]
fn formatting_returns_the_canonical_text_and_leaves_broken_text_alone() {
    let (dir, rules, _) = workspace();
    let mut c = start(&dir);
    let messy = RULES.replace("  severity high", "severity     high");
    c.open(&rules, &messy);
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": rules}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    let parsed = gov::syntax::parse(&gov::SourceFile::new("x.gov", messy.clone())).unwrap();
    assert_eq!(edits[0]["newText"], gov::syntax::format(&parsed));
    assert!(edits[0]["newText"].as_str().unwrap().contains("\n  severity high\n"));

    c.change(&rules, 2, "rule broken {");
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": rules}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits, Value::Null);
    c.shutdown();
}

#[test]
fn symbols_list_the_declarations() {
    let (dir, rules, _) = workspace();
    let mut c = start(&dir);
    c.open(&rules, RULES);
    let syms = c.request("textDocument/documentSymbol", json!({"textDocument": {"uri": rules}}));
    let names: Vec<&str> =
        syms.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["MAX_AGE", "credential-max-age", "is_human"]);
    let ws = c.request("workspace/symbol", json!({"query": "legacy"}));
    let names: Vec<&str> =
        ws.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["legacy-key"]);
    c.shutdown();
}

#[test]
fn rename_changes_every_use_across_files_and_refuses_bad_names() {
    let (dir, rules, exc) = workspace();
    let mut c = start(&dir);
    c.open(&rules, RULES);
    let (l, col) = pos_of(RULES, "credential-max-age", 2);
    let params = |name: &str| json!({"textDocument": {"uri": rules}, "position": {"line": l, "character": col}, "newName": name});
    let edit = c.request("textDocument/rename", params("credential-rotation"));
    let changes = edit["changes"].as_object().unwrap();
    assert_eq!(changes.len(), 2, "{edit}");
    assert_eq!(changes[&exc][0]["newText"], "credential-rotation");
    let bad = c.request("textDocument/rename", params("not a name"));
    assert!(bad["error"]["message"].as_str().unwrap().contains("not a valid name"), "{bad}");

    let (l, col) = pos_of(RULES, "limit = ", 0);
    let edit = c.request("textDocument/rename", json!({"textDocument": {"uri": rules}, "position": {"line": l, "character": col}, "newName": "window"}));
    assert_eq!(edit["changes"][&rules].as_array().unwrap().len(), 2, "{edit}");
    c.shutdown();
}

/// Applies LSP text edits (non-overlapping) to a text.
fn apply(text: &str, edits: &[Value]) -> String {
    let ix = gov::lsp::LineIndex::new(text);
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let p = |v: &Value| {
                lsp_types::Position::new(
                    v["line"].as_u64().unwrap() as u32,
                    v["character"].as_u64().unwrap() as u32,
                )
            };
            (
                ix.offset(p(&e["range"]["start"])),
                ix.offset(p(&e["range"]["end"])),
                e["newText"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_owned();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

fn quick_fix(c: &mut Client, uri: &str, text: &str, needle: &str) -> String {
    let (l, col) = pos_of(text, needle, 0);
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": l, "character": col}, "end": {"line": l, "character": col}}, "context": {"diagnostics": []}}),
    );
    let a = &actions.as_array().unwrap_or_else(|| panic!("{actions}"))[0];
    assert_eq!(a["kind"], "quickfix");
    apply(text, a["edit"]["changes"][uri].as_array().unwrap())
}

#[test]
fn quick_fixes_apply_what_the_help_names() {
    let (dir, rules, _) = workspace();
    let mut c = start(&dir);
    let cases = [
        ("c.rotated_at <= limit", "c.rotatd_at <= limit", "rotatd_at"),
        ("x.type == \"human\"", "x.type = \"human\"", "= \"human\""),
        ("require c has rotated_at and now", "require now", "c.rotated_at <= limit"),
        ("<= limit\n", "<= limit + 7\n", "limit + 7"),
    ];
    for (version, (good, bad, at)) in cases.into_iter().enumerate() {
        let text = RULES.replace(good, bad);
        c.change(&rules, version as i32 + 2, &text);
        let diags = c.diagnostics(&rules);
        assert!(!diags.is_empty(), "{bad}");
        let fixed = quick_fix(&mut c, &rules, &text, at);
        c.change(&rules, 10 + version as i32, &fixed);
        assert_eq!(c.diagnostics(&rules), Vec::<Value>::new(), "{bad} fixed as:\n{fixed}");
    }
    c.shutdown();
}

#[test]
fn unknown_methods_get_an_error_and_the_server_carries_on() {
    let (dir, rules, _) = workspace();
    let mut c = start(&dir);
    let r = c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": rules}}));
    assert_eq!(r["error"]["code"], -32601);
    let r = c.request("textDocument/hover", json!({"bogus": 1}));
    assert_eq!(r["error"]["code"], -32602);
    // An unopened, unknown document: no answer, no failure.
    let r = c.at("textDocument/hover", "file:///nowhere.gov", 0, 0);
    assert_eq!(r, Value::Null);
    c.shutdown();
}

#[test]
fn the_project_file_sets_now_and_its_mistakes_are_shown_at_their_key() {
    let (dir, rules, exc) = workspace();
    // `now` after the exception's `until`: the expiry lint fires.
    std::fs::write(dir.path().join("gov.toml"), "now = \"2100-01-01\"\n").unwrap();
    let mut c = Client::start(Some(dir.path()), json!({}));
    let d = c.diagnostics(&exc);
    assert_eq!(d[0]["code"], "gov::check::expired_exception", "{d:?}");
    c.shutdown();

    std::fs::write(dir.path().join("gov.toml"), "policies = [\".\"]\nfail-on = \"hard\"\n")
        .unwrap();
    let toml_uri = gov::lsp::path_to_uri(&dir.path().join("gov.toml"));
    let mut c = Client::start(Some(dir.path()), json!({}));
    let d = c.diagnostics(&toml_uri);
    assert_eq!(d[0]["code"], "gov::project::unknown_key", "{d:?}");
    assert_eq!(d[0]["range"]["start"], json!({"line": 1, "character": 0}));
    // The policies are still checked.
    c.open(&rules, RULES);
    assert!(c.diagnostics(&rules).is_empty());
    c.shutdown();
}
