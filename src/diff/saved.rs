//! Reading saved reports back as finding sets: the `gov.findings/v1` JSON
//! report and the SARIF log that `gov eval` writes. A report that is neither,
//! or a finding without the fields that identify it, is a
//! `gov::diff::invalid_report` diagnostic that says which finding and field.

use std::sync::Arc;

use serde_json::Value;

use super::{Entry, FindingSet, Place};
use crate::diag::{Code, Diag};
use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::FindingKind;
use crate::report::fingerprint::{self, FINGERPRINT_KEY};

pub(super) fn read(name: &str, text: &str) -> Result<FindingSet, Diag> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        invalid(name, format!("`{name}` is not JSON: {e}"))
            .help("pass a report written by `gov eval --format json` or `--format sarif`")
    })?;
    if doc.get("format").and_then(Value::as_str) == Some(crate::report::json::FORMAT) {
        findings_report(name, &doc)
    } else if doc.get("runs").is_some_and(Value::is_array) {
        sarif_log(name, &doc)
    } else {
        let found = match doc.get("format").and_then(Value::as_str) {
            Some(f) => format!("a `{f}` document"),
            None => "a JSON document without `format` or `runs`".to_owned(),
        };
        Err(invalid(name, format!("`{name}` is not a gov report: found {found}")).help(format!(
            "pass a `{}` report (`gov eval --format json`) or a SARIF log (`gov eval --format sarif`)",
            crate::report::json::FORMAT
        )))
    }
}

fn invalid(_name: &str, message: String) -> Diag {
    Diag::error(Code::InvalidReport, message)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A field every finding needs; the error names the finding and the field.
fn required<'a>(
    name: &str,
    what: &str,
    i: usize,
    v: &'a Value,
    key: &str,
) -> Result<&'a str, Diag> {
    str_at(v, key).ok_or_else(|| {
        invalid(name, format!("`{name}`: {what} {i} has no string `{key}`")).help(
            "the report was edited or written by another tool; write it again with `gov eval`",
        )
    })
}

fn severity(name: &str, what: &str, i: usize, s: &str) -> Result<SeverityLevel, Diag> {
    SeverityLevel::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| {
        invalid(name, format!("`{name}`: {what} {i} has an unknown severity `{s}`"))
            .help("severities are `info`, `low`, `medium`, `high` and `critical`")
    })
}

fn enforcement(name: &str, what: &str, i: usize, s: &str) -> Result<Enforcement, Diag> {
    Enforcement::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| {
        invalid(name, format!("`{name}`: {what} {i} has an unknown enforcement `{s}`"))
            .help("enforcement levels are `advisory`, `soft` and `hard`")
    })
}

fn kind(s: Option<&str>) -> FindingKind {
    if s == Some("error") { FindingKind::Error } else { FindingKind::Violation }
}

/// The fingerprint a report wrote, or the one computed from the finding's
/// identity when it wrote none (or one that is not 16 hex digits).
fn fingerprint_of(written: Option<&str>, rule: &str, kind: &str, entity: &str) -> u64 {
    written
        .filter(|h| h.len() == 16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or_else(|| fingerprint::value(rule, kind, entity))
}

/// `P1`..`P5` to 1..5.
fn priority_level(label: Option<&str>) -> Option<u8> {
    label.and_then(|l| l.strip_prefix('P')).and_then(|n| n.parse().ok())
}

fn rules_of(list: Option<&Value>, key: &str) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|rs| rs.iter().filter_map(|r| str_at(r, key)).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn findings_report(name: &str, doc: &Value) -> Result<FindingSet, Diag> {
    let findings = doc.get("findings").and_then(Value::as_array).ok_or_else(|| {
        invalid(name, format!("`{name}` has no `findings` list"))
            .help("write the report again with `gov eval --format json`")
    })?;
    let mut entries = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        let what = "finding";
        let rule = required(name, what, i, f, "rule")?;
        let entity = required(name, what, i, f, "entity")?;
        let entity_kind = required(name, what, i, f, "entity_kind")?;
        let severity = severity(name, what, i, required(name, what, i, f, "severity")?)?;
        let enforcement = enforcement(name, what, i, required(name, what, i, f, "enforcement")?)?;
        let waiver = f.get("waiver").and_then(|w| str_at(w, "exception")).map(Arc::from);
        let rule_place = str_at(f, "rule_file").map(|file| {
            let line = f.get("rule_line").and_then(Value::as_u64).unwrap_or(1);
            (file.to_owned(), u32::try_from(line).unwrap_or(1))
        });
        let origin = f.get("origin").and_then(|o| {
            let file = str_at(o, "file")?;
            let line = o.get("line").and_then(Value::as_u64).and_then(|l| u32::try_from(l).ok());
            Some((file.to_owned(), line))
        });
        entries.push(Entry {
            fingerprint: fingerprint_of(str_at(f, "fingerprint"), rule, entity_kind, entity),
            rule: rule.into(),
            entity_kind: entity_kind.into(),
            entity: entity.to_owned(),
            kind: kind(str_at(f, "kind")),
            severity,
            enforcement,
            priority: f
                .get("priority")
                .and_then(|p| p.get("level"))
                .and_then(Value::as_u64)
                .and_then(|l| u8::try_from(l).ok()),
            waiver,
            message: str_at(f, "message").unwrap_or_default().to_owned(),
            service: str_at(f, "service").map(str::to_owned),
            place: Some(Box::new(Place { rule: rule_place, origin })),
        });
    }
    Ok(FindingSet { rules: rules_of(doc.get("rules"), "id"), entries })
}

