//! A `FindingDiff` (and a decision-log `Replay`) as plain text, as the
//! `gov.diff/v1` JSON document, and as Markdown for a pull-request comment.
//!
//! JSON (`gov.diff/v1`; within `v1` fields are only added):
//!
//! ```text
//! {
//!   "format": "gov.diff/v1", "base": "git:origin/main:policies", "head": "policies",
//!   "fail_on": "hard" | null,
//!   "summary": {"new": 3, "resolved": 1, "changed": 2, "unchanged": 140,
//!               "blocking_added": 2},        // open findings the head adds at or above fail_on
//!   "by_rule":    [{"rule": "...", "new": 3, "resolved": 0, "changed": 1, "unchanged": 9}],
//!   "by_service": [{"service": "billing" | "(no service)", "new": ..., ...}],
//!   "renamed": [{"from": "old-id", "to": "new-id", "entities": 4}],
//!   "new": [FINDING], "resolved": [FINDING],
//!   "changed": [{"fingerprint": "...", "rule": "...", "entity_kind": "...", "entity": "...",
//!                "fields": ["severity", "waiver"], "before": FINDING, "after": FINDING}],
//!   "blocking_added": ["<fingerprint>", ...],
//!   "duplicates": {"base": 0, "head": 0},
//!   "decisions": null | {"records": 120, "unchanged": 117, "changed": 3,
//!                "base_differs_from_log": 0,
//!                "invalid_lines": [{"line": 7, "error": "..."}],
//!                "groups": [{"decision": "...", "before": "allow", "after": "deny",
//!                            "responsible": {"side": "head", "clause": "deny", "message": "...",
//!                                            "file": "...", "line": 4} | null,
//!                            "count": 3, "examples": [{"line": 12, "input": {...},
//!                                                      "now": "..."}]}]}
//! }
//! FINDING = {"fingerprint", "rule", "entity_kind", "entity", "kind", "status": "open" | "waived",
//!            "severity", "enforcement", "priority": "P1" | null, "waiver": "..." | null,
//!            "message", "service": "..." | null}
//! ```
//!
//! Must not: decide the exit code or emit raw user text in Markdown (cells go
//! through `markdown::cell` and `markdown::code`).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::markdown::{cell, code};
use super::summary::{plural, priority_label};
use crate::diff::replay::{Flip, FlipGroup, Replay, Responsible};
use crate::diff::{Changed, Counts, Entry, FindingDiff};
use crate::domain::Enforcement;
use crate::eval::FindingKind;

/// The name and version of the JSON document.
pub const FORMAT: &str = "gov.diff/v1";

/// What to render.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// How the base was named (a path, `git:REV:PATH`, a report file).
    pub base: &'a str,
    /// How the head was named.
    pub head: &'a str,
    /// The comparison.
    pub diff: &'a FindingDiff,
    /// The level at which added findings block (`--fail-on`); `None`: never.
    pub fail_on: Option<Enforcement>,
    /// The decision-log replay, when a log was given.
    pub replay: Option<&'a Replay>,
    /// Rows per Markdown table and findings per text section before "and N more".
    pub max_rows: usize,
}

impl View<'_> {
    fn blocking(&self) -> Vec<&Entry> {
        self.fail_on.map(|l| self.diff.added_blocking(l)).unwrap_or_default()
    }
}

fn entry_json(e: &Entry) -> Value {
    json!({
        "fingerprint": e.fingerprint_hex(),
        "rule": &*e.rule,
        "entity_kind": &*e.entity_kind,
        "entity": e.entity,
        "kind": kind_str(e.kind),
        "status": if e.is_open() { "open" } else { "waived" },
        "severity": e.severity.as_str(),
        "enforcement": e.enforcement.as_str(),
        "priority": e.priority.map(priority_label),
        "waiver": e.waiver.as_deref(),
        "message": e.message,
        "service": e.service,
    })
}

fn kind_str(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Violation => "violation",
        FindingKind::Error => "error",
    }
}

fn counts_json<'a>(key: &str, m: impl Iterator<Item = (&'a String, &'a Counts)>) -> Vec<Value> {
    m.map(|(name, c)| {
        json!({
            key: name, "new": c.new, "resolved": c.resolved,
            "changed": c.changed, "unchanged": c.unchanged,
        })
    })
    .collect()
}

