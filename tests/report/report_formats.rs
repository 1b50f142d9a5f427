//! The audit report renderers (`gov::report::{json, sarif, junit, markdown,
//! human}`) on a hand-built but realistic audit: several rules, open, waived
//! and erroring findings, priorities, inventory origins, an expired exception.
//!
//! SARIF is validated against the OASIS schema in `../shared/schemas`, JUnit is
//! parsed with quick-xml, and the text formats are insta snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use gov::domain::{Enforcement, SeverityLevel};
use gov::eval::{
    Audit, Evidence, ExpiredException, Finding, FindingKind, Origin, PriorityAssignment,
    RuleSummary, Waiver,
};
use gov::report::{fingerprint, human, json, junit, markdown, sarif};
use gov::time::{Duration, Timestamp};
use gov::{Loc, SourceFile, Span};
use serde_json::Value;

const POLICY: &str = r#"package nhi.lifecycle

/// How fast a finding must be handled depends on the business service.
priority by service.tier {
  0 => P1 within 24h
  1 => P2 within 3d
  _ => P3 within 14d
}

/// Every non-human identity has an active human owner.
rule owner-required {
  severity high
  enforce hard
  maps "OWASP-NHI:NHI1", "NIST-CSF:GV.OV-01"

  for id: identity where id.type != "human"
  require exists id -[owned_by]-> p: identity where p.type == "human" and p.active
  message "{id.name} has no active human owner"
  help "add an owned_by edge to a person who is still employed"
}

/// Credentials are rotated within their maximum age. Tier 0 services rotate monthly.
rule credential-max-age {
  severity by service.tier { 0 => critical, 1 => high, _ => medium }
  enforce soft
  maps "OWASP-NHI:NHI7"

  for c: credential where not c.ephemeral
  let tier = min(c <-[has_credential]- _ -[supports]-> s: service | s.tier)
  require now - c.rotated_at <= (if tier == 0 then 30d else 90d)
  message "{c.name} was last rotated {now - c.rotated_at} ago"
  help "rotate the credential and record `rotated_at`"
}

/// Idle credentials are retired.
rule idle-credential {
  severity low
  enforce advisory

  for c: credential
  require c.last_used_at > now - 90d / c.uses
  message "{c.name} has not been used for 90 days"
}

/// Every business service has a tier.
rule service-has-tier {
  severity medium
  enforce hard
  for s: service
  require s has tier
  message "{s.name} has no tier"
}

exception legacy-etl-key {
  rule credential-max-age
  when c.name == "etl-legacy-key"
  until 2027-01-31
  approved_by "ciso@example.com", "security-lead@example.com"
  reason "vendor cannot rotate before the migration"
}

exception old-ci-bot {
  rule owner-required
  when id.name == "ci-bot"
  until 2026-10-01
  approved_by "ciso@example.com"
  reason "bot is being decommissioned"
}
"#;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// The location of `needle` in the file, after the first occurrence of `after`.
fn loc(file: &Arc<SourceFile>, after: &str, needle: &str) -> Loc {
    let base = file.text().find(after).unwrap_or_else(|| panic!("no `{after}`"));
    let start = base + file.text()[base..].find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    Loc::new(file.clone(), Span::new(start, start + needle.len()))
}

/// The text of the `require` line after `after`, as the condition's location.
fn condition(file: &Arc<SourceFile>, after: &str) -> Loc {
    let req = loc(file, after, "require ");
    let start = req.span.end;
    let end = start + file.text()[start..].find('\n').unwrap();
    Loc::new(file.clone(), Span::new(start, end))
}

fn priority(level: u8, within: &str, now: Timestamp) -> Option<PriorityAssignment> {
    let within = Duration::parse(within).unwrap();
    Some(PriorityAssignment { level, within, due: Timestamp(now.0 + within.0) })
}

fn origin(file: &str, line: Option<u32>, record: u32) -> Option<Origin> {
    Some(Origin { file: file.into(), line, record })
}

