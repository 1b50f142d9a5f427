//! The audit as SARIF 2.1.0, for code-scanning UIs (GitHub, GitLab, Azure
//! DevOps, IDE viewers).
//!
//! Mapping:
//! - one run; `tool.driver.rules` are the audit's rules in declaration order
//!   (a result's `ruleIndex` points into them); a rule's default level comes
//!   from its enforcement (hard → `error`, soft → `warning`, advisory → `note`),
//!   its tags are its framework mappings plus `security`, and its
//!   `security-severity` (the number GitHub ranks alerts by) from its severity;
//! - one result per finding, with the finding's level (an evaluation error is
//!   always `error`); its primary location is the rule's name in its `.gov`
//!   file, and `relatedLocations` hold the inventory record of the entity and
//!   the failed condition;
//! - `partialFingerprints["govFindingHash/v1"]` is stable across edits (see
//!   [`crate::report::fingerprint`]);
//! - a waived finding carries an `external` suppression whose justification is
//!   the exception's reason (status `accepted`: someone approved it);
//! - with `Options::repository_files`, a finding whose inventory record lies
//!   in a file of the repository gets the record as its primary location and
//!   the rule as a related location, so that code-scanning alerts spread over
//!   the records that cause them instead of piling onto a few rule lines;
//! - with `Options::baseline`, each result has a `baselineState` (`new`,
//!   `unchanged`, `updated` when a field of the finding changed, see
//!   [`crate::diff::Field`]) and each finding of the baseline that is gone is
//!   an `absent` result;
//! - evaluation errors are also `toolExecutionNotifications`, expired
//!   exceptions `toolConfigurationNotifications`;
//! - file names are given as relative URI references, exactly as the audit
//!   names them (percent-encoded where a URI needs it); columns count Unicode
//!   code points, as [`crate::source::SourceFile::line_col`] does.
//!
//! Must not: read files or the clock; `now` is the audit's.

use std::fmt::Write as _;

use serde_json::{Value, json};

use std::collections::HashMap;

use super::fingerprint::{self, FINGERPRINT_KEY};
use super::summary::priority_label;
use crate::diff::{Entry, FindingSet};
use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::{Audit, ExpiredException, Finding, FindingKind, Origin, RuleSummary};
use crate::source::Loc;

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";

/// What [`render_with`] adds to the plain log.
#[derive(Clone, Debug, Default)]
pub struct Options<'a> {
    /// Inventory files (named as the audit names them) that lie inside the
    /// repository the log is for, each with its URI relative to the
    /// repository's root: their records become primary locations.
    pub repository_files: HashMap<String, String>,
    /// A previous run's findings: results get a `baselineState`.
    pub baseline: Option<&'a FindingSet>,
}

/// The SARIF log of an audit.
pub fn render(audit: &Audit) -> Value {
    render_with(audit, &Options::default())
}

/// The SARIF log of an audit, with record locations and baseline states.
pub fn render_with(audit: &Audit, opts: &Options<'_>) -> Value {
    let mut driver = json!({
        "name": "gov",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": audit.rules.iter().map(rule).collect::<Vec<_>>(),
    });
    if let Some(uri) = information_uri() {
        set(&mut driver, "informationUri", uri);
    }
    let errors: Vec<Value> = audit
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Error && f.is_open())
        .map(|f| error_notification(audit, f))
        .collect();
    let expired: Vec<Value> = audit.expired_exceptions.iter().map(expired_notification).collect();
    let mut invocation = json!({
        "executionSuccessful": true,
        "properties": {
            "now": audit.now.to_string(),
            "inventoryFiles": audit.inventory_files,
        },
    });
    if !errors.is_empty() {
        set(&mut invocation, "toolExecutionNotifications", errors);
    }
    if !expired.is_empty() {
        set(&mut invocation, "toolConfigurationNotifications", expired);
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results(audit, opts),
        }],
    })
}