/// The first physical location of a SARIF location list: (uri, start line).
fn sarif_place(v: Option<&Value>) -> Option<(String, Option<u32>)> {
    let p = v?.as_array()?.first()?.get("physicalLocation")?;
    let uri = p.get("artifactLocation").and_then(|a| str_at(a, "uri"))?;
    let line = p
        .get("region")
        .and_then(|r| r.get("startLine"))
        .and_then(Value::as_u64)
        .and_then(|l| u32::try_from(l).ok());
    Some((uri.to_owned(), line))
}

fn sarif_log(name: &str, doc: &Value) -> Result<FindingSet, Diag> {
    let run = doc.get("runs").and_then(Value::as_array).and_then(|r| r.first());
    let Some(run) = run else { return Ok(FindingSet::default()) };
    let results = run.get("results").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let rules =
        rules_of(run.get("tool").and_then(|t| t.get("driver")).and_then(|d| d.get("rules")), "id");
    let mut entries = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        // A result that was already gone in that run is not one of its findings.
        if str_at(r, "baselineState") == Some("absent") {
            continue;
        }
        let what = "result";
        let rule = required(name, what, i, r, "ruleId")?;
        let empty = Value::Null;
        let props = r.get("properties").unwrap_or(&empty);
        let entity = required(name, what, i, props, "entity")?;
        let entity_kind = required(name, what, i, props, "entityKind")?;
        let severity = severity(name, what, i, required(name, what, i, props, "severity")?)?;
        let enforcement =
            enforcement(name, what, i, required(name, what, i, props, "enforcement")?)?;
        let waiver =
            r.get("suppressions").and_then(Value::as_array).and_then(|s| s.first()).map(|s| {
                s.get("properties")
                    .and_then(|p| str_at(p, "exception"))
                    .map_or_else(|| Arc::from("(suppressed)"), Arc::from)
            });
        let written = r.get("partialFingerprints").and_then(|p| str_at(p, FINGERPRINT_KEY));
        // Which location is the rule and which the record depends on the run;
        // a `.gov` file is the rule.
        let mut place = Place::default();
        let mut all: Vec<(String, Option<u32>)> = Vec::new();
        all.extend(sarif_place(r.get("locations")));
        if let Some(rel) = r.get("relatedLocations").and_then(Value::as_array) {
            for l in rel {
                all.extend(sarif_place(Some(&Value::Array(vec![l.clone()]))));
            }
        }
        for (uri, line) in all {
            if uri.ends_with(".gov") {
                if place.rule.is_none() {
                    place.rule = Some((uri, line.unwrap_or(1)));
                }
            } else if place.origin.is_none() {
                place.origin = Some((uri, line));
            }
        }
        entries.push(Entry {
            fingerprint: fingerprint_of(written, rule, entity_kind, entity),
            rule: rule.into(),
            entity_kind: entity_kind.into(),
            entity: entity.to_owned(),
            kind: kind(str_at(props, "kind")),
            severity,
            enforcement,
            priority: priority_level(str_at(props, "priority")),
            waiver,
            message: r
                .get("message")
                .and_then(|m| str_at(m, "text"))
                .unwrap_or_default()
                .to_owned(),
            service: str_at(props, "service").map(str::to_owned),
            place: Some(Box::new(place)),
        });
    }
    Ok(FindingSet { rules, entries })
}