fn rule_summary(
    file: &Arc<SourceFile>,
    id: &str,
    doc: &str,
    severity: SeverityLevel,
    enforcement: Enforcement,
    maps: &[&str],
    counts: [usize; 4],
) -> RuleSummary {
    let [checked, failed, waived, errors] = counts;
    RuleSummary {
        id: id.to_owned(),
        doc: doc.to_owned(),
        severity,
        enforcement,
        maps: maps.iter().map(|m| (*m).to_owned()).collect(),
        loc: loc(file, &format!("rule {id}"), id),
        checked,
        failed,
        waived,
        errors,
    }
}

struct F<'a> {
    kind: FindingKind,
    rule: &'a str,
    entity: &'a str,
    entity_kind: &'a str,
    severity: SeverityLevel,
    enforcement: Enforcement,
    priority: Option<PriorityAssignment>,
    service: Option<&'a str>,
    message: &'a str,
    help: Option<&'a str>,
    evidence: &'a [(&'a str, &'a str)],
    witness: &'a [&'a str],
    origin: Option<Origin>,
    maps: &'a [&'a str],
    waived_by: Option<Waiver>,
}

impl F<'_> {
    fn build(self, file: &Arc<SourceFile>) -> Finding {
        let rule_header = format!("rule {}", self.rule);
        Finding {
            kind: self.kind,
            rule: self.rule.into(),
            rule_loc: loc(file, &rule_header, self.rule),
            condition_loc: condition(file, &rule_header),
            entity: self.entity.to_owned(),
            entity_kind: self.entity_kind.into(),
            severity: self.severity,
            enforcement: self.enforcement,
            priority: self.priority,
            service: self.service.map(str::to_owned),
            message: self.message.to_owned(),
            help: self.help.map(Into::into),
            evidence: self
                .evidence
                .iter()
                .map(|(e, v)| Evidence { expr: (*e).into(), value: (*v).to_owned() })
                .collect(),
            witness: self.witness.iter().map(|w| (*w).to_owned()).collect(),
            origin: self.origin,
            maps: self.maps.iter().map(|m| (*m).to_owned()).collect(),
            waived_by: self.waived_by,
        }
    }
}