fn results(audit: &Audit, opts: &Options<'_>) -> Vec<Value> {
    let mut out: Vec<Value> = audit.findings.iter().map(|f| result(audit, f, opts)).collect();
    let Some(baseline) = opts.baseline else { return out };
    let before: HashMap<u64, &Entry> =
        baseline.entries.iter().rev().map(|e| (e.fingerprint, e)).collect();
    let mut present = std::collections::HashSet::with_capacity(audit.findings.len());
    for (f, r) in audit.findings.iter().zip(out.iter_mut()) {
        let now = Entry::of(f);
        let state = match before.get(&now.fingerprint) {
            None => "new",
            Some(b) if b.changed_fields(&now).is_empty() => "unchanged",
            Some(_) => "updated",
        };
        present.insert(now.fingerprint);
        set(r, "baselineState", state);
    }
    let mut gone = std::collections::HashSet::new();
    for e in &baseline.entries {
        if !present.contains(&e.fingerprint) && gone.insert(e.fingerprint) {
            out.push(absent_result(audit, e, opts));
        }
    }
    out
}

/// A finding of the baseline that this run no longer has.
fn absent_result(audit: &Audit, e: &Entry, opts: &Options<'_>) -> Value {
    let level = match e.kind {
        FindingKind::Error => "error",
        FindingKind::Violation => level(e.enforcement),
    };
    let mut properties = json!({
        "kind": match e.kind {
            FindingKind::Violation => "violation",
            FindingKind::Error => "error",
        },
        "severity": e.severity.as_str(),
        "enforcement": e.enforcement.as_str(),
        "entity": e.entity,
        "entityKind": &*e.entity_kind,
    });
    if let Some(p) = e.priority {
        set(&mut properties, "priority", priority_label(p));
    }
    if let Some(s) = &e.service {
        set(&mut properties, "service", s.as_str());
    }
    let mut out = json!({
        "ruleId": &*e.rule,
        "level": level,
        "message": { "text": e.message },
        "partialFingerprints": { FINGERPRINT_KEY: e.fingerprint_hex() },
        "baselineState": "absent",
        "properties": properties,
    });
    let place = e.place.as_deref();
    let origin = place.and_then(|p| p.origin.as_ref());
    let in_repo = origin.and_then(|(file, line)| Some((opts.repository_files.get(file)?, line)));
    let location = match (in_repo, place.and_then(|p| p.rule.as_ref())) {
        (Some((uri, line)), _) => {
            let mut physical = json!({ "artifactLocation": { "uri": file_uri(uri) } });
            if let Some(line) = line.filter(|l| *l >= 1) {
                set(&mut physical, "region", json!({ "startLine": line }));
            }
            Some(physical)
        }
        (None, Some((file, line))) => Some(json!({
            "artifactLocation": { "uri": file_uri(file) },
            "region": { "startLine": (*line).max(1) },
        })),
        (None, None) => None,
    };
    if let Some(physical) = location {
        set(&mut out, "locations", json!([{ "physicalLocation": physical }]));
    }
    if let Some(i) = audit.rules.iter().position(|r| *r.id == *e.rule) {
        set(&mut out, "ruleIndex", i);
    }
    out
}

/// [`render`], pretty-printed, with a final newline.
pub fn render_string(audit: &Audit) -> String {
    render_string_with(audit, &Options::default())
}

/// [`render_with`], pretty-printed, with a final newline.
pub fn render_string_with(audit: &Audit, opts: &Options<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&render_with(audit, opts)).unwrap_or_default();
    s.push('\n');
    s
}

/// Adds `key` to a JSON object (built by `json!` just before, so always an object).
fn set(object: &mut Value, key: &str, value: impl Into<Value>) {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_owned(), value.into());
    }
}

/// The package's homepage or repository, when Cargo.toml names one.
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")].into_iter().find(|u| !u.is_empty())
}

/// SARIF level for an enforcement level.
pub fn level(enforcement: Enforcement) -> &'static str {
    match enforcement {
        Enforcement::Hard => "error",
        Enforcement::Soft => "warning",
        Enforcement::Advisory => "note",
    }
}

/// The level of one finding: its enforcement's, and `error` for an evaluation error.
pub fn finding_level(f: &Finding) -> &'static str {
    match f.kind {
        FindingKind::Error => "error",
        FindingKind::Violation => level(f.enforcement),
    }
}

