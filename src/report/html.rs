//! The posture report as one self-contained HTML file for owners of business
//! services and security leads: a headline, a scorecard per business
//! service, control coverage, exception debt, the rules that fail most, and
//! the findings grouped by service with search and filters.
//!
//! Everything is inline (CSS, a small script, charts as SVG), so the file
//! works offline and opening it requests nothing from any host. Templates
//! are maud's: every interpolated value is HTML-escaped, and the script
//! reads the page's text, never HTML, so an entity named
//! `<script>alert(1)</script>` is shown as text.
//!
//! Must not: inline an unbounded number of findings; past
//! `Options::max_findings_per_service` they are counted and left to the
//! JSON report.

use std::collections::HashMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::scorecard::percent;
use super::summary::{Summary, priority_label, urgency_key};
use crate::domain::Enforcement;
use crate::eval::{Audit, Finding};
use crate::history::Timeline;
use crate::metrics::{Metrics, ServiceMetrics};

/// What the report shows.
#[derive(Clone, Debug)]
pub struct Options {
    /// Findings inlined per service (open ones first, most urgent first);
    /// the rest are counted.
    pub max_findings_per_service: usize,
    /// Findings inlined in the whole report. When the services' findings
    /// exceed it, every service gets the same share (its most urgent
    /// findings), so that a large estate still gives a file a browser
    /// opens; the rest are counted.
    pub max_findings: usize,
    /// The page title.
    pub title: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_findings_per_service: 500,
            max_findings: 15_000,
            title: "Governance posture".to_owned(),
        }
    }
}