/// The audit of `policy` (the policy text, possibly with lines added above it).
fn audit_of(policy: &str) -> Audit {
    use Enforcement::*;
    use SeverityLevel::*;
    let file = SourceFile::new("policies/lifecycle.gov", policy);
    let now = ts("2026-11-22");
    let owner_maps: &[&str] = &["OWASP-NHI:NHI1", "NIST-CSF:GV.OV-01"];
    let age_maps: &[&str] = &["OWASP-NHI:NHI7"];
    let rules = vec![
        rule_summary(
            &file,
            "owner-required",
            "Every non-human identity has an active human owner.",
            High,
            Hard,
            owner_maps,
            [42, 2, 0, 0],
        ),
        rule_summary(
            &file,
            "credential-max-age",
            "Credentials are rotated within their maximum age. Tier 0 services rotate monthly.",
            Critical,
            Soft,
            age_maps,
            [17, 1, 1, 0],
        ),
        rule_summary(
            &file,
            "idle-credential",
            "Idle credentials are retired.",
            Low,
            Advisory,
            &[],
            [17, 1, 0, 1],
        ),
        rule_summary(
            &file,
            "service-has-tier",
            "Every business service has a tier.",
            Medium,
            Hard,
            &[],
            [4, 0, 0, 0],
        ),
    ];
    let findings = vec![
        F {
            kind: FindingKind::Violation,
            rule: "owner-required",
            entity: "svc-billing",
            entity_kind: "identity",
            severity: High,
            enforcement: Hard,
            priority: priority(1, "24h", now),
            service: Some("payments"),
            message: "svc-billing has no active human owner",
            help: Some("add an owned_by edge to a person who is still employed"),
            evidence: &[("p.active", "false"), ("p.name", "Dana Whitfield (left 2026-09-30)")],
            witness: &["svc-billing", "dana.whitfield"],
            origin: origin("inventory/identities.json", Some(14), 3),
            maps: owner_maps,
            waived_by: None,
        }
        .build(&file),
        F {
            kind: FindingKind::Violation,
            rule: "owner-required",
            entity: "deploy-bot|<prod>",
            entity_kind: "identity",
            severity: High,
            enforcement: Hard,
            priority: priority(3, "14d", now),
            service: Some("internal-tools"),
            message: "deploy-bot|<prod> has no active human owner",
            help: Some("add an owned_by edge to a person who is still employed"),
            evidence: &[],
            witness: &[],
            origin: origin("inventory/k8s rbac.yaml", None, 7),
            maps: owner_maps,
            waived_by: None,
        }
        .build(&file),
        F {
            kind: FindingKind::Violation,
            rule: "credential-max-age",
            entity: "AKIAEXAMPLEKEY1",
            entity_kind: "credential",
            severity: Critical,
            enforcement: Soft,
            priority: priority(1, "24h", now),
            service: Some("payments"),
            message: "AKIAEXAMPLEKEY1 was last rotated 205d ago",
            help: Some("rotate the credential and record `rotated_at`"),
            evidence: &[("c.rotated_at", "2026-05-01"), ("now - c.rotated_at", "205d")],
            witness: &[],
            origin: origin("inventory/aws-credential-report.csv", Some(3), 1),
            maps: age_maps,
            waived_by: None,
        }
        .build(&file),
        F {
            kind: FindingKind::Violation,
            rule: "credential-max-age",
            entity: "etl-legacy-key",
            entity_kind: "credential",
            severity: High,
            enforcement: Soft,
            priority: priority(2, "3d", now),
            service: Some("data-platform"),
            message: "etl-legacy-key was last rotated 400d ago",
            help: Some("rotate the credential and record `rotated_at`"),
            evidence: &[("c.rotated_at", "2025-10-18")],
            witness: &[],
            origin: origin("inventory/aws-credential-report.csv", Some(5), 3),
            maps: age_maps,
            waived_by: Some(Waiver {
                exception: "legacy-etl-key".into(),
                until: ts("2027-01-31"),
                approved_by: Arc::from([
                    "ciso@example.com".to_owned(),
                    "security-lead@example.com".to_owned(),
                ]),
                reason: Some("vendor cannot rotate before the migration".into()),
            }),
        }
        .build(&file),
        F {
            kind: FindingKind::Error,
            rule: "idle-credential",
            entity: "gh-token",
            entity_kind: "credential",
            severity: Low,
            enforcement: Advisory,
            priority: None,
            service: None,
            message: "division by zero in `90d / c.uses` (c.uses is 0)",
            help: None,
            evidence: &[("c.uses", "0")],
            witness: &[],
            origin: origin("inventory/github.json", Some(22), 0),
            maps: &[],
            waived_by: None,
        }
        .build(&file),
        F {
            kind: FindingKind::Violation,
            rule: "idle-credential",
            entity: "old-webhook",
            entity_kind: "credential",
            severity: Low,
            enforcement: Advisory,
            priority: None,
            service: None,
            message: "old-webhook has not been used for 90 days\nlast use: 2026-01-02 \"nightly\" <cron>",
            help: None,
            evidence: &[("c.last_used_at", "2026-01-02")],
            witness: &[],
            origin: origin("inventory/github.json", Some(40), 1),
            maps: &[],
            waived_by: None,
        }
        .build(&file),
    ];
    let expired_exceptions = vec![ExpiredException {
        exception: "old-ci-bot".to_owned(),
        rule: "owner-required".to_owned(),
        until: ts("2026-10-01"),
        loc: loc(&file, "exception old-ci-bot", "old-ci-bot"),
    }];
    Audit {
        now,
        rules,
        findings,
        expired_exceptions,
        inventory_files: vec![
            "inventory/identities.json".to_owned(),
            "inventory/aws-credential-report.csv".to_owned(),
            "inventory/github.json".to_owned(),
            "inventory/k8s rbac.yaml".to_owned(),
        ],
    }
}

