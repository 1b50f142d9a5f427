//! [`Metrics`] as OpenMetrics text (which Prometheus' text parser also
//! reads): gauges per business service and tier, per framework control and
//! for exception debt, for a node-exporter textfile collector or a push
//! gateway, and from there Grafana.
//!
//! Every family has `# HELP` and `# TYPE`; label values are escaped
//! (backslash, double quote, line feed); the text ends with `# EOF`.
//!
//! Must not: invent metrics the JSON document does not have.

use std::fmt::Write as _;

use super::Metrics;

/// The OpenMetrics exposition of `m`.
pub fn render(m: &Metrics) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: Vec<(Vec<(&str, String)>, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            out.push_str(name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(value));
        }
    };
    let t = &m.totals;
    family(
        "gov_audit_timestamp_seconds",
        "Evaluation time of the audit (Unix seconds).",
        vec![(vec![], m.now.0 as f64)],
    );
    family(
        "gov_pass_ratio",
        "Entities passing over entities in scope, over all rules.",
        vec![(vec![], t.pass_rate)],
    );
    family(
        "gov_open_findings",
        "Open findings (violations and evaluation errors).",
        vec![(vec![], t.open as f64)],
    );
    family(
        "gov_blocking_findings",
        "Open findings of hard-enforced rules.",
        vec![(vec![], t.blocking as f64)],
    );
    family(
        "gov_overdue_findings",
        "Open findings past their due date.",
        vec![(vec![], t.overdue as f64)],
    );
    family(
        "gov_unassigned_open_findings",
        "Open findings of entities that support no business service.",
        vec![(vec![], t.unassigned as f64)],
    );
    family(
        "gov_waived_findings",
        "Findings waived by an exception.",
        vec![(vec![], t.waived as f64)],
    );
    // Per service: the entities with no service are left out here (they
    // have the `unassigned` family); a label cannot say "none" unambiguously.
    let svc: Vec<(Vec<(&str, String)>, &super::ServiceMetrics)> = (m.services.iter())
        .filter_map(|s| {
            let id = s.id.clone()?;
            let tier = s.tier.map_or_else(String::new, |t| t.to_string());
            Some((vec![("service", id), ("tier", tier)], s))
        })
        .collect();
    family(
        "gov_service_pass_ratio",
        "Entities passing over entities in scope, per business service.",
        svc.iter().map(|(l, s)| (l.clone(), s.pass_rate)).collect(),
    );
    family(
        "gov_service_checks",
        "Rule-entity checks of a business service's entities.",
        svc.iter().map(|(l, s)| (l.clone(), s.checked as f64)).collect(),
    );
    let mut open = Vec::new();
    for (l, s) in &svc {
        for p in ["P1", "P2", "P3", "P4", "P5", "none"] {
            let mut labels = l.clone();
            labels.push(("priority", p.to_owned()));
            open.push((labels, s.open.by_priority.get(p).copied().unwrap_or(0) as f64));
        }
    }
    family("gov_service_open_findings", "Open findings per business service and priority.", open);
    family(
        "gov_service_overdue_findings",
        "Open findings past their due date, per business service.",
        svc.iter().map(|(l, s)| (l.clone(), s.overdue as f64)).collect(),
    );
    family(
        "gov_service_oldest_open_finding_seconds",
        "Age of the oldest open finding of a business service (0: none open).",
        svc.iter()
            .map(|(l, s)| (l.clone(), s.oldest_open_days.unwrap_or(0.0) * 86_400.0))
            .collect(),
    );
    let mut identities = Vec::new();
    for (l, s) in &svc {
        for (kind, n) in [("human", s.identities.people), ("non_human", s.identities.non_human)] {
            let mut labels = l.clone();
            labels.push(("type", kind.to_owned()));
            identities.push((labels, n as f64));
        }
    }
    family("gov_service_identities", "Identities that support a business service.", identities);
    family(
        "gov_service_active_waivers",
        "Exceptions that waive findings of a business service.",
        svc.iter().map(|(l, s)| (l.clone(), s.exceptions.active_waivers as f64)).collect(),
    );
    family(
        "gov_service_waived_entities",
        "Entities of a business service with a waived finding.",
        svc.iter().map(|(l, s)| (l.clone(), s.exceptions.entities_waived as f64)).collect(),
    );
    family(
        "gov_tier_pass_ratio",
        "Entities passing over entities in scope, per service tier.",
        (m.tiers.iter())
            .filter_map(|t| Some((vec![("tier", t.tier?.to_string())], t.pass_rate)))
            .collect(),
    );
    family(
        "gov_control_pass_ratio",
        "Entities passing over entities in scope of the rules mapped to a framework control.",
        (m.controls.iter())
            .map(|c| {
                (
                    vec![("framework", c.framework.clone()), ("control", c.control.clone())],
                    c.pass_rate,
                )
            })
            .collect(),
    );
    family(
        "gov_exceptions_active",
        "Exceptions that waive at least one finding.",
        vec![(vec![], m.exceptions.active.len() as f64)],
    );
    family(
        "gov_exceptions_expiring_soon",
        "Active exceptions that expire within 30 days.",
        vec![(vec![], m.exceptions.expiring_soon as f64)],
    );
    family(
        "gov_exceptions_expired_declared",
        "Exceptions past their date that are still declared.",
        vec![(vec![], m.exceptions.expired.len() as f64)],
    );
    let mut ttr = Vec::new();
    let mut sla = Vec::new();
    for r in &m.history.time_to_resolve {
        ttr.push((vec![("priority", r.priority.clone())], r.mean_hours * 3600.0));
        sla.push((vec![("priority", r.priority.clone())], r.sla_adherence));
    }
    family(
        "gov_mean_time_to_resolve_seconds",
        "Mean time from first seen to resolved over the history, per priority.",
        ttr,
    );
    family(
        "gov_sla_adherence_ratio",
        "Share of resolved findings resolved within their priority's window.",
        sla,
    );
    out.push_str("# EOF\n");
    out
}

fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.is_finite() {
        format!("{v}")
    } else {
        "NaN".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
    }
}