/// GitHub's `security-severity` score (0.0-10.0, CVSS-like bands) for a severity.
fn security_severity(s: SeverityLevel) -> &'static str {
    match s {
        SeverityLevel::Critical => "9.5",
        SeverityLevel::High => "8.0",
        SeverityLevel::Medium => "5.5",
        SeverityLevel::Low => "3.0",
        SeverityLevel::Info => "0.0",
    }
}

/// The first sentence (or line) of a doc comment, for `shortDescription`.
fn first_sentence(doc: &str) -> &str {
    let line = doc.trim().lines().next().unwrap_or("").trim();
    match line.find(". ") {
        Some(i) => line.get(..=i).unwrap_or(line),
        None => line,
    }
}

fn rule(r: &RuleSummary) -> Value {
    let doc = r.doc.trim();
    let short = if doc.is_empty() { r.id.as_str() } else { first_sentence(doc) };
    let full = if doc.is_empty() { r.id.as_str() } else { doc };
    let mut help = full.to_owned();
    if !r.maps.is_empty() {
        help.push_str("\n\nControls: ");
        help.push_str(&r.maps.join(", "));
    }
    let mut tags: Vec<&str> = vec!["security"];
    tags.extend(r.maps.iter().map(String::as_str));
    json!({
        "id": r.id,
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": help },
        "defaultConfiguration": { "level": level(r.enforcement) },
        "properties": {
            "tags": tags,
            "severity": r.severity.as_str(),
            "enforcement": r.enforcement.as_str(),
            "security-severity": security_severity(r.severity),
        },
    })
}

/// A relative URI reference for a file name as the user gave it: `\` becomes
/// `/`, an absolute path becomes a `file://` URI, and bytes outside the URI
/// unreserved set (and `/`) are percent-encoded.
pub fn file_uri(name: &str) -> String {
    let name = name.replace('\\', "/");
    let mut out = String::with_capacity(name.len());
    let bytes = name.as_bytes();
    let windows_drive =
        bytes.get(1) == Some(&b':') && bytes.first().is_some_and(u8::is_ascii_alphabetic);
    if name.starts_with('/') {
        out.push_str("file://");
    } else if windows_drive {
        out.push_str("file:///");
    }
    for (i, b) in name.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (windows_drive && i == 1);
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A physical location covering `loc` (lines and columns one-based; the end
/// column is one past the last character, as SARIF wants).
fn physical(loc: &Loc) -> Value {
    let (start_line, start_column) = loc.file.line_col(loc.span.start);
    let (end_line, end_column) = loc.file.line_col(loc.span.end.max(loc.span.start));
    let mut region = json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    });
    let text = loc.text();
    if !text.is_empty() {
        set(&mut region, "snippet", json!({ "text": text }));
    }
    json!({
        "artifactLocation": { "uri": file_uri(loc.file.name()) },
        "region": region,
    })
}

fn origin_physical(o: &Origin, uri: String) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": uri } });
    if let Some(line) = o.line.filter(|l| *l >= 1) {
        set(&mut physical, "region", json!({ "startLine": line }));
    }
    physical
}

fn origin_location(id: u32, f: &Finding, o: &Origin) -> Value {
    json!({
        "id": id,
        "physicalLocation": origin_physical(o, file_uri(&o.file)),
        "message": {
            "text": format!("inventory record {} of {} `{}`", o.record, f.entity_kind, f.entity),
        },
    })
}

