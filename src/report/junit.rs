//! The audit as JUnit XML, for CI test-report views (GitLab merge requests,
//! Jenkins, Azure Pipelines, GitHub test-report actions).
//!
//! One `<testsuite name="gov">` holds:
//! - for each rule with no findings, one passing `<testcase>` named after the
//!   rule;
//! - for each finding, one `<testcase classname="gov.RULE" name="ENTITY (KIND)">`:
//!   an open violation holds a `<failure>` (`type` is the severity), an open
//!   evaluation error an `<error>`, and a waived finding a `<skipped>` with the
//!   exception in `<system-out>`.
//!
//! Why a test case per rule and entity rather than one per rule with several
//! `<failure>`s: Jenkins' JUnit plugin keeps only the first `<failure>` of a
//! test case, and GitLab lists test cases, not failures, so each failing
//! entity is a line a reviewer can open there. `classname` `gov.RULE` makes
//! Jenkins group the cases by rule ("package" `gov`, "class" the rule).
//! Every open violation is a failure whatever its enforcement: the report
//! shows what failed; whether the build fails is the exit code's business.
//! Expired exceptions go to the suite's `<system-out>`.
//!
//! Must not: write anything but well-formed XML 1.0 (see `escape`).

use std::fmt::Write as _;

use super::summary::{Summary, priority_label};
use crate::eval::{Audit, Finding, FindingKind};

/// The JUnit XML document for an audit (ends with a newline).
pub fn render(audit: &Audit) -> String {
    let s = Summary::of(audit);
    let passing: Vec<_> =
        audit.rules.iter().filter(|r| !audit.findings.iter().any(|f| *f.rule == *r.id)).collect();
    let tests = passing.len() + audit.findings.len();
    let counts = format!(
        "tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\"",
        s.open, s.errors, s.waived
    );
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"gov\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"gov\" {counts} timestamp=\"{}\">",
        junit_timestamp(audit.now.0)
    );
    out.push_str("    <properties>\n");
    let _ = writeln!(
        out,
        "      <property name=\"gov.now\" value=\"{}\"/>",
        escape(&audit.now.to_string())
    );
    let _ = writeln!(
        out,
        "      <property name=\"gov.version\" value=\"{}\"/>",
        env!("CARGO_PKG_VERSION")
    );
    for file in &audit.inventory_files {
        let _ =
            writeln!(out, "      <property name=\"gov.inventory\" value=\"{}\"/>", escape(file));
    }
    out.push_str("    </properties>\n");

    // Rule order, then the audit's order within a rule.
    for rule in &audit.rules {
        let findings: Vec<&Finding> =
            audit.findings.iter().filter(|f| *f.rule == *rule.id).collect();
        if findings.is_empty() {
            let (line, _) = rule.loc.file.line_col(rule.loc.span.start);
            let _ = writeln!(
                out,
                "    <testcase classname=\"gov.{id}\" name=\"{id}\" file=\"{file}\" line=\"{line}\" time=\"0\">",
                id = escape(&rule.id),
                file = escape(rule.loc.file.name()),
            );
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                if rule.checked == 1 {
                    "1 entity checked, none failed".to_owned()
                } else {
                    format!("{} entities checked, none failed", rule.checked)
                }
            );
            out.push_str("    </testcase>\n");
        } else {
            for f in findings {
                testcase(&mut out, f);
            }
        }
    }
    // Findings of rules the audit does not list (a hand-built audit); kept, not dropped.
    for f in audit.findings.iter().filter(|f| !audit.rules.iter().any(|r| *r.id == *f.rule)) {
        testcase(&mut out, f);
    }

    if !audit.expired_exceptions.is_empty() {
        let mut text = String::from("expired exceptions (they waive nothing):\n");
        for e in &audit.expired_exceptions {
            let (line, _) = e.loc.file.line_col(e.loc.span.start);
            let _ = writeln!(
                text,
                "  {} for rule {} expired on {} ({}:{line})",
                e.exception,
                e.rule,
                e.until,
                e.loc.file.name()
            );
        }
        let _ = writeln!(out, "    <system-out>{}</system-out>", escape_text(&text));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, f: &Finding) {
    let (line, _) = f.rule_loc.file.line_col(f.rule_loc.span.start);
    let _ = writeln!(
        out,
        "    <testcase classname=\"gov.{rule}\" name=\"{entity} ({kind})\" file=\"{file}\" line=\"{line}\" time=\"0\">",
        rule = escape(&f.rule),
        entity = escape(&f.entity),
        kind = escape(&f.entity_kind),
        file = escape(f.rule_loc.file.name()),
    );
    let body = escape_text(&details(f));
    match (&f.waived_by, f.kind) {
        (Some(w), _) => {
            let _ = writeln!(
                out,
                "      <skipped message=\"{}\"/>",
                escape(&format!("waived by exception {} until {}", w.exception, w.until))
            );
            let mut text = format!("waived by exception {} until {}", w.exception, w.until);
            if !w.approved_by.is_empty() {
                let _ = write!(text, ", approved by {}", w.approved_by.join(", "));
            }
            if let Some(reason) = &w.reason {
                let _ = write!(text, "\nreason: {reason}");
            }
            let _ = write!(text, "\n\n{}", details(f));
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape_text(&text));
        }
        (None, FindingKind::Violation) => {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{body}</failure>",
                escape(&f.message),
                f.severity.as_str()
            );
        }
        (None, FindingKind::Error) => {
            let _ = writeln!(
                out,
                "      <error message=\"{}\" type=\"evaluation_error\">{body}</error>",
                escape(&f.message)
            );
        }
    }
    out.push_str("    </testcase>\n");
}

