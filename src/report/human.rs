//! The audit as plain text for a terminal or a CI log.
//!
//! Open findings come first, grouped by priority (P1 first, no priority last),
//! then by service (named services in name order, none last); within a group
//! the worst severity and strongest enforcement come first, then the audit's
//! order. Each finding shows what failed, where the rule is (its source line
//! with the name underlined, rustc-style), which inventory record the entity
//! came from, the evidence, the help and the due date. Waived findings follow
//! in one line each, then expired exceptions, then a summary line.
//!
//! Must not: use colour or the terminal width; the text is the same on every
//! machine, so logs and snapshots can be compared.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::summary::{Summary, plural, priority_label, urgency_key};
use crate::domain::Enforcement;
use crate::eval::{Audit, Finding, FindingKind};
use crate::source::Loc;

/// Orders priority groups: P1 ... P5, then none.
type PriorityKey = (bool, Option<u8>);
/// Orders service groups: named services by name, then none.
type ServiceKey<'a> = (bool, &'a str);

/// The report (ends with a newline).
pub fn render(audit: &Audit) -> String {
    let mut out = String::new();
    let mut open: Vec<&Finding> = audit.findings.iter().filter(|f| f.is_open()).collect();
    open.sort_by_key(|f| urgency_key(f));

    // Priority groups (`None` last), each split by service (`None` last).
    let mut groups: BTreeMap<PriorityKey, BTreeMap<ServiceKey<'_>, Vec<&Finding>>> =
        BTreeMap::new();
    for f in &open {
        let p = f.priority.map(|p| p.level);
        let service = f.service.as_deref();
        groups
            .entry((p.is_none(), p))
            .or_default()
            .entry((service.is_none(), service.unwrap_or("")))
            .or_default()
            .push(f);
    }
    for ((_, priority), services) in &groups {
        let n: usize = services.values().map(Vec::len).sum();
        let title = priority.map_or_else(|| "no priority".to_owned(), priority_label);
        let _ = writeln!(out, "== {title} ({}) ==\n", plural(n, "finding"));
        for ((_, service), findings) in services {
            if services.len() > 1 || !service.is_empty() {
                let name = if service.is_empty() {
                    "no service".to_owned()
                } else {
                    format!("service {service}")
                };
                let _ = writeln!(out, "-- {name} --\n");
            }
            for f in findings {
                finding(&mut out, f);
                out.push('\n');
            }
        }
    }

    let waived: Vec<&Finding> = audit.findings.iter().filter(|f| !f.is_open()).collect();
    if !waived.is_empty() {
        let _ = writeln!(out, "== waived ({}) ==\n", waived.len());
        for f in waived {
            let Some(w) = &f.waived_by else { continue };
            let _ = write!(
                out,
                "{}: {} ({}) waived by {} until {}",
                f.rule, f.entity, f.entity_kind, w.exception, w.until
            );
            if !w.approved_by.is_empty() {
                let _ = write!(out, ", approved by {}", w.approved_by.join(", "));
            }
            out.push('\n');
        }
        out.push('\n');
    }

    if !audit.expired_exceptions.is_empty() {
        let _ = writeln!(out, "== expired exceptions ({}) ==\n", audit.expired_exceptions.len());
        for e in &audit.expired_exceptions {
            let (line, col) = e.loc.file.line_col(e.loc.span.start);
            let _ = writeln!(
                out,
                "{} (rule {}) expired on {} and waives nothing; {}:{line}:{col}",
                e.exception,
                e.rule,
                e.until,
                e.loc.file.name()
            );
        }
        out.push('\n');
    }

    out.push_str(&summary_line(audit));
    out.push('\n');
    out
}

/// `summary: 3 open findings (2 hard, 1 soft), 1 evaluation error, 1 waived,
/// 1 expired exception; 4 rules`.
pub fn summary_line(audit: &Audit) -> String {
    let s = Summary::of(audit);
    let mut parts = Vec::new();
    if s.open > 0 {
        let by: Vec<String> = Enforcement::ALL
            .iter()
            .rev()
            .filter_map(|e| {
                let n = audit
                    .findings
                    .iter()
                    .filter(|f| {
                        f.is_open() && f.kind == FindingKind::Violation && f.enforcement == *e
                    })
                    .count();
                (n > 0).then(|| format!("{n} {}", e.as_str()))
            })
            .collect();
        parts.push(format!("{} ({})", plural(s.open, "open finding"), by.join(", ")));
    }
    if s.errors > 0 {
        parts.push(plural(s.errors, "evaluation error"));
    }
    if s.waived > 0 {
        parts.push(format!("{} waived", s.waived));
    }
    if s.expired_exceptions > 0 {
        parts.push(plural(s.expired_exceptions, "expired exception"));
    }
    if parts.is_empty() {
        parts.push("no findings".to_owned());
    }
    format!("summary: {}; {} evaluated", parts.join(", "), plural(audit.rules.len(), "rule"))
}

fn finding(out: &mut String, f: &Finding) {
    let label = match f.kind {
        FindingKind::Violation => f.severity.as_str(),
        FindingKind::Error => "error",
    };
    let _ = writeln!(
        out,
        "{label}[{}]: {} ({}) in rule {}",
        f.enforcement.as_str(),
        f.entity,
        f.entity_kind,
        f.rule
    );
    let _ = writeln!(out, "  {}", f.message.replace('\n', "\n  "));
    source_excerpt(out, &f.rule_loc);
    if let Some(o) = &f.origin {
        match o.line {
            Some(line) => {
                let _ = writeln!(out, "  = entity: {}:{line} (record {})", o.file, o.record);
            }
            None => {
                let _ = writeln!(out, "  = entity: {} (record {})", o.file, o.record);
            }
        }
    }
    let condition = f.condition_loc.text();
    if !condition.is_empty() {
        let (line, _) = f.condition_loc.file.line_col(f.condition_loc.span.start);
        let what = match f.kind {
            FindingKind::Violation => "failed",
            FindingKind::Error => "evaluating",
        };
        let _ = writeln!(out, "  = {what}: {} (line {line})", one_line(condition));
    }
    for e in &f.evidence {
        let _ = writeln!(out, "  = evidence: {} = {}", e.expr, e.value);
    }
    if !f.witness.is_empty() {
        let _ = writeln!(out, "  = path: {}", f.witness.join(" -> "));
    }
    if let Some(h) = &f.help {
        let _ = writeln!(out, "  = help: {h}");
    }
    if let Some(p) = f.priority {
        let _ =
            writeln!(out, "  = due: {} ({}, within {})", p.due, priority_label(p.level), p.within);
    }
}

/// Collapses runs of whitespace (a multi-line condition on one line).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `--> file:line:col`, the source line, and `^^^` under the located text
/// (to the end of the line when it spans several), laid out like rustc's.
fn source_excerpt(out: &mut String, loc: &Loc) {
    let (line, col) = loc.file.line_col(loc.span.start);
    let src = loc.file.line_text(line);
    let pad = " ".repeat(line.to_string().len());
    let _ = writeln!(out, "  {pad}--> {}:{line}:{col}", loc.file.name());
    let _ = writeln!(out, "  {pad} |");
    let _ = writeln!(out, "  {line} | {src}");
    let before: String = src
        .chars()
        .take(col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let width = loc.text().lines().next().map_or(0, |l| l.chars().count()).max(1);
    let width = width.min(src.chars().count().saturating_sub(col.saturating_sub(1)).max(1));
    let _ = writeln!(out, "  {pad} | {before}{}", "^".repeat(width));
}
