//! The audit as one JSON document, for scripts and dashboards.
//!
//! The format is named `gov.findings/v1`. Within `v1` fields are only ever
//! added; a rename or removal bumps the name. Every key below is always
//! present (`null` when there is no value), so consumers need no
//! existence checks.
//!
//! ```text
//! {
//!   "format": "gov.findings/v1",
//!   "now": "2026-11-22",                       // evaluation time (date, or RFC 3339)
//!   "inventory_files": ["inventory/aws.json"],
//!   "summary": {
//!     "total": 5, "open": 3, "errors": 1, "waived": 1,   // open = unwaived violations
//!     "blocking": 2,                           // open findings (violations + errors) enforced `hard`
//!     "worst_enforcement": "hard" | null,
//!     "failing_rules": 2, "rules": 4, "expired_exceptions": 1,
//!     "by_severity":    {"critical": 1, "high": 2, "medium": 0, "low": 0, "info": 1},
//!     "by_enforcement": {"hard": 2, "soft": 1, "advisory": 1},
//!     "by_priority":    {"P1": 1, "P2": 0, "P3": 2, "P4": 0, "P5": 0, "none": 1}
//!   },                                         // by_* count open violations and errors
//!   "rules": [{
//!     "id": "owner-required", "doc": "...", "severity": "high", "enforcement": "hard",
//!     "maps": ["OWASP-NHI:NHI1"], "file": "policies/lifecycle.gov", "line": 9, "column": 6,
//!     "checked": 120, "failed": 2, "waived": 0, "errors": 0,
//!     "status": "pass" | "fail" | "error"      // fail wins over error
//!   }],
//!   "findings": [{                             // the audit's order: rule order, then entity
//!     "kind": "violation" | "error", "status": "open" | "waived",
//!     "rule": "owner-required", "rule_file": "policies/lifecycle.gov",
//!     "rule_line": 9, "rule_column": 6,
//!     "condition": "exists id -[owned_by]-> ...", "condition_line": 15,
//!     "entity": "svc-billing", "entity_kind": "identity",
//!     "severity": "high", "enforcement": "hard",
//!     "priority": {"level": 1, "label": "P1", "within": "24h", "due": "2026-11-23"} | null,
//!     "service": "billing" | null, "message": "...", "help": "..." | null,
//!     "evidence": [{"expr": "c.rotated_at", "value": "2026-01-01"}],
//!     "witness": ["svc-billing", "alice"], "maps": ["OWASP-NHI:NHI1"],
//!     "origin": {"file": "inventory/identities.json", "line": 14 | null, "record": 3} | null,
//!     "waiver": {"exception": "...", "until": "2027-01-31", "approved_by": ["..."],
//!                "reason": "..." | null} | null,
//!     "fingerprint": "9f0c...",                // stable across edits, see report::fingerprint
//!   }],
//!   "expired_exceptions": [{"exception": "...", "rule": "...", "until": "2026-10-01",
//!                           "file": "policies/exceptions.gov", "line": 3, "column": 11}]
//! }
//! ```
//!
//! Must not: decide anything (the exit code is the CLI's).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::fingerprint;
use super::summary::{MAX_PRIORITY, Summary, priority_label};
use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::{Audit, Evidence, ExpiredException, Finding, FindingKind, RuleSummary};
use crate::source::Loc;

/// The name and version of the document format.
pub const FORMAT: &str = "gov.findings/v1";

/// The whole audit as a `gov.findings/v1` document.
pub fn render(audit: &Audit) -> Value {
    // Counted from the findings rather than trusted from the summary's
    // fields, so that `status` agrees with `findings` even for a hand-made audit.
    let status = RuleStatus::of(audit);
    json!({
        "format": FORMAT,
        "now": audit.now.to_string(),
        "inventory_files": audit.inventory_files,
        "summary": summary(audit),
        "rules": audit.rules.iter().map(|r| rule_with(r, status.of_rule(&r.id))).collect::<Vec<_>>(),
        "findings": audit.findings.iter().map(finding).collect::<Vec<_>>(),
        "expired_exceptions": audit.expired_exceptions.iter().map(expired).collect::<Vec<_>>(),
    })
}

/// [`render`], pretty-printed, with a final newline.
///
/// Findings are written as they are read, not built as a [`Value`] first
/// (a map per finding cost more than the audit that made it); the text is
/// the same as printing [`render`]'s document (keys in sorted order, as a
/// `serde_json` map keeps them), which a test checks.
pub fn render_string(audit: &Audit) -> String {
    // About 1.2 KB per finding.
    let mut buf = Vec::with_capacity(4096 + audit.findings.len() * 1280);
    if write(audit, &mut buf).is_err() {
        buf.clear();
    }
    // serde_json writes UTF-8 only.
    String::from_utf8(buf).unwrap_or_default()
}