/// The text a CI view shows under a failure: what, where, why, what to do.
fn details(f: &Finding) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{}", f.message);
    let (line, col) = f.rule_loc.file.line_col(f.rule_loc.span.start);
    let _ = writeln!(t, "rule:      {} ({}:{line}:{col})", f.rule, f.rule_loc.file.name());
    let condition = f.condition_loc.text();
    if !condition.is_empty() {
        let _ = writeln!(t, "condition: {condition}");
    }
    let _ = write!(t, "entity:    {} {}", f.entity_kind, f.entity);
    if let Some(o) = &f.origin {
        match o.line {
            Some(l) => {
                let _ = write!(t, " ({}:{l}, record {})", o.file, o.record);
            }
            None => {
                let _ = write!(t, " ({}, record {})", o.file, o.record);
            }
        }
    }
    t.push('\n');
    let _ = writeln!(t, "severity:  {}, enforce {}", f.severity.as_str(), f.enforcement.as_str());
    if let Some(p) = f.priority {
        let _ = writeln!(
            t,
            "priority:  {}, due {} (within {})",
            priority_label(p.level),
            p.due,
            p.within
        );
    }
    if let Some(s) = &f.service {
        let _ = writeln!(t, "service:   {s}");
    }
    for e in &f.evidence {
        let _ = writeln!(t, "evidence:  {} = {}", e.expr, e.value);
    }
    if !f.witness.is_empty() {
        let _ = writeln!(t, "path:      {}", f.witness.join(" -> "));
    }
    if let Some(h) = &f.help {
        let _ = writeln!(t, "help:      {h}");
    }
    if !f.maps.is_empty() {
        let _ = writeln!(t, "controls:  {}", f.maps.join(", "));
    }
    t
}

/// The form JUnit's `timestamp` attribute takes (no zone; UTC).
fn junit_timestamp(secs: i64) -> String {
    crate::time::Timestamp(secs).datetime()
}

/// Escapes text for XML 1.0 content or a double- or single-quoted attribute.
///
/// `&`, `<`, `>`, `"` and `'` become entities; tab, line feed and carriage
/// return become character references (so attributes keep them through
/// attribute-value normalisation); every other character XML 1.0 forbids
/// (other C0 controls, U+FFFE, U+FFFF) becomes U+FFFD, since XML 1.0 has no
/// way to write them at all.
pub fn escape(s: &str) -> String {
    escape_with(s, false)
}

/// Like `escape`, for element content: tabs and line feeds stay as they
/// are, which keeps the document readable (content is not normalised).
pub fn escape_text(s: &str) -> String {
    escape_with(s, true)
}

fn escape_with(s: &str, content: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' if content => out.push(c),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
        assert_eq!(escape("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
        assert_eq!(
            escape("bell\u{7}nul\u{0}esc\u{1b}\u{ffff}"),
            "bell\u{fffd}nul\u{fffd}esc\u{fffd}\u{fffd}"
        );
        assert_eq!(escape("é ✓ 🦀"), "é ✓ 🦀");
        assert_eq!(escape_text("a<\tb\n\r\u{1}"), "a&lt;\tb\n&#13;\u{fffd}");
    }

    #[test]
    fn timestamps_have_no_zone() {
        assert_eq!(junit_timestamp(0), "1970-01-01T00:00:00");
        assert_eq!(junit_timestamp(86_400 + 3661), "1970-01-02T01:01:01");
    }
}
