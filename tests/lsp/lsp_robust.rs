//! `gov lsp` on text being typed: random edit sequences (half-typed words,
//! deleted braces, stray quotes) followed by random requests. Every request
//! gets an answer that is not an internal error, and the server never dies.
#![cfg(feature = "lsp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/lsp_client.rs"]
mod lsp_client;

use lsp_client::Client;
use proptest::prelude::*;
use serde_json::{Value, json};

const SEED: &str = include_str!("../syntax/valid/credential_age.gov");

/// Fragments a person types (or deletes) mid-edit.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "\"",
    "c.",
    ".",
    "-[",
    "<-[",
    "]->",
    "rule ",
    "let ",
    "require ",
    "severity ",
    "for x: ",
    "exception e {\n rule ",
    "///",
    "/*",
    "==",
    "=",
    "é",
    "\u{1F600}",
    "\n",
    "90",
    "d",
    "has ",
    "and ",
    "not ",
    ":",
    "|",
    "min(",
    "credential",
    "s.tier",
];

#[derive(Clone, Debug)]
enum Edit {
    /// Delete `len` bytes at a fraction of the text.
    Delete(f64, usize),
    /// Insert a fragment at a fraction of the text.
    Insert(f64, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0f64, 1..40usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0.0..1.0f64, 0..FRAGMENTS.len()).prop_map(|(at, i)| Edit::Insert(at, i)),
    ]
}

fn boundary(text: &str, frac: f64) -> usize {
    let mut at = ((text.len() as f64) * frac) as usize;
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at.min(text.len())
}

fn apply(text: &mut String, e: &Edit) {
    match e {
        Edit::Delete(frac, n) => {
            let s = boundary(text, *frac);
            let mut end = (s + n).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(s..end, "");
        }
        Edit::Insert(frac, i) => {
            let s = boundary(text, *frac);
            text.insert_str(s, FRAGMENTS[*i]);
        }
    }
}

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/completion",
    "textDocument/formatting",
    "textDocument/documentSymbol",
    "textDocument/codeAction",
    "textDocument/rename",
];

fn ask(c: &mut Client, uri: &str, method: &str, line: u32, character: u32) -> Value {
    let pos = json!({"line": line, "character": character});
    c.request(
        method,
        json!({
            "textDocument": {"uri": uri},
            "position": pos,
            "range": {"start": pos, "end": pos},
            "context": {"includeDeclaration": true, "diagnostics": [], "triggerKind": 1},
            "options": {"tabSize": 2, "insertSpaces": true},
            "newName": "renamed",
        }),
    )
}

fn assert_answered(method: &str, r: &Value, text: &str) {
    // Rename may refuse (a user error); nothing may fail inside the server.
    if let Some(code) = r["error"]["code"].as_i64() {
        assert!(
            method == "textDocument/rename" && code == -32803,
            "{method} failed with {r} on:\n{text}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_request_on_half_typed_text_is_answered(
        edits in proptest::collection::vec(edit(), 1..12),
        asks in proptest::collection::vec((0..METHODS.len(), 0..40u32, 0..120u32), 1..6),
    ) {
        let mut c = Client::start(None, json!({"now": "2026-06-01"}));
        let uri = "file:///robust/policy.gov";
        let mut text = SEED.to_owned();
        c.open(uri, &text);
        for (v, e) in edits.iter().enumerate() {
            apply(&mut text, e);
            c.change(uri, v as i32 + 2, &text);
            for (m, line, col) in &asks {
                let r = ask(&mut c, uri, METHODS[*m], *line, *col);
                assert_answered(METHODS[*m], &r, &text);
            }
        }
        c.shutdown();
    }
}

#[test]
fn invalid_utf8_and_oversized_files_on_disk_are_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latin1.gov"), b"rule caf\xe9 {\n  severity high\n}\n").unwrap();
    let big = "// padding\n".repeat(10 * 1024 * 1024 / 11 + 1);
    std::fs::write(dir.path().join("big.gov"), &big).unwrap();
    let mut c = Client::start(Some(dir.path()), json!({}));
    let latin = gov::lsp::path_to_uri(&dir.path().join("latin1.gov"));
    let big_uri = gov::lsp::path_to_uri(&dir.path().join("big.gov"));
    let d = c.diagnostics(&latin);
    assert_eq!(d[0]["code"], "gov::parse::invalid_utf8", "{d:?}");
    let d = c.diagnostics(&big_uri);
    assert_eq!(d[0]["code"], "gov::parse::input_too_large", "{d:?}");
    for m in METHODS {
        for uri in [&latin, &big_uri] {
            let r = ask(&mut c, uri, m, 0, 5);
            assert_answered(m, &r, "(file on disk)");
        }
    }
    // Opened in the editor, the 10 MB buffer still answers.
    c.open(&big_uri, &big);
    let r = ask(&mut c, &big_uri, "textDocument/completion", 1000, 3);
    assert!(r.is_array(), "{r}");
    c.shutdown();
}