fn audit() -> Audit {
    audit_of(POLICY)
}

/// An audit with no findings at all.
fn clean_audit() -> Audit {
    let mut a = audit();
    a.findings.clear();
    a.expired_exceptions.clear();
    a
}

// ---------------------------------------------------------------- SARIF

fn sarif_validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid_sarif(log: &Value) {
    let validator = sarif_validator();
    let errors: Vec<String> =
        validator.iter_errors(log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF does not match the schema:\n{}", errors.join("\n"));
}

#[test]
fn sarif_validates_against_the_oasis_schema() {
    assert_valid_sarif(&sarif::render(&audit()));
    assert_valid_sarif(&sarif::render(&clean_audit()));
}

#[test]
fn the_schema_check_rejects_broken_sarif() {
    // Guards against a validator that accepts everything (e.g. a schema that
    // failed to load as draft-04).
    let mut log = sarif::render(&audit());
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_validator().is_valid(&log));
}

#[test]
fn sarif_describes_rules_results_and_suppressions() {
    let a = audit();
    let log = sarif::render(&a);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().ends_with("sarif-schema-2.1.0.json"));
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gov");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));

    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 4);
    assert_eq!(rules[0]["id"], "owner-required");
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "warning");
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "note");
    assert_eq!(
        rules[1]["shortDescription"]["text"],
        "Credentials are rotated within their maximum age."
    );
    assert_eq!(
        rules[0]["properties"]["tags"],
        serde_json::json!(["security", "OWASP-NHI:NHI1", "NIST-CSF:GV.OV-01"])
    );

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), a.findings.len());
    let levels: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
    // hard, hard, soft, soft (waived), error (advisory rule), advisory
    assert_eq!(levels, ["error", "error", "warning", "warning", "error", "note"]);
    for (r, f) in results.iter().zip(&a.findings) {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert_eq!(r["ruleId"], &*f.rule);
    }

    // The primary location is the rule's name in the policy.
    let first = &results[0];
    let region = &first["locations"][0]["physicalLocation"]["region"];
    let (line, col) = a.findings[0].rule_loc.file.line_col(a.findings[0].rule_loc.span.start);
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "policies/lifecycle.gov"
    );
    assert_eq!(region["startLine"], line);
    assert_eq!(region["startColumn"], col);
    assert_eq!(region["endLine"], line);
    assert_eq!(region["endColumn"], col + "owner-required".len());
    assert_eq!(region["snippet"]["text"], "owner-required");
    assert_eq!(POLICY.lines().nth(line - 1).unwrap(), "rule owner-required {");

    // The inventory record is a related location; a file name with a space is encoded.
    let inventory = &first["relatedLocations"][0]["physicalLocation"];
    assert_eq!(inventory["artifactLocation"]["uri"], "inventory/identities.json");
    assert_eq!(inventory["region"]["startLine"], 14);
    let second = &results[1]["relatedLocations"][0]["physicalLocation"];
    assert_eq!(second["artifactLocation"]["uri"], "inventory/k8s%20rbac.yaml");
    assert!(second.get("region").is_none(), "no line known, so no region");

    assert_eq!(first["properties"]["priority"], "P1");
    assert_eq!(first["properties"]["due"], "2026-11-23");
    assert_eq!(first["properties"]["service"], "payments");
    assert_eq!(first["properties"]["evidence"][0]["expr"], "p.active");

    // Waived: an accepted external suppression with the exception's details.
    let waived = &results[3];
    assert!(results.iter().filter(|r| r.get("suppressions").is_some()).count() == 1);
    let s = &waived["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["status"], "accepted");
    assert_eq!(s["justification"], "vendor cannot rotate before the migration");
    assert_eq!(s["properties"]["exception"], "legacy-etl-key");
    assert_eq!(s["properties"]["approvedBy"][1], "security-lead@example.com");

    // Evaluation errors and expired exceptions are also notifications.
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert_eq!(invocation["toolExecutionNotifications"].as_array().unwrap().len(), 1);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["associatedRule"]["id"],
        "idle-credential"
    );
    assert_eq!(invocation["toolConfigurationNotifications"].as_array().unwrap().len(), 1);
}

