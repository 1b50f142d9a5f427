//! Counts and orderings over an [`Audit`](crate::eval::Audit) that every findings renderer shares,
//! so that the JSON summary, the Markdown headline, the JUnit totals and the
//! human summary line can never disagree.
//!
//! Must not: format anything; renderers decide how a count reads.

use std::cmp::Reverse;

use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::{Audit, Finding, FindingKind};

/// Highest priority level a `priority by` can give (P1 ... P5).
pub const MAX_PRIORITY: u8 = 5;

/// How many findings of each kind an audit holds.
///
/// "Open" means not waived by an exception. The `by_*` counts are over open
/// findings, violations and evaluation errors together, since both fail a
/// build at their rule's enforcement level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Every finding, open or waived.
    pub total: usize,
    /// Open violations.
    pub open: usize,
    /// Open evaluation errors.
    pub errors: usize,
    /// Waived findings (any kind).
    pub waived: usize,
    /// Open findings per severity, indexed like [`SeverityLevel::ALL`] (lowest first).
    pub by_severity: [usize; 5],
    /// Open findings per enforcement, indexed like [`Enforcement::ALL`] (weakest first).
    pub by_enforcement: [usize; 3],
    /// Open findings per priority: index 0 is P1, index 4 is P5.
    pub by_priority: [usize; MAX_PRIORITY as usize],
    /// Open findings with no priority.
    pub no_priority: usize,
    /// Rules with at least one open finding.
    pub failing_rules: usize,
    /// Exceptions past their date.
    pub expired_exceptions: usize,
}

impl Summary {
    /// Counts `audit`'s findings.
    pub fn of(audit: &Audit) -> Self {
        let mut s = Summary {
            total: audit.findings.len(),
            expired_exceptions: audit.expired_exceptions.len(),
            ..Summary::default()
        };
        // Rules with an open finding, gathered in the same pass (not a scan
        // of the findings per rule).
        let mut failing: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut last: Option<&str> = None;
        for f in &audit.findings {
            if !f.is_open() {
                s.waived += 1;
                continue;
            }
            // Findings come grouped by rule: one insert per run of a rule.
            if last != Some(&*f.rule) {
                failing.insert(&f.rule);
                last = Some(&f.rule);
            }
            match f.kind {
                FindingKind::Violation => s.open += 1,
                FindingKind::Error => s.errors += 1,
            }
            if let Some(n) = s.by_severity.get_mut(severity_index(f.severity)) {
                *n += 1;
            }
            if let Some(n) = s.by_enforcement.get_mut(enforcement_index(f.enforcement)) {
                *n += 1;
            }
            match f.priority.map(|p| usize::from(p.level)) {
                Some(level @ 1..=5) => {
                    if let Some(n) = s.by_priority.get_mut(level - 1) {
                        *n += 1;
                    }
                }
                _ => s.no_priority += 1,
            }
        }
        s.failing_rules = audit.rules.iter().filter(|r| failing.contains(r.id.as_str())).count();
        s
    }

    /// Open findings (violations and errors).
    pub fn open_total(&self) -> usize {
        self.open + self.errors
    }

    /// Open findings of one severity.
    pub fn severity(&self, level: SeverityLevel) -> usize {
        self.by_severity.get(severity_index(level)).copied().unwrap_or(0)
    }

    /// Open findings of one enforcement level.
    pub fn enforcement(&self, level: Enforcement) -> usize {
        self.by_enforcement.get(enforcement_index(level)).copied().unwrap_or(0)
    }

    /// Open findings at `level` or stronger: those that fail a build run with
    /// `--fail-on level`.
    pub fn at_least(&self, level: Enforcement) -> usize {
        Enforcement::ALL.iter().filter(|e| **e >= level).map(|e| self.enforcement(*e)).sum()
    }
}

fn severity_index(level: SeverityLevel) -> usize {
    SeverityLevel::ALL.iter().position(|l| *l == level).unwrap_or(0)
}

fn enforcement_index(level: Enforcement) -> usize {
    Enforcement::ALL.iter().position(|l| *l == level).unwrap_or(0)
}

/// `P1` ... `P5`.
pub fn priority_label(level: u8) -> String {
    format!("P{level}")
}

/// The order in which a reviewer should read open findings: priority (P1
/// first, none last), then severity (worst first), then enforcement
/// (strongest first); ties keep the audit's order (rule order, then entity).
pub fn urgency_key(f: &Finding) -> (u8, Reverse<SeverityLevel>, Reverse<Enforcement>) {
    (f.priority.map_or(u8::MAX, |p| p.level), Reverse(f.severity), Reverse(f.enforcement))
}

pub use crate::diag::plural;