/// [`render_string`]'s text, written to `out` as it is produced: a large
/// audit's report (about 1.2 KB per finding) is never held in memory whole.
/// Errors are the writer's (a full disk, a closed pipe).
pub fn write(audit: &Audit, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(&mut *out, serde_json::ser::PrettyFormatter::new());
    Doc(audit).serialize(&mut ser).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// The whole document; its keys in sorted order (see [`render_string`]).
struct Doc<'a>(&'a Audit);

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let audit = self.0;
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry(
            "expired_exceptions",
            &audit.expired_exceptions.iter().map(expired).collect::<Vec<_>>(),
        )?;
        m.serialize_entry("findings", &Findings(&audit.findings))?;
        m.serialize_entry("format", FORMAT)?;
        m.serialize_entry("inventory_files", &audit.inventory_files)?;
        m.serialize_entry("now", &audit.now.to_string())?;
        let status = RuleStatus::of(audit);
        m.serialize_entry(
            "rules",
            &audit.rules.iter().map(|r| rule_with(r, status.of_rule(&r.id))).collect::<Vec<_>>(),
        )?;
        m.serialize_entry("summary", &summary(audit))?;
        m.end()
    }
}

struct Findings<'a>(&'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(FindingOut::of))
    }
}

/// One finding as [`finding`] writes it; fields in sorted key order.
#[derive(Serialize)]
struct FindingOut<'a> {
    condition: &'a str,
    condition_line: usize,
    enforcement: &'static str,
    entity: &'a str,
    entity_kind: &'a str,
    evidence: EvidenceOut<'a>,
    fingerprint: String,
    help: Option<&'a str>,
    kind: &'static str,
    maps: &'a [String],
    message: &'a str,
    origin: Option<OriginOut<'a>>,
    priority: Option<PriorityOut>,
    rule: &'a str,
    rule_column: usize,
    rule_file: &'a str,
    rule_line: usize,
    service: Option<&'a str>,
    severity: &'static str,
    status: &'static str,
    waiver: Option<WaiverOut<'a>>,
    witness: &'a [String],
}

struct EvidenceOut<'a>(&'a [Evidence]);

impl Serialize for EvidenceOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|e| ExprValue { expr: &e.expr, value: &e.value }))
    }
}

#[derive(Serialize)]
struct ExprValue<'a> {
    expr: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct OriginOut<'a> {
    file: &'a str,
    line: Option<u32>,
    record: u32,
}

#[derive(Serialize)]
struct PriorityOut {
    due: String,
    label: String,
    level: u8,
    within: String,
}

#[derive(Serialize)]
struct WaiverOut<'a> {
    approved_by: &'a [String],
    exception: &'a str,
    reason: Option<&'a str>,
    until: String,
}

impl<'a> FindingOut<'a> {
    fn of(f: &'a Finding) -> Self {
        let (rule_file, rule_line, rule_column) = position(&f.rule_loc);
        let (_, condition_line, _) = position(&f.condition_loc);
        FindingOut {
            condition: f.condition_loc.text(),
            condition_line,
            enforcement: f.enforcement.as_str(),
            entity: &f.entity,
            entity_kind: &f.entity_kind,
            evidence: EvidenceOut(&f.evidence),
            fingerprint: fingerprint::of(f),
            help: f.help.as_deref(),
            kind: kind_str(f.kind),
            maps: &f.maps,
            message: &f.message,
            origin: f.origin.as_ref().map(|o| OriginOut {
                file: &o.file,
                line: o.line,
                record: o.record,
            }),
            priority: f.priority.map(|p| PriorityOut {
                due: p.due.to_string(),
                label: priority_label(p.level),
                level: p.level,
                within: p.within.to_string(),
            }),
            rule: &f.rule,
            rule_column,
            rule_file,
            rule_line,
            service: f.service.as_deref(),
            severity: f.severity.as_str(),
            status: status_str(f),
            waiver: f.waived_by.as_ref().map(|w| WaiverOut {
                approved_by: &w.approved_by,
                exception: &w.exception,
                reason: w.reason.as_deref(),
                until: w.until.to_string(),
            }),
            witness: &f.witness,
        }
    }
}

fn kind_str(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Violation => "violation",
        FindingKind::Error => "error",
    }
}

fn status_str(f: &Finding) -> &'static str {
    if f.is_open() { "open" } else { "waived" }
}

