//! `gov diff` and SARIF baselines as a reviewer and a CI pipeline use them:
//! the fingerprint's promises, a policy change's impact on a real inventory
//! and on recorded decisions, drift between two saved reports, the Markdown
//! comment, and `gov eval --baseline` SARIF that validates against the
//! OASIS schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use gov::diff::{Field, FindingSet, diff};
use gov::time::Timestamp;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/diff");

fn gov_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GOV_ERROR_FORMAT", "plain")
        .output()
        .unwrap()
}

fn gov(args: &[&str]) -> Output {
    gov_in(Path::new(DIR), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

// ---- the fingerprint's promises, on a real audit -------------------------

fn now() -> Timestamp {
    Timestamp::parse("2026-11-22").unwrap()
}

/// The findings of policy files (name, text) over an inventory text.
fn audit(files: &[(&str, String)], inventory: &str) -> FindingSet {
    let src = gov::SourceFile::new("inventory.json", inventory.to_owned());
    let loaded = gov::ingest::load_sources(vec![src], &gov::ingest::LoadOptions::default())
        .unwrap_or_else(|_| panic!("the inventory loads"));
    let parsed: Vec<_> = files
        .iter()
        .map(|(name, text)| gov::syntax::parse(&gov::SourceFile::new(*name, text.clone())).unwrap())
        .collect();
    let compiled =
        gov::check::compile(&parsed, loaded.graph.schema(), &gov::check::Options { now: now() })
            .unwrap_or_else(|d| panic!("the policies compile: {d:?}"));
    let a = gov::eval::audit(
        &compiled.program,
        &loaded.graph,
        &gov::eval::AuditOptions { now: Some(now()), ..Default::default() },
    );
    FindingSet::of_audit(&a)
}

fn base_policy() -> String {
    std::fs::read_to_string(format!("{DIR}/base/policy.gov")).unwrap()
}

fn inventory() -> String {
    std::fs::read_to_string(format!("{DIR}/inventory.json")).unwrap()
}

/// Fingerprint -> (rule, entity).
fn prints(set: &FindingSet) -> BTreeMap<u64, (String, String)> {
    set.entries.iter().map(|e| (e.fingerprint, (e.rule.to_string(), e.entity.clone()))).collect()
}

/// The base policy split in two files: the rules, and everything else.
fn split_policy() -> (String, String) {
    let text = base_policy();
    let start = text.find("/// Every non-human").unwrap();
    let end = text.find("exception billing-owner-transfer").unwrap();
    let rules = format!("package diff.example\n\n{}", &text[start..end]);
    let rest = format!("{}{}", &text[..start], &text[end..]);
    (rules, rest)
}

#[test]
fn fingerprints_survive_reordered_files() {
    let (rules, rest) = split_policy();
    let a = audit(&[("a.gov", rules.clone()), ("b.gov", rest.clone())], &inventory());
    let b = audit(&[("z/b.gov", rest), ("y/a.gov", rules)], &inventory());
    assert!(!a.entries.is_empty());
    assert_eq!(prints(&a), prints(&b));
    assert!(diff(&a, &b).is_empty());
}

#[test]
fn fingerprints_survive_edited_messages_and_help() {
    let base = audit(&[("p.gov", base_policy())], &inventory());
    let edited = base_policy().replace("has no active human owner", "lacks an owner").replace(
        "  message \"{c.name} was last rotated",
        "  help \"rotate it\"\n  message \"{c.name} rotated",
    );
    let head = audit(&[("p.gov", edited)], &inventory());
    assert_eq!(prints(&base), prints(&head));
    let d = diff(&base, &head);
    assert!(d.new.is_empty() && d.resolved.is_empty());
    assert!(!d.changed.is_empty());
    assert!(d.changed.iter().all(|c| c.fields == [Field::Message]), "{:?}", d.changed);
}

#[test]
fn fingerprints_survive_another_rule_being_added() {
    let base = audit(&[("p.gov", base_policy())], &inventory());
    let more = format!(
        "{}\nrule everyone-named {{\n  for id: identity\n  require id has name and id.name == \"nobody\"\n}}\n",
        base_policy()
    );
    let head = audit(&[("p.gov", more)], &inventory());
    let (before, after) = (prints(&base), prints(&head));
    assert!(before.iter().all(|(k, v)| after.get(k) == Some(v)), "{before:?}\n{after:?}");
    let d = diff(&base, &head);
    assert!(d.resolved.is_empty() && d.changed.is_empty());
    assert!(!d.new.is_empty() && d.new.iter().all(|e| &*e.rule == "everyone-named"));
}

#[test]
fn fingerprints_change_with_the_rule_id_and_a_rename_is_hinted() {
    let base = audit(&[("p.gov", base_policy())], &inventory());
    let renamed = base_policy().replace("credential-max-age", "credential-rotation");
    let head = audit(&[("p.gov", renamed)], &inventory());
    let old: BTreeSet<u64> = base
        .entries
        .iter()
        .filter(|e| &*e.rule == "credential-max-age")
        .map(|e| e.fingerprint)
        .collect();
    assert!(!old.is_empty());
    assert!(head.entries.iter().all(|e| !old.contains(&e.fingerprint)));
    let d = diff(&base, &head);
    assert_eq!(d.resolved.len(), old.len());
    assert_eq!(d.new.len(), old.len());
    assert_eq!(d.renamed.len(), 1);
    assert_eq!(
        (d.renamed[0].from.as_str(), d.renamed[0].to.as_str()),
        ("credential-max-age", "credential-rotation")
    );
}

#[test]
fn fingerprints_change_with_the_entity() {
    let base = audit(&[("p.gov", base_policy())], &inventory());
    let moved = inventory().replace("key-billing-1", "key-billing-2");
    let head = audit(&[("p.gov", base_policy())], &moved);
    let d = diff(&base, &head);
    let names = |v: &[gov::diff::Entry]| v.iter().map(|e| e.entity.clone()).collect::<Vec<_>>();
    assert_eq!(names(&d.resolved), ["key-billing-1"]);
    assert_eq!(names(&d.new), ["key-billing-2"]);
}

// ---- gov diff on policy directories ---------------------------------------

fn diff_cli(extra: &[&str]) -> Output {
    let mut args = vec![
        "diff",
        "--base",
        "base",
        "--head",
        "head",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
    ];
    args.extend_from_slice(extra);
    gov(&args)
}

#[test]
fn diff_lists_new_resolved_and_changed_with_their_fields() {
    let o = diff_cli(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json_of(&o);
    assert_eq!(v["format"], "gov.diff/v1");
    assert_eq!(v["summary"]["new"], 2);
    assert_eq!(v["summary"]["resolved"], 0);
    assert_eq!(v["summary"]["changed"], 2);
    assert_eq!(v["summary"]["unchanged"], 1);
    assert_eq!(v["summary"]["blocking_added"], 2);
    let new: Vec<(&str, &str)> = v["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["rule"].as_str().unwrap(), e["entity"].as_str().unwrap()))
        .collect();
    assert_eq!(new, [("credential-max-age", "key-search-1"), ("service-mapped", "svc|<b>*x*")]);
    let billing =
        v["changed"].as_array().unwrap().iter().find(|c| c["entity"] == "svc-billing").unwrap();
    assert_eq!(billing["fields"], serde_json::json!(["waiver", "message"]));
    assert_eq!(billing["before"]["status"], "waived");
    assert_eq!(billing["after"]["status"], "open");
    let rule =
        v["by_rule"].as_array().unwrap().iter().find(|r| r["rule"] == "owner-required").unwrap();
    assert_eq!((rule["changed"].as_u64(), rule["new"].as_u64()), (Some(2), Some(0)));
    let search =
        v["by_service"].as_array().unwrap().iter().find(|r| r["service"] == "search").unwrap();
    assert_eq!(search["new"], 1);
}

#[test]
fn fail_on_gates_only_findings_the_head_adds() {
    assert_eq!(diff_cli(&[]).status.code(), Some(1), "two hard findings are added");
    assert_eq!(diff_cli(&["--fail-on", "never"]).status.code(), Some(0));
    // The same policies on both sides add nothing, whatever they contain.
    let same = gov(&[
        "diff",
        "--base",
        "head",
        "--head",
        "head",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
        "--fail-on",
        "advisory",
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    // The reverse change only resolves and relaxes.
    let back = gov(&[
        "diff",
        "--base",
        "head",
        "--head",
        "base",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
        "--fail-on",
        "advisory",
        "--format",
        "json",
    ]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    assert_eq!(json_of(&back)["summary"]["resolved"], 2);
}

#[test]
fn a_head_that_does_not_compile_exits_3_with_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.gov");
    std::fs::write(&broken, base_policy().replace("p.active", "p.actve")).unwrap();
    let o = gov(&[
        "diff",
        "--base",
        "base",
        "--head",
        broken.to_str().unwrap(),
        "-i",
        "inventory.json",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("gov::check::unknown_attribute") && err.contains("broken.gov"), "{err}");
    assert!(err.contains("the head policies"), "{err}");
}

#[test]
fn the_markdown_comment() {
    let o = diff_cli(&["--format", "markdown", "--decision-log", "decisions.jsonl"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = stdout(&o);
    // Blocking findings come first, and untrusted text cannot inject markup.
    let blocking = md.find("#### New blocking findings").unwrap();
    assert!(blocking < md.find("#### By rule").unwrap());
    assert!(md.contains("`svc|<b>*x*`") || md.contains("`svc\\|<b>*x*`"), "{md}");
    assert!(!md.contains("<b>*x* supports"), "raw markup in a cell:\n{md}");
    insta::assert_snapshot!("diff_markdown", md);
}

// ---- decision impact --------------------------------------------------------

#[test]
fn decision_impact_groups_flips_and_reports_invalid_lines() {
    let o =
        diff_cli(&["--format", "json", "--decision-log", "decisions.jsonl", "--examples", "10"]);
    let v = json_of(&o);
    let d = &v["decisions"];
    assert_eq!(d["records"], 8);
    assert_eq!(d["changed"], 3);
    assert_eq!(d["base_differs_from_log"], 0);
    let lines: Vec<u64> = d["invalid_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 7]);
    let g = &d["groups"][0];
    assert_eq!((g["before"].as_str(), g["after"].as_str()), (Some("allow"), Some("not_permitted")));
    assert_eq!(g["responsible"]["side"], "base");
    assert_eq!(g["responsible"]["message"], "direct access");
    assert!(stderr(&o).contains("2 lines are not decision records"), "{}", stderr(&o));
}

// ---- drift between two saved reports ---------------------------------------

#[test]
fn drift_between_two_saved_reports_in_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let mut saved = Vec::new();
    for (side, format) in [("base", "json"), ("head", "json"), ("base", "sarif"), ("head", "sarif")]
    {
        let path = dir.path().join(format!("{side}.{format}"));
        let o = gov(&[
            "eval",
            side,
            "-i",
            "inventory.json",
            "--now",
            "2026-11-22",
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.code() == Some(1), "{}", stderr(&o));
        saved.push(path.to_str().unwrap().to_owned());
    }
    let from_policies = json_of(&diff_cli(&["--format", "json"]));
    for (before, after) in [(&saved[0], &saved[1]), (&saved[2], &saved[3]), (&saved[0], &saved[3])]
    {
        let o = gov(&["diff", "--before", before, "--after", after, "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = json_of(&o);
        for key in ["new", "resolved", "changed", "unchanged", "blocking_added"] {
            assert_eq!(
                v["summary"][key], from_policies["summary"][key],
                "{key} from {before} to {after}"
            );
        }
        assert_eq!(v["new"], from_policies["new"]);
        assert_eq!(v["changed"], from_policies["changed"]);
    }
    // Not a report: a clear error, exit 2.
    let o = gov(&["diff", "--before", "inventory.json", "--after", &saved[1]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("gov::diff::invalid_report"), "{}", stderr(&o));
    let missing = gov(&["diff", "--before", "nope.json", "--after", &saved[1]]);
    assert_eq!(missing.status.code(), Some(5));
}

// ---- SARIF baselines ---------------------------------------------------------

fn sarif_validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/schemas/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_baseline_states_validate_and_records_are_primary_locations() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let o = gov(&[
        "eval",
        "base",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
        "--format",
        "json",
        "-o",
        old.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = gov(&[
        "eval",
        "head",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
        "--format",
        "sarif",
        "--baseline",
        old.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let log = json_of(&o);
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let mut states: BTreeMap<(String, String), String> = BTreeMap::new();
    for r in results {
        let key = (
            r["ruleId"].as_str().unwrap().to_owned(),
            r["properties"]["entity"].as_str().unwrap().to_owned(),
        );
        states.insert(key, r["baselineState"].as_str().unwrap().to_owned());
    }
    let state = |rule: &str, entity: &str| states[&(rule.to_owned(), entity.to_owned())].as_str();
    assert_eq!(state("credential-max-age", "key-search-1"), "new");
    assert_eq!(state("service-mapped", "svc|<b>*x*"), "new");
    assert_eq!(state("owner-required", "svc-billing"), "updated");
    assert_eq!(state("credential-max-age", "key-billing-1"), "unchanged");
    assert_eq!(results.len(), states.len());
    // The fixture's inventory is inside this repository: its records are the
    // primary locations, the rule a related one.
    let first = &results[0];
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/diff/inventory.json"
    );
    assert!(
        first["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("policy.gov")
    );

    // A finding that is gone is an `absent` result (the head as the baseline of the base).
    let new = dir.path().join("new.sarif");
    gov(&[
        "eval",
        "head",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
        "--format",
        "sarif",
        "-o",
        new.to_str().unwrap(),
    ]);
    let o = gov(&[
        "eval",
        "base",
        "-i",
        "inventory.json",
        "--now",
        "2026-11-22",
        "--format",
        "sarif",
        "--baseline",
        new.to_str().unwrap(),
    ]);
    let log = json_of(&o);
    assert!(sarif_validator().is_valid(&log));
    let absent: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["baselineState"] == "absent")
        .map(|r| r["properties"]["entity"].as_str().unwrap())
        .collect();
    assert_eq!(absent.len(), 2, "{absent:?}");
    assert!(absent.contains(&"key-search-1") && absent.contains(&"svc|<b>*x*"));

    // --baseline is for SARIF only.
    let o = gov(&[
        "eval",
        "base",
        "-i",
        "inventory.json",
        "--format",
        "json",
        "--baseline",
        old.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn outside_a_repository_the_rule_stays_the_primary_location() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["inventory.json", "base/policy.gov"] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(DIR).join(f), &to).unwrap();
    }
    let o = gov_in(
        dir.path(),
        &["eval", "base", "-i", "inventory.json", "--now", "2026-11-22", "--format", "sarif"],
    );
    let log = json_of(&o);
    let first = &log["runs"][0]["results"][0];
    assert!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("policy.gov")
    );
}

// ---- a git repository -------------------------------------------------------

/// Whether `git` runs; under CI its absence is a failure, elsewhere a skip.
fn have_git() -> bool {
    let ok = Command::new("git").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "`git` is needed by this test under CI");
        eprintln!("skipped: `git` is not installed");
    }
    ok
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn fingerprints(report: &Value, key: &str) -> BTreeSet<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_rule_tightened_in_the_last_commit_against_git_head_1() {
    if !have_git() {
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::copy(format!("{DIR}/inventory.json"), root.join("inventory.json")).unwrap();
    std::fs::write(root.join("policies/policy.gov"), base_policy()).unwrap();
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "policies"]);
    // Tighten the rotation window for tiers above 0: 90 days becomes 45.
    let tightened = base_policy().replace("then 30d else 90d", "then 30d else 45d");
    assert_ne!(tightened, base_policy());
    std::fs::write(root.join("policies/policy.gov"), &tightened).unwrap();
    git(root, &["commit", "-q", "-am", "tighten credential-max-age"]);

    let common = ["-i", "inventory.json", "--now", "2026-11-22"];
    let mut args = vec![
        "diff",
        "--base",
        "git:HEAD~1:policies",
        "--head",
        "policies",
        "--format",
        "json",
        "--fail-on",
        "soft",
    ];
    args.extend(common);
    let o = gov_in(root, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json_of(&o);

    // `gov eval` on each revision separately.
    let old_text = Command::new("git")
        .args(["show", "HEAD~1:policies/policy.gov"])
        .current_dir(root)
        .output()
        .unwrap()
        .stdout;
    std::fs::write(root.join("old.gov"), old_text).unwrap();
    let eval = |policy: &str| {
        let mut args = vec!["eval", policy, "--format", "json"];
        args.extend(common);
        json_of(&gov_in(root, &args))
    };
    let (before, after) = (eval("old.gov"), eval("policies"));
    let added: BTreeSet<String> = fingerprints(&after, "findings")
        .difference(&fingerprints(&before, "findings"))
        .cloned()
        .collect();
    let gone: BTreeSet<String> = fingerprints(&before, "findings")
        .difference(&fingerprints(&after, "findings"))
        .cloned()
        .collect();
    assert!(!added.is_empty());
    assert_eq!(fingerprints(&v, "new"), added);
    assert_eq!(fingerprints(&v, "resolved"), gone);
    assert!(v["new"].as_array().unwrap().iter().all(|f| f["rule"] == "credential-max-age"));
    assert_eq!(v["base"], "git:HEAD~1:policies");

    // The added findings are soft: the default gate (hard) lets them pass.
    let mut args = vec!["diff", "--base", "git:HEAD~1:policies", "--head", "policies"];
    args.extend(common);
    assert_eq!(gov_in(root, &args).status.code(), Some(0));

    // The working tree was not touched.
    std::fs::remove_file(root.join("old.gov")).unwrap();
    let status =
        Command::new("git").args(["status", "--porcelain"]).current_dir(root).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");
    assert_eq!(std::fs::read_to_string(root.join("policies/policy.gov")).unwrap(), tightened);

    // A revision or a path that does not exist: a clear error.
    for (reference, says) in [
        ("git:no-such-branch:policies", "no revision `no-such-branch`"),
        ("git:HEAD~1:nowhere", "no `nowhere` in revision `HEAD~1`"),
        ("git:HEAD~1", "not a git reference"),
    ] {
        let o = gov_in(
            root,
            &["diff", "--base", reference, "--head", "policies", "-i", "inventory.json"],
        );
        assert_eq!(o.status.code(), Some(2), "{reference}");
        assert!(
            stderr(&o).contains("gov::diff::git") && stderr(&o).contains(says),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn a_git_reference_outside_a_repository_is_a_clear_error() {
    if !have_git() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{DIR}/inventory.json"), dir.path().join("inventory.json")).unwrap();
    let o = gov_in(
        dir.path(),
        &[
            "diff",
            "--base",
            "git:HEAD:policies",
            "--head",
            "git:HEAD:policies",
            "-i",
            "inventory.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not in a git repository"), "{}", stderr(&o));
}