const CSS: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// The HTML document.
pub fn render(audit: &Audit, m: &Metrics, t: &Timeline, opts: &Options) -> String {
    let summary = Summary::of(audit);
    let mut by_service: HashMap<Option<&str>, Vec<&Finding>> = HashMap::new();
    for f in &audit.findings {
        by_service.entry(f.service.as_deref()).or_default().push(f);
    }
    let shares = shares(
        m.services.iter().map(|s| by_service.get(&s.id.as_deref()).map_or(0, Vec::len)),
        opts.max_findings_per_service,
        opts.max_findings,
    );
    let pass_rates: Vec<f64> = m.history.runs.iter().map(|r| r.pass_rate).collect();
    let previous = m.history.runs.iter().rev().nth(1);
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No request to any host: nothing may load from outside.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
                title { (opts.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (opts.title) }
                    p.meta { "Audit at " (m.now) " · " (m.totals.rules) " rules · "
                        (m.history.runs.len()) " recorded run" @if m.history.runs.len() != 1 { "s" } }
                }
                section #headline .cards {
                    div class=(if m.totals.blocking > 0 { "card bad" } else { "card good" }) {
                        div.big #blocking { (m.totals.blocking) }
                        div { "blocking findings (hard)" }
                    }
                    div.card {
                        div.big #pass-rate { (percent(m.totals.pass_rate)) }
                        div { "overall pass rate" @if let Some(p) = previous {
                            " (" (delta(m.totals.pass_rate - p.pass_rate)) " since " (p.now.to_string().get(..10).unwrap_or_default()) ")"
                        } }
                    }
                    div.card { div.big { (m.totals.open) } div { "open findings · " (m.totals.overdue) " overdue" } }
                    div.card { div.big { (m.totals.new) " / " (m.totals.resolved) } div { "new / resolved since the previous run" } }
                    div.card { div.big { (m.totals.unassigned) } div { "open findings with no business service" } }
                    div.card.wide {
                        div { "Pass rate over the recorded runs" }
                        (trend_chart(&pass_rates, m))
                    }
                }
                section {
                    h2 { "Scorecard by business service" }
                    p.note { "Pass rate: entities passing over entities in each rule's scope. Sorted by tier, most critical first." }
                    table #scorecard {
                        thead { tr {
                            th { "Service" } th { "Tier" } th.num { "Identities" } th.num { "Pass rate" }
                            th.num { "P1" } th.num { "P2" } th.num { "P3+" } th.num { "Overdue" }
                            th.num { "Oldest open" } th { "Exception debt" } th { "Open over runs" }
                        } }
                        tbody {
                            @for s in &m.services {
                                (scorecard_row(s))
                            }
                        }
                    }
                }
                section {
                    h2 { "Control coverage" }
                    table #controls {
                        thead { tr { th { "Framework" } th { "Control" } th { "Rules" } th.num { "Checked" } th.num { "Pass rate" } th.num { "Open" } } }
                        tbody {
                            @for c in &m.controls {
                                tr {
                                    td { (c.framework) } td { code { (c.control) } }
                                    td { @for (i, r) in c.rules.iter().enumerate() { @if i > 0 { ", " } code { (r) } } }
                                    td.num { (c.checked) } td.num { (bar(c.pass_rate)) } td.num { (c.open) }
                                }
                            }
                        }
                    }
                }
                section {
                    h2 { "Exception debt" }
                    p { (m.exceptions.active.len()) " active exceptions waive findings of "
                        (m.exceptions.entities_waived) " entities; " (m.exceptions.expiring_soon)
                        " expire within 30 days; " (m.exceptions.expired.len()) " expired exceptions are still declared." }
                    table #exceptions {
                        thead { tr { th { "Exception" } th { "Rules" } th.num { "Findings" } th { "Until" } th.num { "Days left" } th { "Approved by" } } }
                        tbody {
                            @for e in &m.exceptions.active {
                                tr class=(if e.days_left <= 30 { "warn" } else { "" }) {
                                    td { code { (e.exception) } } td { (e.rules.join(", ")) } td.num { (e.findings) }
                                    td { (e.until) } td.num { (e.days_left) } td { (e.approved_by.join(", ")) }
                                }
                            }
                            @for e in &m.exceptions.expired {
                                tr.bad {
                                    td { code { (e.exception) } } td { (e.rule) } td.num { "–" }
                                    td { (e.until) " (expired)" } td.num { "–" } td { "declared at " code { (e.declared_at) } }
                                }
                            }
                        }
                    }
                }
                section {
                    h2 { "Rules that fail most" }
                    table #rules {
                        thead { tr { th { "Rule" } th { "Enforcement" } th.num { "Open" } th.num { "Checked" } th.num { "Pass rate" } } }
                        tbody {
                            @for r in m.rules.iter().filter(|r| r.open > 0).take(10) {
                                tr { td { code { (r.rule) } } td { (r.enforcement.as_str()) } td.num { (r.open) } td.num { (r.checked) } td.num { (bar(r.pass_rate)) } }
                            }
                        }
                    }
                }
                section #findings-section {
                    h2 { "Findings by service" }
                    div.filters {
                        input #search type="search" placeholder="Search entity, rule, message, file…" aria-label="Search findings";
                        select #priority aria-label="Priority" {
                            option value="" { "any priority" }
                            @for p in 1..=5u8 { option value=(priority_label(p)) { (priority_label(p)) } }
                            option value="none" { "no priority" }
                        }
                        label { input #overdue-only type="checkbox"; " overdue only" }
                        label { input #open-only type="checkbox" checked; " open only" }
                        span #shown-count {}
                    }
                    @for (s, share) in m.services.iter().zip(&shares) {
                        @let all = by_service.get(&s.id.as_deref()).map(Vec::as_slice).unwrap_or_default();
                        @if !all.is_empty() {
                            (service_findings(s, all, t, *share))
                        }
                    }
                }
                footer { "Written by gov " (env!("CARGO_PKG_VERSION")) ". " (summary.total) " findings in all; the JSON report (" code { "gov eval --format json" } ") lists every one." }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    doc.into_string()
}

