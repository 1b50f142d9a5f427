//! The audit as a GitHub-flavoured Markdown summary, sized for a pull-request
//! comment or a CI job summary: a headline that says whether the build is
//! blocked, counts by priority and severity, the most urgent findings, then
//! waived findings and expired exceptions (folded).
//!
//! Must not: emit raw user text: every cell goes through `cell` or `code`,
//! so an entity id or message can neither break a table nor inject markup.

use std::fmt::Write as _;

use super::summary::{MAX_PRIORITY, Summary, plural, priority_label, urgency_key};
use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::{Audit, Finding, FindingKind};

/// What the summary shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Rows of the top-findings table; the rest are counted ("and K more").
    pub max_rows: usize,
    /// The enforcement level that fails the build (`--fail-on`), for the headline.
    pub fail_on: Enforcement,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_rows: 20, fail_on: Enforcement::Hard }
    }
}

/// The Markdown summary (ends with a newline).
pub fn render(audit: &Audit, opts: &Options) -> String {
    let s = Summary::of(audit);
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", headline(&s, opts.fail_on));

    let mut facts =
        vec![format!("`gov` audit at {}", audit.now), plural(audit.rules.len(), "rule")];
    facts.push(plural(s.open, "open finding"));
    if s.errors > 0 {
        facts.push(plural(s.errors, "evaluation error"));
    }
    facts.push(format!("{} waived", s.waived));
    if s.expired_exceptions > 0 {
        facts.push(plural(s.expired_exceptions, "expired exception"));
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));

    if s.open_total() > 0 {
        counts_table(&mut out, audit);
        top_table(&mut out, audit, opts.max_rows);
    }
    waived_section(&mut out, audit);
    expired_section(&mut out, audit);
    // Sections end with a blank line; the document ends with one newline.
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn headline(s: &Summary, fail_on: Enforcement) -> String {
    let blocking = s.at_least(fail_on);
    let which = match fail_on {
        Enforcement::Hard => "hard ",
        Enforcement::Soft => "hard or soft ",
        Enforcement::Advisory => "",
    };
    if blocking > 0 {
        let verb = if blocking == 1 { "blocks" } else { "block" };
        format!("❌ {} {verb} the build", plural(blocking, &format!("{which}finding")))
    } else if s.open_total() > 0 {
        format!(
            "✅ no blocking findings ({} below `{}`)",
            plural(s.open_total(), "open finding"),
            fail_on.as_str()
        )
    } else {
        "✅ no findings".to_owned()
    }
}

/// Open findings by priority (rows) and severity (columns), worst first;
/// rows and columns that would be all zero are left out.
fn counts_table(out: &mut String, audit: &Audit) {
    let open: Vec<&Finding> = audit.findings.iter().filter(|f| f.is_open()).collect();
    let severities: Vec<SeverityLevel> = SeverityLevel::ALL
        .iter()
        .rev()
        .copied()
        .filter(|l| open.iter().any(|f| f.severity == *l))
        .collect();
    let rows: Vec<Option<u8>> = (1..=MAX_PRIORITY)
        .map(Some)
        .chain([None])
        .filter(|p| open.iter().any(|f| f.priority.map(|a| a.level) == *p))
        .collect();
    let _ = write!(out, "| Priority |");
    for l in &severities {
        let _ = write!(out, " {} |", l.as_str());
    }
    out.push_str(" total |\n|---|");
    for _ in &severities {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    let row = |out: &mut String, label: &str, fs: &[&&Finding]| {
        let _ = write!(out, "| {label} |");
        for l in &severities {
            let _ = write!(out, " {} |", fs.iter().filter(|f| f.severity == *l).count());
        }
        let _ = writeln!(out, " {} |", fs.len());
    };
    for p in &rows {
        let fs: Vec<&&Finding> =
            open.iter().filter(|f| f.priority.map(|a| a.level) == *p).collect();
        let label = p.map_or_else(|| "none".to_owned(), priority_label);
        row(out, &label, &fs);
    }
    let all: Vec<&&Finding> = open.iter().collect();
    row(out, "**total**", &all);
    out.push('\n');
}

fn top_table(out: &mut String, audit: &Audit, max_rows: usize) {
    let mut open: Vec<&Finding> = audit.findings.iter().filter(|f| f.is_open()).collect();
    open.sort_by_key(|f| urgency_key(f));
    let shown = open.len().min(max_rows);
    let _ = writeln!(
        out,
        "#### {}\n",
        if shown == open.len() { "Findings".to_owned() } else { format!("Top {shown} findings") }
    );
    out.push_str("| Priority | Severity | Rule | Entity | Service | Message |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for f in open.iter().take(shown) {
        let priority = f.priority.map_or_else(
            || "–".to_owned(),
            |p| format!("{} (due {})", priority_label(p.level), p.due),
        );
        let severity = match f.kind {
            FindingKind::Violation => f.severity.as_str().to_owned(),
            FindingKind::Error => format!("{} (error)", f.severity.as_str()),
        };
        let service = f.service.as_deref().map_or_else(|| "–".to_owned(), code);
        let _ = writeln!(
            out,
            "| {priority} | {severity} | {} | {} ({}) | {service} | {} |",
            code(&f.rule),
            code(&f.entity),
            cell(&f.entity_kind),
            cell(&f.message),
        );
    }
    if open.len() > shown {
        let _ = writeln!(out, "\n…and {} more.", open.len() - shown);
    }
    out.push('\n');
}

fn waived_section(out: &mut String, audit: &Audit) {
    let waived: Vec<&Finding> = audit.findings.iter().filter(|f| !f.is_open()).collect();
    if waived.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{} (by an approved exception)</summary>\n",
        plural(waived.len(), "waived finding")
    );
    out.push_str("| Rule | Entity | Exception | Until | Approved by | Reason |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for f in waived {
        let Some(w) = &f.waived_by else { continue };
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {} | {} | {} | {} |",
            code(&f.rule),
            code(&f.entity),
            cell(&f.entity_kind),
            code(&w.exception),
            w.until,
            cell(&w.approved_by.join(", ")),
            w.reason.as_deref().map_or_else(|| "–".to_owned(), cell),
        );
    }
    out.push_str("\n</details>\n\n");
}

fn expired_section(out: &mut String, audit: &Audit) {
    if audit.expired_exceptions.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "#### {} (exception debt)\n",
        plural(audit.expired_exceptions.len(), "expired exception")
    );
    out.push_str("| Exception | Rule | Expired | Declared at |\n|---|---|---|---|\n");
    for e in &audit.expired_exceptions {
        let (line, _) = e.loc.file.line_col(e.loc.span.start);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            code(&e.exception),
            code(&e.rule),
            e.until,
            code(&format!("{}:{line}", e.loc.file.name())),
        );
    }
    out.push('\n');
}

/// Text for a table cell: Markdown punctuation that could format or break the
/// table is backslash-escaped, and line breaks become `<br>`.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let s = s.replace("\r\n", "\n");
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push_str("<br>"),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An identifier as a code span in a table cell. `|` is still escaped (GFM
/// splits cells before it parses code spans); a backtick in the text gets a
/// longer fence; line breaks become spaces.
pub fn code(s: &str) -> String {
    let text: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || text.starts_with(' ') || text.ends_with(' ') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_tables() {
        assert_eq!(cell("a|b\nc\r\nd"), "a\\|b<br>c<br>d");
        assert_eq!(cell("*x* <b> [l](u)"), "\\*x\\* \\<b\\> \\[l\\](u)");
        assert_eq!(code("svc|x"), "`svc\\|x`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a\nb"), "`a b`");
    }
}
