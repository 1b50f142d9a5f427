//! The standard policy library (`policies/`): its own `test` blocks pass with
//! at least 90% clause coverage, every rule is documented, mapped to a
//! framework and exercised by a passing and a failing expectation, and
//! exceptions (active and expired) behave as documented.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gov::source::SourceFile;
use gov::syntax::Parsed;
use gov::syntax::ast::{Expectation, Item, RuleClauseKind, TestClauseKind};
use gov::testing::{TestOptions, TestReport, run};

fn gov_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            gov_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "gov") {
            out.push(p);
        }
    }
}

fn library() -> Vec<Parsed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut paths = Vec::new();
    gov_files(&root, &mut paths);
    assert!(!paths.is_empty(), "no policies under {}", root.display());
    paths
        .iter()
        .map(|p| {
            // The file name is the path, so fixtures resolve relative to it.
            let file =
                SourceFile::new(p.display().to_string(), std::fs::read_to_string(p).unwrap());
            gov::syntax::parse(&file)
                .unwrap_or_else(|e| panic!("{} does not parse: {e:?}", p.display()))
        })
        .collect()
}

fn run_tests(files: &[Parsed]) -> TestReport {
    let report = run(files, &TestOptions { coverage: true, ..Default::default() })
        .unwrap_or_else(|d| panic!("the library's tests do not run: {d:?}"));
    let failed: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{} ({}): {}", r.name, r.location, r.failures.join("; ")))
        .collect();
    assert!(failed.is_empty(), "failing library tests:\n{}", failed.join("\n"));
    report
}

#[test]
fn library_tests_pass_with_coverage() {
    let files = library();
    let report = run_tests(&files);
    assert!(report.results.len() >= 18, "only {} tests", report.results.len());
    let pct = report.coverage_percent().unwrap();
    let uncovered: Vec<String> = report
        .coverage
        .iter()
        .flatten()
        .flat_map(|r| {
            r.clauses
                .iter()
                .filter(|c| !(c.seen_true && c.seen_false))
                .map(move |c| format!("{} {} line {}", r.rule, c.clause, c.line))
        })
        .collect();
    assert!(pct >= 90.0, "coverage {pct:.1}% < 90%; not covered both ways: {uncovered:?}");
}

/// The rule id an expectation names (`nhi.ownership.owner-required` or
/// `owner-required`), and whether it expects a failure (`Some(true)`) or a
/// pass (`Some(false)`).
fn expectation(e: &Expectation) -> Option<(String, bool)> {
    let short = |n: &str| n.rsplit('.').next().unwrap_or(n).to_owned();
    match e {
        Expectation::Fails { rule, .. } => Some((short(&rule.name), true)),
        Expectation::Passes { rule, .. } => Some((short(&rule.name), false)),
        Expectation::Finds { rule, count } => Some((short(&rule.name), *count > 0)),
        _ => None,
    }
}

#[test]
fn every_rule_is_documented_mapped_and_tested_both_ways() {
    let files = library();
    let mut rules: BTreeMap<String, (String, bool, bool)> = BTreeMap::new();
    // (file, rule) pairs: each rule is tested in its own file.
    let mut fails: BTreeSet<(String, String)> = BTreeSet::new();
    let mut passes: BTreeSet<(String, String)> = BTreeSet::new();
    let mut priorities = 0;
    for parsed in &files {
        for item in &parsed.module.items {
            match item {
                Item::Rule(r) => {
                    let doc = r.docs.join("\n");
                    let maps = r.clauses.iter().any(|c| {
                        matches!(&c.kind, RuleClauseKind::Maps { controls } if !controls.is_empty())
                    });
                    // A rule may go unmapped only if its file says why.
                    let explained = parsed.file.text().contains("no framework mapping");
                    let prev = rules.insert(
                        r.name.name.clone(),
                        (parsed.file.name().to_owned(), !doc.trim().is_empty(), maps || explained),
                    );
                    assert!(prev.is_none(), "rule {} is declared twice", r.name.name);
                }
                Item::Test(t) => {
                    for c in &t.clauses {
                        if let TestClauseKind::Expect(e) = &c.kind
                            && let Some((rule, fail)) = expectation(e)
                        {
                            let set = if fail { &mut fails } else { &mut passes };
                            set.insert((parsed.file.name().to_owned(), rule));
                        }
                    }
                }
                Item::Priority(_) => priorities += 1,
                Item::Exception(e) => panic!(
                    "the library ships no exceptions (they would waive users' findings): {}",
                    e.name.name
                ),
                _ => {}
            }
        }
    }
    assert_eq!(priorities, 1, "the library has exactly one priority declaration");
    assert!(rules.len() >= 18, "only {} rules", rules.len());
    for (rule, (file, documented, mapped)) in &rules {
        assert!(documented, "{rule} ({file}) has no doc comment");
        assert!(mapped, "{rule} ({file}) maps to no framework control");
        let key = (file.clone(), rule.clone());
        assert!(fails.contains(&key), "{rule} has no failing expectation in {file}");
        assert!(passes.contains(&key), "{rule} has no passing expectation in {file}");
    }
}

/// Exceptions are not part of the library; this checks how a user's
/// exception interacts with a library rule: an active one waives, an expired
/// one waives nothing.
#[test]
fn exceptions_waive_until_they_expire() {
    let mut files = library();
    let extra = SourceFile::new(
        "exceptions.gov",
        r#"
exception legacy-ci-key {
  rule credential-without-expiry
  when id(c) == "legacy-ci-key"
  until 2027-01-31
  approved_by "ciso@example.com"
  reason "the CI vendor cannot use federation before the migration"
}

exception old-batch-key {
  rule credential-without-expiry
  when id(c) == "old-batch-key"
  until 2026-10-31
  approved_by "ciso@example.com"
  reason "batch job retired in October"
}

test "active exceptions waive, expired ones do not" {
  now 2026-11-22
  given {
    credential "legacy-ci-key" { type: "access_key", ephemeral: false }
    credential "old-batch-key" { type: "access_key", ephemeral: false }
  }
  expect waived credential-without-expiry on "legacy-ci-key"
  expect credential-without-expiry fails on "old-batch-key"
  expect credential-without-expiry finds 1
}
"#,
    );
    files.push(gov::syntax::parse(&extra).unwrap());
    let report = run(&files, &TestOptions { filter: Some("exceptions".into()), coverage: false })
        .unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(report.results.len(), 1);
    assert!(report.results[0].passed, "{:?}", report.results[0].failures);
}