fn changed_json(c: &Changed) -> Value {
    json!({
        "fingerprint": c.after.fingerprint_hex(),
        "rule": &*c.after.rule,
        "entity_kind": &*c.after.entity_kind,
        "entity": c.after.entity,
        "fields": c.fields,
        "before": entry_json(&c.before),
        "after": entry_json(&c.after),
    })
}

fn flip_json(f: &Flip) -> Value {
    json!({
        "line": f.line,
        "input": f.input,
        "now": f.now.map(|t| t.to_string()),
        "before": f.before.label(),
        "after": f.after.label(),
    })
}

fn group_json(g: &FlipGroup) -> Value {
    json!({
        "decision": g.decision,
        "before": g.before.label(),
        "after": g.after.label(),
        "responsible": g.responsible,
        "count": g.count,
        "examples": g.examples.iter().map(flip_json).collect::<Vec<_>>(),
    })
}

fn replay_json(r: &Replay) -> Value {
    json!({
        "records": r.records,
        "unchanged": r.unchanged,
        "changed": r.flips.len(),
        "base_differs_from_log": r.base_differs_from_log,
        "invalid_lines": r.invalid,
        "groups": r.groups.iter().map(group_json).collect::<Vec<_>>(),
    })
}

/// The `gov.diff/v1` document.
pub fn json(v: &View<'_>) -> Value {
    let d = v.diff;
    let blocking = v.blocking();
    json!({
        "format": FORMAT,
        "base": v.base,
        "head": v.head,
        "fail_on": v.fail_on.map(Enforcement::as_str),
        "summary": {
            "new": d.new.len(),
            "resolved": d.resolved.len(),
            "changed": d.changed.len(),
            "unchanged": d.unchanged,
            "blocking_added": blocking.len(),
        },
        "by_rule": counts_json("rule", d.by_rule.iter()),
        "by_service": counts_json("service", d.by_service.iter()),
        "renamed": d.renamed,
        "new": d.new.iter().map(entry_json).collect::<Vec<_>>(),
        "resolved": d.resolved.iter().map(entry_json).collect::<Vec<_>>(),
        "changed": d.changed.iter().map(changed_json).collect::<Vec<_>>(),
        "blocking_added": blocking.iter().map(|e| e.fingerprint_hex()).collect::<Vec<_>>(),
        "duplicates": {"base": d.duplicates.0, "head": d.duplicates.1},
        "decisions": v.replay.map(replay_json),
    })
}

/// [`json()`], pretty-printed, with a final newline.
pub fn json_string(v: &View<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&json(v)).unwrap_or_default();
    s.push('\n');
    s
}