fn result(audit: &Audit, f: &Finding, opts: &Options<'_>) -> Value {
    let rule_index = audit.rules.iter().position(|r| *r.id == *f.rule);
    let mut related = Vec::new();
    // The record is the primary location when its file is in the repository.
    let record_primary =
        f.origin.as_ref().and_then(|o| Some((o, opts.repository_files.get(&*o.file)?)));
    let primary = match record_primary {
        Some((o, uri)) => {
            related.push(json!({
                "id": 1,
                "physicalLocation": physical(&f.rule_loc),
                "message": { "text": format!("the rule `{}`", f.rule) },
            }));
            json!({
                "physicalLocation": origin_physical(o, file_uri(uri)),
                "message": {
                    "text": format!("inventory record {} of {} `{}`", o.record, f.entity_kind, f.entity),
                },
            })
        }
        None => {
            if let Some(o) = &f.origin {
                related.push(origin_location(1, f, o));
            }
            json!({ "physicalLocation": physical(&f.rule_loc) })
        }
    };
    related.push(json!({
        "id": 2,
        "physicalLocation": physical(&f.condition_loc),
        "message": { "text": match f.kind {
            FindingKind::Violation => "the condition that failed",
            FindingKind::Error => "the expression that could not be evaluated",
        } },
    }));
    let mut properties = json!({
        "kind": match f.kind {
            FindingKind::Violation => "violation",
            FindingKind::Error => "error",
        },
        "severity": f.severity.as_str(),
        "enforcement": f.enforcement.as_str(),
        "entity": f.entity,
        "entityKind": f.entity_kind,
        "evidence": f.evidence.iter().map(|e| json!({"expr": e.expr, "value": e.value})).collect::<Vec<_>>(),
    });
    if let Some(p) = f.priority {
        set(&mut properties, "priority", priority_label(p.level));
        set(&mut properties, "within", p.within.to_string());
        set(&mut properties, "due", p.due.to_string());
    }
    if let Some(s) = &f.service {
        set(&mut properties, "service", s.as_str());
    }
    if let Some(h) = &f.help {
        set(&mut properties, "help", &**h);
    }
    if !f.witness.is_empty() {
        set(&mut properties, "witness", f.witness.clone());
    }
    if !f.maps.is_empty() {
        set(&mut properties, "tags", f.maps.to_vec());
    }
    let mut out = json!({
        "ruleId": f.rule,
        "level": finding_level(f),
        "message": { "text": f.message },
        "locations": [primary],
        "relatedLocations": related,
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint::of(f) },
        "properties": properties,
    });
    if let Some(i) = rule_index {
        set(&mut out, "ruleIndex", i);
    }
    if let Some(w) = &f.waived_by {
        let mut suppression = json!({
            "kind": "external",
            "status": "accepted",
            "properties": {
                "exception": w.exception,
                "approvedBy": w.approved_by,
                "until": w.until.to_string(),
            },
        });
        if let Some(reason) = &w.reason {
            set(&mut suppression, "justification", &**reason);
        }
        set(&mut out, "suppressions", json!([suppression]));
    }
    out
}

fn error_notification(audit: &Audit, f: &Finding) -> Value {
    let mut descriptor = json!({ "id": f.rule });
    if let Some(i) = audit.rules.iter().position(|r| *r.id == *f.rule) {
        set(&mut descriptor, "index", i);
    }
    json!({
        "level": "error",
        "message": {
            "text": format!(
                "rule `{}` could not be evaluated for {} `{}`: {}",
                f.rule, f.entity_kind, f.entity, f.message
            ),
        },
        "locations": [{ "physicalLocation": physical(&f.condition_loc) }],
        "associatedRule": descriptor,
    })
}

fn expired_notification(e: &ExpiredException) -> Value {
    json!({
        "level": "warning",
        "message": {
            "text": format!(
                "exception `{}` for rule `{}` expired on {} and waives nothing",
                e.exception, e.rule, e.until
            ),
        },
        "locations": [{ "physicalLocation": physical(&e.loc) }],
        "descriptor": { "id": "gov/expired-exception" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(file_uri("policies/lifecycle.gov"), "policies/lifecycle.gov");
        assert_eq!(file_uri("my policies\\a#1.gov"), "my%20policies/a%231.gov");
        assert_eq!(file_uri("/srv/p.gov"), "file:///srv/p.gov");
        assert_eq!(file_uri("C:\\p.gov"), "file:///C:/p.gov");
        assert_eq!(file_uri("é.json"), "%C3%A9.json");
    }

    #[test]
    fn short_descriptions_are_the_first_sentence() {
        assert_eq!(first_sentence("Owners matter. Really.\nMore."), "Owners matter.");
        assert_eq!(first_sentence("\n  One line\nTwo"), "One line");
    }
}