/// Which rules have open violations and open errors, from one pass over the
/// findings (not one per rule).
struct RuleStatus<'a> {
    open: std::collections::HashMap<&'a str, (bool, bool)>,
}

impl<'a> RuleStatus<'a> {
    fn of(audit: &'a Audit) -> Self {
        let mut open = std::collections::HashMap::new();
        for f in audit.findings.iter().filter(|f| f.is_open()) {
            let e: &mut (bool, bool) = open.entry(&*f.rule).or_default();
            match f.kind {
                FindingKind::Violation => e.0 = true,
                FindingKind::Error => e.1 = true,
            }
        }
        RuleStatus { open }
    }

    /// `fail` wins over `error`.
    fn of_rule(&self, id: &str) -> &'static str {
        match self.open.get(id) {
            Some((true, _)) => "fail",
            Some((false, true)) => "error",
            _ => "pass",
        }
    }
}

fn summary(audit: &Audit) -> Value {
    let s = Summary::of(audit);
    let mut by_severity = Map::new();
    for level in SeverityLevel::ALL.iter().rev() {
        by_severity.insert(level.as_str().to_owned(), s.severity(*level).into());
    }
    let mut by_enforcement = Map::new();
    for level in Enforcement::ALL.iter().rev() {
        by_enforcement.insert(level.as_str().to_owned(), s.enforcement(*level).into());
    }
    let mut by_priority = Map::new();
    for (level, n) in (1..=MAX_PRIORITY).zip(s.by_priority) {
        by_priority.insert(priority_label(level), n.into());
    }
    by_priority.insert("none".to_owned(), s.no_priority.into());
    json!({
        "total": s.total,
        "open": s.open,
        "errors": s.errors,
        "waived": s.waived,
        "blocking": s.enforcement(Enforcement::Hard),
        "worst_enforcement": audit.worst_open_enforcement().map(Enforcement::as_str),
        "failing_rules": s.failing_rules,
        "rules": audit.rules.len(),
        "expired_exceptions": s.expired_exceptions,
        "by_severity": by_severity,
        "by_enforcement": by_enforcement,
        "by_priority": by_priority,
    })
}

/// (file, line, column) of a location's start.
fn position(loc: &Loc) -> (&str, usize, usize) {
    let (line, column) = loc.file.line_col(loc.span.start);
    (loc.file.name(), line, column)
}

fn rule_with(r: &RuleSummary, status: &str) -> Value {
    let (file, line, column) = position(&r.loc);
    json!({
        "id": r.id,
        "doc": r.doc,
        "severity": r.severity.as_str(),
        "enforcement": r.enforcement.as_str(),
        "maps": r.maps,
        "file": file,
        "line": line,
        "column": column,
        "checked": r.checked,
        "failed": r.failed,
        "waived": r.waived,
        "errors": r.errors,
        "status": status,
    })
}

fn finding(f: &Finding) -> Value {
    let (rule_file, rule_line, rule_column) = position(&f.rule_loc);
    let (_, condition_line, _) = position(&f.condition_loc);
    json!({
        "kind": match f.kind {
            FindingKind::Violation => "violation",
            FindingKind::Error => "error",
        },
        "status": if f.is_open() { "open" } else { "waived" },
        "rule": f.rule,
        "rule_file": rule_file,
        "rule_line": rule_line,
        "rule_column": rule_column,
        "condition": f.condition_loc.text(),
        "condition_line": condition_line,
        "entity": f.entity,
        "entity_kind": f.entity_kind,
        "severity": f.severity.as_str(),
        "enforcement": f.enforcement.as_str(),
        "priority": f.priority.map(|p| json!({
            "level": p.level,
            "label": priority_label(p.level),
            "within": p.within.to_string(),
            "due": p.due.to_string(),
        })),
        "service": f.service,
        "message": f.message,
        "help": f.help,
        "evidence": f.evidence.iter().map(|e| json!({"expr": e.expr, "value": e.value})).collect::<Vec<_>>(),
        "witness": f.witness,
        "maps": f.maps,
        "origin": f.origin.as_ref().map(|o| json!({
            "file": o.file,
            "line": o.line,
            "record": o.record,
        })),
        "waiver": f.waived_by.as_ref().map(|w| json!({
            "exception": w.exception,
            "until": w.until.to_string(),
            "approved_by": w.approved_by,
            "reason": w.reason,
        })),
        "fingerprint": fingerprint::of(f),
    })
}

fn expired(e: &ExpiredException) -> Value {
    let (file, line, column) = position(&e.loc);
    json!({
        "exception": e.exception,
        "rule": e.rule,
        "until": e.until.to_string(),
        "file": file,
        "line": line,
        "column": column,
    })
}