#[test]
fn fingerprints_survive_edits_that_move_lines() {
    let before = audit_of(POLICY);
    let moved = format!("// Owned by the identity team.\n// Reviewed quarterly.\n\n{POLICY}");
    let after = audit_of(&moved);
    let (a, b) = (sarif::render(&before), sarif::render(&after));
    let (ra, rb) =
        (a["runs"][0]["results"].as_array().unwrap(), b["runs"][0]["results"].as_array().unwrap());
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(rb) {
        let line = |r: &Value| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap()
        };
        assert_eq!(line(x) + 3, line(y), "the edit moved the rule");
        assert_eq!(x["partialFingerprints"], y["partialFingerprints"]);
    }
    // Distinct findings have distinct fingerprints, and the JSON report agrees.
    let prints: std::collections::BTreeSet<&str> = ra
        .iter()
        .map(|r| r["partialFingerprints"][fingerprint::FINGERPRINT_KEY].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), ra.len());
    let doc = json::render(&before);
    for (r, f) in ra.iter().zip(doc["findings"].as_array().unwrap()) {
        assert_eq!(r["partialFingerprints"][fingerprint::FINGERPRINT_KEY], f["fingerprint"]);
    }
}

#[test]
fn fingerprint_values_are_pinned() {
    // A change here invalidates every fingerprint users have stored: bump the
    // key's version instead.
    assert_eq!(fingerprint::fingerprint("owner-required", "identity", "svc-billing").len(), 16);
    insta::assert_snapshot!(
        "fingerprint_values",
        format!(
            "{}\n{}\n",
            fingerprint::fingerprint("owner-required", "identity", "svc-billing"),
            fingerprint::fingerprint("credential-max-age", "credential", "AKIAEXAMPLEKEY1"),
        )
    );
}

// ---------------------------------------------------------------- JUnit

#[derive(Debug, Default, PartialEq)]
struct JunitCounts {
    testcases: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    /// (tests, failures, errors, skipped) as the `<testsuite>` states them.
    declared: (usize, usize, usize, usize),
    /// `message` attributes of `<failure>`s, unescaped.
    failure_messages: Vec<String>,
    /// `classname` of each test case.
    classnames: Vec<String>,
}