/// Control characters of untrusted text as spaces (a terminal must not
/// receive escape sequences from an inventory).
fn plain(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn entry_line(e: &Entry) -> String {
    let status = if e.is_open() { String::new() } else { " [waived]".to_owned() };
    let service = e.service.as_deref().map_or_else(String::new, |s| format!(" ({})", plain(s)));
    format!(
        "  [{}/{}]{status} {} {} `{}`{service}: {}",
        e.enforcement.as_str(),
        e.severity.as_str(),
        plain(&e.rule),
        plain(&e.entity_kind),
        plain(&e.entity),
        plain(&e.message)
    )
}

fn field_change(c: &Changed, f: crate::diff::Field) -> String {
    use crate::diff::Field;
    let (b, a) = (&c.before, &c.after);
    let opt = |p: Option<String>| p.unwrap_or_else(|| "none".to_owned());
    let (from, to) = match f {
        Field::Kind => (kind_str(b.kind).to_owned(), kind_str(a.kind).to_owned()),
        Field::Severity => (b.severity.as_str().to_owned(), a.severity.as_str().to_owned()),
        Field::Enforcement => {
            (b.enforcement.as_str().to_owned(), a.enforcement.as_str().to_owned())
        }
        Field::Priority => {
            (opt(b.priority.map(priority_label)), opt(a.priority.map(priority_label)))
        }
        Field::Waiver => (
            opt(b.waiver.as_deref().map(str::to_owned)),
            opt(a.waiver.as_deref().map(str::to_owned)),
        ),
        Field::Message => (format!("\"{}\"", b.message), format!("\"{}\"", a.message)),
        Field::Service => (opt(b.service.clone()), opt(a.service.clone())),
    };
    format!("{} {from} → {to}", f.as_str())
}

fn responsible_text(r: &Responsible) -> String {
    let was = if r.side == "base" { "no longer: " } else { "" };
    format!("{was}{} \"{}\" ({}:{})", r.clause, r.message, r.file, r.line)
}

fn inputs_text(f: &Flip) -> String {
    f.input
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Plain text for a terminal or a log.
pub fn human(v: &View<'_>) -> String {
    let d = v.diff;
    let mut out = String::new();
    let blocking = v.blocking();
    let _ = writeln!(out, "gov diff: {} → {}", plain(v.base), plain(v.head));
    let mut facts = vec![
        format!("{} new", d.new.len()),
        format!("{} resolved", d.resolved.len()),
        format!("{} changed", d.changed.len()),
        format!("{} unchanged", d.unchanged),
    ];
    if let Some(level) = v.fail_on {
        facts.push(format!(
            "{} added at or above `{}`",
            plural(blocking.len(), "blocking finding"),
            level.as_str()
        ));
    }
    let _ = writeln!(out, "  {}", facts.join(", "));
    let section = |out: &mut String, title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{title} ({}):", items.len());
        for line in items.iter().take(v.max_rows) {
            let _ = writeln!(out, "{line}");
        }
        if items.len() > v.max_rows {
            let _ = writeln!(out, "  … and {} more", items.len() - v.max_rows);
        }
    };
    section(&mut out, "blocking findings added", blocking.iter().map(|e| entry_line(e)).collect());
    let blocking_fps: std::collections::HashSet<u64> =
        blocking.iter().map(|e| e.fingerprint).collect();
    section(
        &mut out,
        "other new findings",
        d.new.iter().filter(|e| !blocking_fps.contains(&e.fingerprint)).map(entry_line).collect(),
    );
    section(&mut out, "resolved findings", d.resolved.iter().map(entry_line).collect());
    section(
        &mut out,
        "changed findings",
        d.changed
            .iter()
            .map(|c| {
                let changes: Vec<String> = c.fields.iter().map(|f| field_change(c, *f)).collect();
                format!(
                    "  {} {} `{}`: {}",
                    plain(&c.after.rule),
                    plain(&c.after.entity_kind),
                    plain(&c.after.entity),
                    plain(&changes.join("; "))
                )
            })
            .collect(),
    );
    let rules: Vec<_> = d.by_rule.iter().filter(|(_, c)| c.differs()).collect();
    if !rules.is_empty() {
        let _ = writeln!(out, "\nby rule:");
        for (rule, c) in rules {
            let _ = writeln!(
                out,
                "  {:<32} +{} -{} ~{} ={}",
                plain(rule),
                c.new,
                c.resolved,
                c.changed,
                c.unchanged
            );
        }
    }
    let services: Vec<_> = d.by_service.iter().filter(|(_, c)| c.differs()).collect();
    if !services.is_empty() {
        let _ = writeln!(out, "\nby service:");
        for (s, c) in services {
            let _ = writeln!(
                out,
                "  {:<32} +{} -{} ~{} ={}",
                plain(s),
                c.new,
                c.resolved,
                c.changed,
                c.unchanged
            );
        }
    }
    for h in &d.renamed {
        let _ = writeln!(
            out,
            "\nhint: rule `{}` looks renamed to `{}` ({} shared): fingerprints include the rule id, so its findings show as resolved and new",
            plain(&h.from),
            plain(&h.to),
            plural(h.entities, "entity")
        );
    }
    if let Some(r) = v.replay {
        let _ = writeln!(
            out,
            "\ndecisions: {} replayed, {} change effect, {} unchanged",
            r.records,
            r.flips.len(),
            r.unchanged
        );
        for g in &r.groups {
            let by = g
                .responsible
                .as_ref()
                .map_or_else(String::new, |r| format!(" by {}", plain(&responsible_text(r))));
            let _ = writeln!(
                out,
                "  {}: {} → {} ({}){by}",
                plain(&g.decision),
                g.before.label(),
                g.after.label(),
                plural(g.count, "request")
            );
            for f in &g.examples {
                let _ = writeln!(out, "    line {}: {}", f.line, plain(&inputs_text(f)));
            }
        }
        if r.base_differs_from_log > 0 {
            let _ = writeln!(
                out,
                "  note: the base decides {} differently from the log (not the policies the server ran?)",
                plural(r.base_differs_from_log, "request")
            );
        }
        if !r.invalid.is_empty() {
            let lines: Vec<String> = r.invalid.iter().map(|l| l.line.to_string()).collect();
            let _ = writeln!(
                out,
                "  skipped {} that {} not decision records: {}",
                plural(r.invalid.len(), "line"),
                if r.invalid.len() == 1 { "is" } else { "are" },
                lines.join(", ")
            );
        }
    }
    out
}

fn finding_rows(out: &mut String, items: &[&Entry], max_rows: usize) {
    out.push_str("| Rule | Entity | Severity | Enforcement | Service | Message |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for e in items.iter().take(max_rows) {
        let service = e.service.as_deref().map_or_else(|| "–".to_owned(), code);
        let severity = match e.kind {
            FindingKind::Violation => e.severity.as_str().to_owned(),
            FindingKind::Error => format!("{} (error)", e.severity.as_str()),
        };
        let enforcement = if e.is_open() {
            e.enforcement.as_str().to_owned()
        } else {
            format!("{} (waived)", e.enforcement.as_str())
        };
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {severity} | {enforcement} | {service} | {} |",
            code(&e.rule),
            code(&e.entity),
            cell(&e.entity_kind),
            cell(&e.message)
        );
    }
    if items.len() > max_rows {
        let _ = writeln!(out, "\n…and {} more.", items.len() - max_rows);
    }
    out.push('\n');
}

