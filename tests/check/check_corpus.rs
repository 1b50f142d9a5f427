//! The checker corpus under `tests/check/`:
//!
//! - `*.gov`: one mistake a policy author makes per file, named for it, with a
//!   leading `//` comment saying what went wrong. Each must yield diagnostics
//!   with a `gov::check::` code and a label, and exactly one error (one root
//!   cause, one error) unless the file name starts with `two_independent_` or
//!   `three_independent_`, and no warning; a file named `warn_*` is about a
//!   lint and has warnings and no error. What the author sees (the plain
//!   rendering of every error and warning) is pinned by one insta snapshot
//!   per file.
//! - `valid/*.gov`: the guarded or corrected versions of the mistakes; each
//!   must compile with no errors, and with no warnings unless the file name
//!   contains `warns`.
//!
//! Everything is checked against `Schema::builtin()` with `now = 2026-11-22`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};

use gov::Diagnostics;
use gov::check::{Options, compile};
use gov::graph::Schema;
use gov::report::diagnostics::render_plain;
use gov::source::SourceFile;
use gov::time::Timestamp;

const NOW: &str = "2026-11-22";

/// The `.gov` files of `tests/check/<dir>`, sorted.
fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "gov"))
        .collect();
    files.sort();
    files
}

/// The name diagnostics show: relative to the crate, so snapshots do not
/// depend on where the repository is checked out.
fn display_name(path: &Path) -> String {
    let rel = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
    rel.to_string_lossy().replace('\\', "/")
}

fn render(diags: &Diagnostics) -> String {
    diags.iter().map(render_plain).collect::<Vec<_>>().join("\n")
}

/// Parses (which must succeed: the corpus is about the checker) and compiles
/// one text; returns every diagnostic, errors and warnings, in report order.
fn check_text(name: &str, text: &str) -> Diagnostics {
    let file = SourceFile::new(name, text);
    let parsed = match gov::syntax::parse(&file) {
        Ok(p) => p,
        Err(d) => panic!("{name} must parse; the corpus tests the checker:\n{}", render(&d)),
    };
    let now = Timestamp::parse(NOW).unwrap();
    match compile(&[parsed], &Schema::builtin(), &Options { now }) {
        Ok(compiled) => compiled.warnings,
        Err(diags) => diags,
    }
}

fn check_file(path: &Path) -> (String, Diagnostics) {
    let name = display_name(path);
    let text = std::fs::read_to_string(path).unwrap();
    let diags = check_text(&name, &text);
    (name, diags)
}

/// How many errors a file's name says it has.
fn expected_errors(path: &Path) -> usize {
    let stem = path.file_stem().unwrap().to_string_lossy();
    if stem.starts_with("two_independent_") {
        2
    } else if stem.starts_with("three_independent_") {
        3
    } else {
        1
    }
}

#[test]
fn every_mistake_has_a_leading_comment() {
    for path in corpus("").into_iter().chain(corpus("valid")) {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("//"),
            "{}: start with a `//` comment that says what the author did",
            display_name(&path)
        );
    }
}

#[test]
fn mistakes_report_one_error_per_root_cause() {
    assert!(corpus("").len() >= 32, "the checker corpus has shrunk");
    let problems = std::cell::RefCell::new(Vec::new());
    insta::glob!("*.gov", |path| {
        let (name, diags) = check_file(path);
        let shown = render(&diags);
        let bad = |why: String| problems.borrow_mut().push(format!("{name}: {why}\n{shown}"));
        if diags.is_empty() {
            bad("no diagnostic".into());
        }
        for d in &diags {
            if !d.code.as_str().starts_with("gov::check::") {
                bad(format!("code {}", d.code));
            }
            if d.message.trim().is_empty() || d.file.is_none() {
                bad("empty message or no source".into());
            }
            if d.labels.is_empty() || d.labels.iter().any(|l| l.text.is_empty()) {
                bad("no label, or a label without text".into());
            }
        }
        // A file about a warning (`warn_*`) has no error; all others have
        // one, or as many as the name says.
        let stem = path.file_stem().unwrap().to_string_lossy();
        let want = if stem.starts_with("warn_") { 0 } else { expected_errors(path) };
        if diags.error_count() != want {
            bad(format!("expected {want} error(s), got {}", diags.error_count()));
        }
        if want == 0 && diags.warning_count() == 0 {
            bad("expected a warning".into());
        }
        // Nor does an error drag follow-on warnings along (an "unused" let
        // that the misspelled name meant, say).
        if want > 0 && diags.warning_count() > 0 {
            bad(format!("{} warning(s) besides the error(s)", diags.warning_count()));
        }
        insta::assert_snapshot!(shown);
    });
    let problems = problems.into_inner();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn valid_variants_compile_cleanly() {
    let files = corpus("valid");
    assert!(files.len() >= 5, "the valid checker corpus has shrunk");
    let mut failures = Vec::new();
    for path in files {
        let (name, diags) = check_file(&path);
        let may_warn = path.file_stem().unwrap().to_string_lossy().contains("warns");
        if diags.has_errors() || (!may_warn && !diags.is_empty()) {
            failures.push(format!("{name}:\n{}", render(&diags)));
        }
        if may_warn && diags.is_empty() {
            failures.push(format!("{name}: named `warns` but gave no warning"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// All errors of a file come out of one run, ordered by position, even when
/// they are found in different passes (rules before exceptions).
#[test]
fn errors_come_out_together_in_source_order() {
    let text = r#"exception late-waiver {
  rule credential-max-age
  when c.nmae == "legacy"
  until 2027-01-31
}

rule owner-required {
  for id: identity
  require exists id -[owend_by]-> p: identity
}

rule credential-max-age {
  for c: credential where c has rotated_at
  require now - c.rotated_at <= 90
}
"#;
    let diags = check_text("three.gov", text);
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "gov::check::unknown_attribute",
            "gov::check::unknown_edge_kind",
            "gov::check::type_mismatch"
        ],
        "{}",
        render(&diags)
    );
    let starts: Vec<usize> = diags.iter().map(|d| d.primary_span().unwrap().start).collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted, "not in source order:\n{}", render(&diags));
    assert_eq!(diags.error_count(), 3);
}

/// Warnings and errors interleave by position too.
#[test]
fn warnings_and_errors_are_ordered_together() {
    let text = r#"rule a {
  for c: credential
  let unused = 1
  require c.rotatd_at < now
}
"#;
    let diags = check_text("mixed.gov", text);
    let kinds: Vec<(bool, &str)> = diags.iter().map(|d| (d.is_error(), d.code.as_str())).collect();
    assert_eq!(
        kinds,
        [(false, "gov::check::unused_let"), (true, "gov::check::unknown_attribute")],
        "{}",
        render(&diags)
    );
}