/// Parses the document (well-formedness: nesting, end names, attribute
/// syntax, entities) and counts what a CI reader would.
fn parse_junit(xml: &str) -> JunitCounts {
    use quick_xml::XmlVersion;
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::reader::Reader;

    // XML 1.0 forbids these characters anywhere, even escaped.
    for c in xml.chars() {
        assert!(
            matches!(c, '\t' | '\n' | '\r') || !(c.is_control() && (c as u32) < 0x20),
            "forbidden character {c:?}"
        );
    }
    let attr = |e: &BytesStart<'_>, name: &str| -> Option<String> {
        e.attributes()
            .map(|a| a.unwrap())
            .find(|a| a.key.as_ref() == name.as_bytes())
            .map(|a| a.normalized_value(XmlVersion::Explicit1_0).unwrap().into_owned())
    };
    let num = |e: &BytesStart<'_>, name: &str| attr(e, name).unwrap().parse::<usize>().unwrap();
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut counts = JunitCounts::default();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.error_position()));
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                stack.pop().unwrap();
                (None, false)
            }
            Event::Text(t) => {
                assert!(
                    !stack.is_empty() || t.iter().all(u8::is_ascii_whitespace),
                    "text outside the root element"
                );
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(e) = start else { continue };
        let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
        if stack.is_empty() {
            roots += 1;
        }
        match name.as_str() {
            "testsuite" => {
                counts.declared =
                    (num(&e, "tests"), num(&e, "failures"), num(&e, "errors"), num(&e, "skipped"));
                assert!(attr(&e, "timestamp").is_some());
            }
            "testcase" => {
                counts.testcases += 1;
                counts.classnames.push(attr(&e, "classname").unwrap());
                assert_eq!(stack.last().map(String::as_str), Some("testsuite"));
            }
            "failure" => {
                counts.failures += 1;
                counts.failure_messages.push(attr(&e, "message").unwrap());
                assert_eq!(stack.last().map(String::as_str), Some("testcase"));
            }
            "error" => counts.errors += 1,
            "skipped" => counts.skipped += 1,
            _ => {}
        }
        if !empty {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    counts
}

#[test]
fn junit_is_well_formed_and_counts_match() {
    let a = audit();
    let xml = junit::render(&a);
    let c = parse_junit(&xml);
    // 6 findings, plus one passing case for the rule with none.
    assert_eq!(c.testcases, 7);
    assert_eq!((c.failures, c.errors, c.skipped), (4, 1, 1));
    assert_eq!(c.declared, (c.testcases, c.failures, c.errors, c.skipped));
    assert_eq!(c.classnames.iter().filter(|n| *n == "gov.owner-required").count(), 2);
    assert!(c.classnames.contains(&"gov.service-has-tier".to_owned()));
    // Escaping round-trips: `|`, `<`, `>`, quotes and the line break.
    assert!(c.failure_messages.contains(&"deploy-bot|<prod> has no active human owner".to_owned()));
    assert!(
        c.failure_messages.contains(
            &"old-webhook has not been used for 90 days\nlast use: 2026-01-02 \"nightly\" <cron>"
                .to_owned()
        )
    );
    assert!(xml.contains("waived by exception legacy-etl-key until 2027-01-31"));
    assert!(xml.contains("old-ci-bot for rule owner-required expired on 2026-10-01"));

    let clean = parse_junit(&junit::render(&clean_audit()));
    assert_eq!((clean.testcases, clean.failures, clean.errors, clean.skipped), (4, 0, 0, 0));
    assert_eq!(clean.declared, (4, 0, 0, 0));
}

#[test]
fn junit_escapes_hostile_text() {
    let mut a = audit();
    a.findings[0].message = "<&>\"' tab\there bell\u{7} nul\u{0} ]]> end".to_owned();
    a.findings[0].entity = "x\"/><injected a='".to_owned();
    let xml = junit::render(&a);
    let c = parse_junit(&xml);
    assert_eq!(c.testcases, 7);
    assert!(!xml.contains("<injected"));
    assert!(
        c.failure_messages
            .contains(&"<&>\"' tab\there bell\u{fffd} nul\u{fffd} ]]> end".to_owned())
    );
}

// ---------------------------------------------------------------- snapshots

#[test]
fn markdown_snapshot() {
    let opts = markdown::Options { max_rows: 4, ..markdown::Options::default() };
    insta::assert_snapshot!("markdown", markdown::render(&audit(), &opts));
}

#[test]
fn markdown_headlines() {
    let a = audit();
    let first = |o: &markdown::Options| markdown::render(&a, o).lines().next().unwrap().to_owned();
    let mut o = markdown::Options::default();
    assert_eq!(first(&o), "### ❌ 2 hard findings block the build");
    o.fail_on = Enforcement::Soft;
    assert_eq!(first(&o), "### ❌ 3 hard or soft findings block the build");
    o.fail_on = Enforcement::Advisory;
    assert_eq!(first(&o), "### ❌ 5 findings block the build");
    let mut soft_only = audit();
    soft_only.findings.retain(|f| f.enforcement != Enforcement::Hard);
    assert_eq!(
        markdown::render(&soft_only, &markdown::Options::default()).lines().next().unwrap(),
        "### ✅ no blocking findings (3 open findings below `hard`)"
    );
    insta::assert_snapshot!(
        "markdown_clean",
        markdown::render(&clean_audit(), &markdown::Options::default())
    );
}

#[test]
fn human_snapshot() {
    insta::assert_snapshot!("human", human::render(&audit()));
    insta::assert_snapshot!("human_clean", human::render(&clean_audit()));
}

#[test]
fn json_snapshot() {
    let doc = json::render(&audit());
    assert_eq!(doc["format"], json::FORMAT);
    let summary = &doc["summary"];
    assert_eq!(
        (summary["open"].as_u64(), summary["errors"].as_u64(), summary["waived"].as_u64()),
        (Some(4), Some(1), Some(1))
    );
    assert_eq!(summary["blocking"], 2);
    insta::assert_snapshot!("json", json::render_string(&audit()));
    assert_json_text_is_the_document(&audit());
    assert_json_text_is_the_document(&clean_audit());
}

/// `render_string` streams the findings; its text must be the document of
/// `render` printed (same keys, same order, same layout).
fn assert_json_text_is_the_document(a: &Audit) {
    let printed = serde_json::to_string_pretty(&json::render(a)).unwrap() + "\n";
    assert_eq!(json::render_string(a), printed);
}

#[test]
fn sarif_snapshot() {
    // The version changes with releases; keep the snapshot stable.
    let text = sarif::render_string(&audit()).replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!("sarif", text);
}

#[test]
fn junit_snapshot() {
    let text = junit::render(&audit()).replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!("junit", text);
}

// ---------------------------------------------------------------- a real audit

/// The renderers on what the evaluator produces (the small fixture inventory
/// and policy of `tests/eval/eval_audit.rs`), not only on a hand-built audit: the
/// SARIF still validates, the JUnit counts still match, every open finding
/// shows up in every format.
#[test]
fn renderers_accept_a_real_audit() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eval");
    let inv = gov::ingest::read_source(std::path::Path::new(&format!("{dir}/small.json"))).unwrap();
    let loaded =
        gov::ingest::load_sources(vec![inv], &gov::ingest::LoadOptions::default()).unwrap();
    let policy = std::fs::read_to_string(format!("{dir}/policy.gov")).unwrap();
    let parsed =
        gov::syntax::parse(&SourceFile::new("tests/fixtures/eval/policy.gov", policy)).unwrap();
    let now = ts("2026-11-22");
    let compiled =
        gov::check::compile(&[parsed], loaded.graph.schema(), &gov::check::Options { now })
            .unwrap_or_else(|_| panic!("the fixture policy compiles"));
    let a = gov::eval::audit(
        &compiled.program,
        &loaded.graph,
        &gov::eval::AuditOptions { now: Some(now), ..Default::default() },
    );
    let open: Vec<&Finding> = a.findings.iter().filter(|f| f.is_open()).collect();
    assert!(!open.is_empty() && open.len() < a.findings.len(), "open and waived findings");

    assert_valid_sarif(&sarif::render(&a));
    let c = parse_junit(&junit::render(&a));
    assert_eq!(c.declared, (c.testcases, c.failures, c.errors, c.skipped));
    assert_eq!(c.failures + c.errors, open.len());

    let doc = json::render(&a);
    assert_eq!(doc["findings"].as_array().unwrap().len(), a.findings.len());
    assert_json_text_is_the_document(&a);
    let text = human::render(&a);
    let md = markdown::render(&a, &markdown::Options::default());
    for f in open {
        assert!(text.contains(&f.message), "human output lacks {:?}", f.message);
        assert!(md.contains(&markdown::code(&f.entity)), "markdown lacks {}", f.entity);
        assert!(text.contains(&format!("rule {}", f.rule)));
    }
}