/// How many findings each service inlines, given how many it has: the
/// largest equal cap (at most `per_service`) whose total fits in `total`,
/// then one more each, in the services' order (most critical tier first),
/// while the total allows.
fn shares(counts: impl Iterator<Item = usize>, per_service: usize, total: usize) -> Vec<usize> {
    let counts: Vec<usize> = counts.collect();
    let inlined = |cap: usize| counts.iter().map(|&n| n.min(cap)).sum::<usize>();
    let (mut lo, mut hi) = (0, per_service);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if inlined(mid) <= total {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut left = total.saturating_sub(inlined(lo));
    counts
        .iter()
        .map(|&n| {
            let mut share = n.min(lo);
            if left > 0 && n > share && share < per_service {
                share += 1;
                left -= 1;
            }
            share
        })
        .collect()
}

fn scorecard_row(s: &ServiceMetrics) -> Markup {
    let get = |p: &str| s.open.by_priority.get(p).copied().unwrap_or(0);
    let rest: usize = ["P3", "P4", "P5", "none"].iter().map(|p| get(p)).sum();
    let id = s.id.as_deref().unwrap_or("");
    html! {
        tr.service-row data-service=(id) data-pass-rate=(format!("{:.4}", s.pass_rate)) {
            td {
                @match &s.id {
                    Some(id) => { code { (id) } @if let Some(n) = &s.name { " " span.name { (n) } } }
                    None => { em { "no business service" } }
                }
            }
            td { (s.tier.map_or_else(|| "–".to_owned(), |t| t.to_string())) }
            td.num title="people / non-human" { (s.identities.people) " / " (s.identities.non_human) }
            td.num.pass { (bar(s.pass_rate)) }
            td class=(if get("P1") > 0 { "num bad" } else { "num" }) { (get("P1")) }
            td.num { (get("P2")) }
            td.num { (rest) }
            td class=(if s.overdue > 0 { "num bad" } else { "num" }) { (s.overdue) }
            td.num { @if let Some(d) = s.oldest_open_days { (format!("{d:.0} d")) } @else { "–" } }
            td { (s.exceptions.waived_findings) " waived · " (s.exceptions.active_waivers) " exceptions"
                 @if s.exceptions.expiring_soon > 0 { " · " strong { (s.exceptions.expiring_soon) " expiring" } } }
            td { (sparkline(&s.trend.iter().map(|p| p.open as f64).collect::<Vec<_>>())) }
        }
    }
}

fn service_findings(s: &ServiceMetrics, all: &[&Finding], t: &Timeline, max: usize) -> Markup {
    let mut shown: Vec<&Finding> = all.to_vec();
    shown.sort_by_key(|f| (!f.is_open(), urgency_key(f)));
    let hidden = shown.len().saturating_sub(max);
    shown.truncate(max);
    let id = s.id.as_deref().unwrap_or("");
    html! {
        details.service open[s.open.total > 0] data-service=(id) {
            summary {
                @match &s.id { Some(id) => { code { (id) } } None => { em { "no business service" } } }
                " · tier " (s.tier.map_or_else(|| "–".to_owned(), |t| t.to_string()))
                " · " (s.open.total) " open"
            }
            table.findings {
                thead { tr {
                    th { "Priority" } th { "Rule" } th { "Entity" } th { "Message" } th { "Origin" }
                    th { "First seen" } th { "Due" }
                } }
                tbody {
                    @for f in &shown {
                        (finding_row(f, t))
                    }
                }
            }
            @if hidden > 0 {
                p.more { "…and " (hidden) " more findings of this service (see the JSON report)." }
            }
        }
    }
}

fn finding_row(f: &Finding, t: &Timeline) -> Markup {
    let tl = t.of(&f.rule, &f.entity_kind, &f.entity);
    let overdue = tl.is_some_and(|t| t.overdue);
    let priority = f.priority.map_or_else(|| "none".to_owned(), |p| priority_label(p.level));
    let origin = f.origin.as_ref().map(|o| match o.line {
        Some(l) => format!("{}:{l}", o.file),
        None => format!("{} (record {})", o.file, o.record),
    });
    let status = if f.is_open() { "open" } else { "waived" };
    html! {
        tr class=(format!("finding {status}")) data-priority=(priority) data-overdue=(overdue) data-status=(status) {
            td { (priority) @if f.enforcement == Enforcement::Hard { " " span.tag { "hard" } } }
            td { code { (f.rule) } }
            td { code.entity { (f.entity) } " " span.kind { (f.entity_kind) }
                @if !f.witness.is_empty() { div.witness { "path: " (f.witness.join(" → ")) } } }
            td { (f.message)
                @if let Some(h) = &f.help { div.help { (h) } }
                @if let Some(w) = &f.waived_by { div.help { "waived by " code { (w.exception) } " until " (w.until) } } }
            td { @if let Some(o) = &origin { code { (o) } } }
            td { @if let Some(t) = tl { (t.first_seen.to_string().get(..10).unwrap_or_default()) } }
            td.bad[overdue] {
                @if let Some(p) = f.priority { (p.due.to_string().get(..10).unwrap_or_default()) }
                @if overdue { " " span.tag.bad { "overdue" } }
            }
        }
    }
}

/// A pass rate with a bar behind it.
fn bar(rate: f64) -> Markup {
    let w = (rate * 100.0).clamp(0.0, 100.0);
    html! {
        span.bar { span.fill style=(format!("width:{w:.1}%")) {} }
        span.pct { (percent(rate)) }
    }
}

fn delta(d: f64) -> String {
    format!("{}{:.1} pts", if d >= 0.0 { "+" } else { "−" }, d.abs() * 100.0)
}

/// The pass rate per run, one point (a circle with its date and value) per run.
fn trend_chart(rates: &[f64], m: &Metrics) -> Markup {
    let (w, h, pad) = (360.0, 90.0, 10.0);
    let lo = rates.iter().copied().fold(1.0f64, f64::min).min(0.9);
    let x = |i: usize| {
        if rates.len() <= 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (rates.len() - 1) as f64
        }
    };
    let y = |r: f64| h - pad - (h - 2.0 * pad) * ((r - lo) / (1.0 - lo).max(1e-9));
    let points: Vec<String> =
        rates.iter().enumerate().map(|(i, r)| format!("{:.1},{:.1}", x(i), y(*r))).collect();
    html! {
        svg #trend width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label="pass rate per run" {
            line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) class="axis" {}
            polyline points=(points.join(" ")) class="line" {}
            @for (i, (r, run)) in rates.iter().zip(&m.history.runs).enumerate() {
                circle.trend-point cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*r))) r="4" data-now=(run.now) data-pass-rate=(format!("{r:.4}")) {
                    title { (run.now) ": " (percent(*r)) ", " (run.open) " open, " (run.new) " new, " (run.resolved) " resolved" }
                }
            }
        }
    }
}

