//! The Markdown report's posture sections: a scorecard per business service
//! (pass rate, open findings by priority, overdue, waivers, trend) and, with
//! a history, what is new and resolved since the previous run. Appended to
//! `markdown::render`'s summary.
//!
//! Must not: emit raw user text; cells go through `cell` and `code`.

use std::fmt::Write as _;

use super::markdown::{cell, code};
use super::summary::plural;
use crate::eval::Audit;
use crate::history::Timeline;
use crate::metrics::{Metrics, ServiceMetrics};

/// Rows of the new and resolved tables; the rest are counted.
const MAX_ROWS: usize = 20;

/// Appends the scorecard (and, when `had_previous`, the changes since the
/// previous run) to a Markdown summary.
pub fn append(md: &mut String, audit: &Audit, m: &Metrics, t: &Timeline, had_previous: bool) {
    let out = md;
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "#### Scorecard by business service\n\nPass rate: entities passing over entities in each rule's scope. Overall {}.\n",
        percent(m.totals.pass_rate)
    );
    let trend = m.history.runs.len() > 1;
    out.push_str("| Service | Tier | Pass rate | Open P1 / P2 / P3+ | Overdue | Waived |");
    out.push_str(if trend { " Open over runs |\n" } else { "\n" });
    out.push_str("|---|---:|---:|---|---:|---:|");
    out.push_str(if trend { "---|\n" } else { "\n" });
    for s in &m.services {
        if s.checked == 0 && s.open.total == 0 && s.exceptions.waived_findings == 0 {
            continue;
        }
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            service_label(s),
            s.tier.map_or_else(|| "–".to_owned(), |t| t.to_string()),
            percent(s.pass_rate),
            by_priority(s),
            s.overdue,
            s.exceptions.waived_findings,
        );
        if trend {
            let _ = write!(out, " {} |", sparkline(s.trend.iter().map(|p| p.open)));
        }
        out.push('\n');
    }
    out.push('\n');
    if had_previous {
        changes(out, audit, t, m);
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
}

fn changes(out: &mut String, audit: &Audit, t: &Timeline, m: &Metrics) {
    let previous = m.history.runs.iter().rev().nth(1).map(|r| r.now.to_string());
    let new: Vec<_> = (audit.findings.iter())
        .filter(|f| f.is_open())
        .filter(|f| t.of(&f.rule, &f.entity_kind, &f.entity).is_some_and(|t| t.new))
        .collect();
    let resolved = &t.resolved_in_latest;
    let _ = writeln!(
        out,
        "#### Since the previous run{}\n\n{}, {}.\n",
        previous.map_or_else(String::new, |p| format!(" ({p})")),
        plural(new.len(), "new open finding"),
        plural(resolved.len(), "resolved finding")
    );
    if !new.is_empty() {
        let _ = writeln!(out, "<details><summary>New</summary>\n");
        out.push_str("| Rule | Entity | Service | Message |\n|---|---|---|---|\n");
        for f in new.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&f.rule),
                code(&f.entity),
                f.service.as_deref().map_or_else(|| "–".to_owned(), code),
                cell(&f.message)
            );
        }
        if new.len() > MAX_ROWS {
            let _ = writeln!(out, "\n…and {} more.", new.len() - MAX_ROWS);
        }
        out.push_str("\n</details>\n\n");
    }
    if !resolved.is_empty() {
        let _ = writeln!(out, "<details><summary>Resolved</summary>\n");
        out.push_str("| Rule | Entity | Service | Open since |\n|---|---|---|---|\n");
        for r in resolved.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&r.rule),
                code(&r.entity),
                r.service.as_deref().map_or_else(|| "–".to_owned(), code),
                r.first_seen
            );
        }
        if resolved.len() > MAX_ROWS {
            let _ = writeln!(out, "\n…and {} more.", resolved.len() - MAX_ROWS);
        }
        out.push_str("\n</details>\n\n");
    }
}

fn service_label(s: &ServiceMetrics) -> String {
    match (&s.id, &s.name) {
        (Some(id), Some(name)) => format!("{} ({})", code(id), cell(name)),
        (Some(id), None) => code(id),
        (None, _) => "*no business service*".to_owned(),
    }
}

fn by_priority(s: &ServiceMetrics) -> String {
    let get = |p: &str| s.open.by_priority.get(p).copied().unwrap_or(0);
    let rest: usize = ["P3", "P4", "P5", "none"].iter().map(|p| get(p)).sum();
    format!("{} / {} / {}", get("P1"), get("P2"), rest)
}

/// `93.2%`.
pub fn percent(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

/// A text sparkline of counts (`▁` lowest, `█` highest).
pub fn sparkline(values: impl Iterator<Item = usize>) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let v: Vec<usize> = values.collect();
    let max = v.iter().copied().max().unwrap_or(0).max(1);
    v.iter().map(|n| BARS.get(n * 7 / max).copied().unwrap_or('▁')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest_count() {
        assert_eq!(sparkline([0, 7, 14].into_iter()), "▁▄█");
        assert_eq!(sparkline([0, 0].into_iter()), "▁▁");
    }
}
