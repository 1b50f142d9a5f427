//! The syntax corpus under `tests/syntax/`:
//!
//! - `valid/`: realistic policies in canonical layout that together use every
//!   construct of the grammar; each must parse.
//! - `layout/`: valid policies written the way people write them before
//!   `gov fmt` (trailing commas, comments between tokens, `\u{..}` escapes);
//!   each must parse, and format to text that parses back to the same tree.
//! - `invalid/`: one mistake per file, named for it; each must fail with
//!   diagnostics that have a code, a message, a label and a help line. What a
//!   user sees (the plain rendering) is pinned by insta snapshots in
//!   `tests/snapshots/`.
//!
//! And inputs built to hurt the parser (too large, not UTF-8, nested 10,000
//! deep, 100,000 `not`s, one 5 MB line) must fail fast with the right code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gov::report::diagnostics::render_plain;
use gov::syntax::{MAX_INPUT_BYTES, format, parse_bytes};
use gov::{Code, Diagnostics};

/// The `.gov` files of `tests/syntax/<dir>`, sorted.
fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/syntax").join(dir);
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
    let dir = path.parent().and_then(Path::file_name).unwrap().to_string_lossy();
    let file = path.file_name().unwrap().to_string_lossy();
    format!("tests/syntax/{dir}/{file}")
}

fn render(diags: &Diagnostics) -> String {
    diags.iter().map(render_plain).collect::<Vec<_>>().join("\n")
}