/// A small line of values (open findings per run).
fn sparkline(values: &[f64]) -> Markup {
    let (w, h) = (100.0, 22.0);
    let max = values.iter().copied().fold(0.0f64, f64::max).max(1.0);
    let x = |i: usize| {
        if values.len() <= 1 {
            w / 2.0
        } else {
            2.0 + (w - 4.0) * i as f64 / (values.len() - 1) as f64
        }
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), h - 2.0 - (h - 4.0) * v / max))
        .collect();
    let last = values.last().copied().unwrap_or(0.0);
    html! {
        svg.spark width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) {
            polyline points=(points.join(" ")) {}
            @if let Some(p) = points.last() {
                @let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
                circle cx=(cx) cy=(cy) r="2" { title { (last) " open" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shares;

    #[test]
    fn every_service_gets_the_same_share_of_the_budget() {
        // Under the budget: each service its own count, up to the cap.
        assert_eq!(shares([3, 700, 0].into_iter(), 500, 10_000), [3, 500, 0]);
        // Over it: an equal cap (here 4: 2 + 4 + 4 = 10), small services whole.
        assert_eq!(shares([2, 50, 60].into_iter(), 500, 10), [2, 4, 4]);
        // What an equal cap leaves goes one each to the first services.
        assert_eq!(shares([50, 50, 50].into_iter(), 500, 8), [3, 3, 2]);
        // Fewer findings allowed than services: the most critical first.
        assert_eq!(shares([9, 9, 9, 9].into_iter(), 500, 2), [1, 1, 0, 0]);
        assert_eq!(shares([9, 9].into_iter(), 500, 0), [0, 0]);
        // Never more than the total.
        let s = shares((0..2_000).map(|i| 100 + i % 300), 500, 15_000);
        assert_eq!(s.iter().sum::<usize>(), 15_000);
    }
}