fn counts_rows<'a>(
    out: &mut String,
    what: &str,
    rows: impl Iterator<Item = (&'a String, &'a Counts)>,
) {
    let _ = writeln!(out, "| {what} | New | Resolved | Changed | Unchanged |");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for (name, c) in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code(name),
            c.new,
            c.resolved,
            c.changed,
            c.unchanged
        );
    }
    out.push('\n');
}

fn details(out: &mut String, summary: &str, body: &str) {
    let _ = write!(out, "<details><summary>{summary}</summary>\n\n{body}</details>\n\n");
}

/// Markdown for a pull-request comment: the headline, the blocking findings
/// the change adds, counts per rule and per service, the rest folded, and
/// the decision impact when a log was replayed.
pub fn markdown(v: &View<'_>) -> String {
    let d = v.diff;
    let blocking = v.blocking();
    let mut out = String::new();
    let headline = match v.fail_on {
        Some(level) if !blocking.is_empty() => {
            let which = match level {
                Enforcement::Hard => "hard ",
                Enforcement::Soft => "hard or soft ",
                Enforcement::Advisory => "",
            };
            let verb = if blocking.len() == 1 { "finding" } else { "findings" };
            format!("❌ this change adds {} {which}{verb} that block the build", blocking.len())
        }
        _ if d.is_empty() => "✅ no change in findings".to_owned(),
        _ => "✅ this change adds no blocking findings".to_owned(),
    };
    let _ = writeln!(out, "### {headline}\n");
    let _ = writeln!(
        out,
        "`gov diff` {} → {} · {} new · {} resolved · {} changed · {} unchanged\n",
        code(v.base),
        code(v.head),
        d.new.len(),
        d.resolved.len(),
        d.changed.len(),
        d.unchanged
    );
    if !blocking.is_empty() {
        let _ = writeln!(out, "#### New blocking findings\n");
        finding_rows(&mut out, &blocking, v.max_rows);
    }
    for h in &d.renamed {
        let _ = writeln!(
            out,
            "> **Note:** rule {} looks renamed to {} ({} shared). Fingerprints include the rule id, so its findings show as resolved and new.\n",
            code(&h.from),
            code(&h.to),
            plural(h.entities, "entity")
        );
    }
    let rules: Vec<_> = d.by_rule.iter().filter(|(_, c)| c.differs()).collect();
    if !rules.is_empty() {
        let _ = writeln!(out, "#### By rule\n");
        counts_rows(&mut out, "Rule", rules.into_iter());
    }
    let services: Vec<_> = d.by_service.iter().filter(|(_, c)| c.differs()).collect();
    if !services.is_empty() {
        let _ = writeln!(out, "#### By service\n");
        counts_rows(&mut out, "Service", services.into_iter());
    }
    let blocking_fps: std::collections::HashSet<u64> =
        blocking.iter().map(|e| e.fingerprint).collect();
    let other_new: Vec<&Entry> =
        d.new.iter().filter(|e| !blocking_fps.contains(&e.fingerprint)).collect();
    if !other_new.is_empty() {
        let mut body = String::new();
        finding_rows(&mut body, &other_new, v.max_rows);
        details(&mut out, &plural(other_new.len(), "other new finding"), &body);
    }
    if !d.resolved.is_empty() {
        let mut body = String::new();
        let all: Vec<&Entry> = d.resolved.iter().collect();
        finding_rows(&mut body, &all, v.max_rows);
        details(&mut out, &plural(d.resolved.len(), "resolved finding"), &body);
    }
    if !d.changed.is_empty() {
        let mut body = String::from("| Rule | Entity | What changed |\n|---|---|---|\n");
        for c in d.changed.iter().take(v.max_rows) {
            let changes: Vec<String> = c.fields.iter().map(|f| field_change(c, *f)).collect();
            let _ = writeln!(
                body,
                "| {} | {} ({}) | {} |",
                code(&c.after.rule),
                code(&c.after.entity),
                cell(&c.after.entity_kind),
                cell(&changes.join("; "))
            );
        }
        if d.changed.len() > v.max_rows {
            let _ = writeln!(body, "\n…and {} more.", d.changed.len() - v.max_rows);
        }
        body.push('\n');
        details(&mut out, &plural(d.changed.len(), "changed finding"), &body);
    }
    if let Some(r) = v.replay {
        decisions_markdown(&mut out, r, v.max_rows);
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn decisions_markdown(out: &mut String, r: &Replay, max_rows: usize) {
    let _ = writeln!(out, "#### Decision impact\n");
    let _ = writeln!(out, "{} of {} recorded requests change effect.\n", r.flips.len(), r.records);
    if !r.groups.is_empty() {
        out.push_str("| Decision | Effect | Clause | Requests |\n|---|---|---|---:|\n");
        for g in r.groups.iter().take(max_rows) {
            let clause = g
                .responsible
                .as_ref()
                .map_or_else(|| "–".to_owned(), |r| cell(&responsible_text(r)));
            let _ = writeln!(
                out,
                "| {} | {} → {} | {clause} | {} |",
                code(&g.decision),
                cell(&g.before.label()),
                cell(&g.after.label()),
                g.count
            );
        }
        if r.groups.len() > max_rows {
            let _ = writeln!(out, "\n…and {} more.", r.groups.len() - max_rows);
        }
        out.push('\n');
        let mut body =
            String::from("| Decision | Effect | Log line | Inputs |\n|---|---|---:|---|\n");
        for g in r.groups.iter().take(max_rows) {
            for f in &g.examples {
                let _ = writeln!(
                    body,
                    "| {} | {} → {} | {} | {} |",
                    code(&g.decision),
                    cell(&f.before.label()),
                    cell(&f.after.label()),
                    f.line,
                    cell(&inputs_text(f))
                );
            }
        }
        body.push('\n');
        details(out, "Examples", &body);
    }
    if r.base_differs_from_log > 0 {
        let _ = writeln!(
            out,
            "The base decides {} differently from the log.\n",
            plural(r.base_differs_from_log, "request")
        );
    }
    if !r.invalid.is_empty() {
        let lines: Vec<String> = r.invalid.iter().take(20).map(|l| l.line.to_string()).collect();
        let more = if r.invalid.len() > 20 { ", …" } else { "" };
        let _ = writeln!(
            out,
            "Skipped {} that are not decision records (lines {}{more}).\n",
            plural(r.invalid.len(), "log line"),
            lines.join(", ")
        );
    }
}