#[test]
fn valid_files_parse() {
    let mut failures = Vec::new();
    let mut count = 0;
    for dir in ["valid", "layout"] {
        for path in corpus(dir) {
            count += 1;
            let name = display_name(&path);
            let bytes = std::fs::read(&path).unwrap();
            if let Err(diags) = parse_bytes(&name, &bytes) {
                failures.push(format!("{name} should parse:\n{}", render(&diags)));
            }
        }
    }
    assert!(corpus("valid").len() >= 28, "the valid corpus has shrunk");
    assert!(
        failures.is_empty(),
        "{} of {count} valid files failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn valid_files_format_to_the_same_tree() {
    let mut failures = Vec::new();
    for dir in ["valid", "layout"] {
        for path in corpus(dir) {
            let name = display_name(&path);
            let Ok(parsed) = parse_bytes(&name, &std::fs::read(&path).unwrap()) else {
                continue; // reported by `valid_files_parse`
            };
            let text = format(&parsed);
            match parse_bytes(&name, text.as_bytes()) {
                Err(diags) => failures.push(format!(
                    "{name}: formatted text does not parse:\n{}\n{text}",
                    render(&diags)
                )),
                Ok(again) if again.module != parsed.module => {
                    failures.push(format!(
                        "{name}: formatting changed the tree; formatted text:\n{text}"
                    ));
                }
                Ok(again) => {
                    let twice = format(&again);
                    if twice != text {
                        failures.push(format!("{name}: formatting is not idempotent:\n--- once\n{text}\n--- twice\n{twice}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_files_report_diagnostics() {
    assert!(corpus("invalid").len() >= 28, "the invalid corpus has shrunk");
    insta::glob!("invalid/*.gov", |path| {
        let name = display_name(path);
        let bytes = std::fs::read(path).unwrap();
        let diags = match parse_bytes(&name, &bytes) {
            Ok(_) => panic!("{name} should not parse"),
            Err(diags) => diags,
        };
        assert!(diags.has_errors(), "{name}: no error among the diagnostics");
        for d in &diags {
            let shown = render_plain(d);
            assert!(
                d.code.as_str().starts_with("gov::parse::"),
                "{name}: code {}\n{shown}",
                d.code
            );
            assert!(!d.message.trim().is_empty(), "{name}: empty message\n{shown}");
            assert!(d.file.is_some(), "{name}: no source attached\n{shown}");
            assert!(!d.labels.is_empty(), "{name}: no label\n{shown}");
            assert!(
                d.labels.iter().all(|l| !l.text.is_empty()),
                "{name}: a label without text\n{shown}"
            );
            // Every mistake in the corpus has an obvious fix; say it.
            assert!(
                d.help.as_deref().is_some_and(|h| !h.is_empty()),
                "{name}: no help line\n{shown}"
            );
            assert!(!d.message.contains("something else"), "{name}: vague message\n{shown}");
        }
        insta::assert_snapshot!(render(&diags));
    });
}

/// `gov parse` exits with 3 (invalid policy) on every invalid file.
#[cfg(feature = "cli")]
#[test]
fn invalid_files_exit_with_status_3() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for path in corpus("invalid") {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gov"))
            .current_dir(root)
            .args(["parse", "--error-format", "plain", &display_name(&path)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(3) || !stderr.contains("error[gov::parse::") {
            wrong.push(format!("{}: {:?}\n{stderr}", display_name(&path), out.status.code()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ------------------------------------------------------------ hostile input

/// Parses on a thread with a small (2 MiB) stack, so that unbounded recursion
/// shows up here rather than only on a platform with a smaller main stack, and
/// checks the time taken.
fn parse_hostile(bytes: Vec<u8>) -> (Result<(), Diagnostics>, Duration) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let start = Instant::now();
            let result = parse_bytes("hostile.gov", &bytes).map(|_| ());
            (result, start.elapsed())
        })
        .unwrap()
        .join()
        .expect("the parser panicked or overflowed its stack")
}

/// Debug builds on a loaded CI machine are slow; what matters is "seconds,
/// not minutes", and that nothing is quadratic on these sizes.
const QUICK: Duration = Duration::from_secs(20);

fn assert_fails_with(what: &str, bytes: Vec<u8>, code: Code) -> Diagnostics {
    let (result, took) = parse_hostile(bytes);
    let diags = match result {
        Ok(()) => panic!("{what}: parsed, expected {code}"),
        Err(d) => d,
    };
    let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, [code], "{what}:\n{}", render(&diags));
    assert!(took < QUICK, "{what}: took {took:?}");
    diags
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let d = assert_fails_with(
        "MAX_INPUT_BYTES + 1",
        vec![b' '; MAX_INPUT_BYTES + 1],
        Code::InputTooLarge,
    );
    let d = d.iter().next().unwrap();
    assert!(d.message.contains(&MAX_INPUT_BYTES.to_string()), "{}", d.message);
    assert!(d.help.is_some());
    // Exactly at the limit is allowed (and blank).
    let (result, _) = parse_hostile(vec![b' '; MAX_INPUT_BYTES]);
    assert!(result.is_ok());
}

#[test]
fn five_megabytes_on_one_line_is_refused() {
    let line = "const x = ".to_owned() + &"1 + ".repeat(5 * 1024 * 1024 / 4) + "1";
    assert!(line.len() > 5_000_000 && !line.contains('\n'));
    assert_fails_with("a 5 MB line", line.into_bytes(), Code::InputTooLarge);
}

#[test]
fn a_long_operator_chain_under_the_size_limit_is_refused() {
    // 80 kB on one line: parsed flat, then refused for its length.
    let line = "const x = ".to_owned() + &"1 + ".repeat(20_000) + "1";
    let d = assert_fails_with("20,000 additions", line.into_bytes(), Code::TooDeep);
    let d = d.iter().next().unwrap();
    assert!(!d.labels.is_empty() && d.help.is_some(), "{}", render_plain(d));
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let mut bytes = b"rule r {\n  for x: identity\n  require x.name == \"".to_vec();
    let bad_at = bytes.len();
    bytes.extend_from_slice(b"\xff\xfe\"\n}\n");
    let d = assert_fails_with("invalid UTF-8", bytes, Code::InvalidUtf8);
    let d = d.iter().next().unwrap();
    assert!(d.message.contains("line 3"), "{}", d.message);
    assert_eq!(d.primary_span().map(|s| s.start), Some(bad_at));
}

#[test]
fn ten_thousand_nested_parentheses_are_refused() {
    let text = format!("const x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_fails_with("10,000 parentheses", text.into_bytes(), Code::TooDeep);
    let text = format!("const x = {}1{}", "[(".repeat(5_000), ")]".repeat(5_000));
    assert_fails_with("10,000 mixed brackets", text.into_bytes(), Code::TooDeep);
    // Unbalanced: the depth is what matters, not the closing brackets.
    let text = format!("const x = {}", "{".repeat(10_000));
    assert_fails_with("10,000 open braces", text.into_bytes(), Code::TooDeep);
}

#[test]
fn a_hundred_thousand_nots_are_refused() {
    let text = format!("const x = {}true", "not ".repeat(100_000));
    assert_fails_with("100,000 nots", text.into_bytes(), Code::TooDeep);
    // `-`, `.field` and calls are neither brackets nor keywords: the
    // operator limit bounds them (they once overflowed the stack).
    let text = format!("const x = {}1", "-".repeat(20_000));
    assert_fails_with("20,000 minus signs", text.into_bytes(), Code::TooDeep);
    let text = format!("const x = a{}", ".b".repeat(20_000));
    assert_fails_with("20,000 field accesses", text.into_bytes(), Code::TooDeep);
    let text = format!("const x = f{}", "()".repeat(20_000));
    assert_fails_with("20,000 calls", text.into_bytes(), Code::TooDeep);
    let text = format!("const x = {}1{}", "(-".repeat(60), ")".repeat(60));
    assert!(parse_hostile(text.into_bytes()).0.is_ok(), "60 levels of `(-` are fine");
    let text = format!("rule r {{ for x: y require {}x }}", "exists x in ".repeat(20_000));
    let (result, took) = parse_hostile(text.into_bytes());
    assert!(result.is_err(), "20,000 nested quantifiers parsed");
    assert!(took < QUICK, "20,000 nested quantifiers took {took:?}");
}

#[test]
fn limits_leave_room_for_real_policies() {
    // 50 brackets and 200 `not`s deep, 1,000 operators: unusual but allowed.
    let text = format!("const x = {}1{}", "(".repeat(50), ")".repeat(50));
    assert!(parse_hostile(text.into_bytes()).0.is_ok());
    let text = format!("const x = {}true", "not ".repeat(200));
    assert!(parse_hostile(text.into_bytes()).0.is_ok());
    let text = format!("const x = 1{}", " + 1".repeat(gov::syntax::MAX_OPERATOR_CHAIN));
    assert!(parse_hostile(text.into_bytes()).0.is_ok());
    assert!(parse_hostile(Vec::new()).0.is_ok(), "an empty file is an empty module");
}
