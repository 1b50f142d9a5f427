//! Governance posture as numbers: per business service and tier, per
//! framework control, exception debt, and, over the finding history, the
//! trend, time to resolve and SLA adherence. Fed by an audit, the scopes of
//! its scan, the business services of the graph and the replayed history;
//! the same [`Metrics`] value feeds the metrics JSON, OpenMetrics, the
//! Markdown scorecard and the HTML report, so they cannot disagree.
//!
//! A pass rate is entities passing over entities in a rule's scope. The
//! entities that support no business service are a governance gap of their
//! own: they get a row (`id: null`) and are counted, never dropped.
//!
//! Must not: read files or format text (see [`openmetrics`] and the
//! renderers in [`crate::report`]).

pub mod catalogue;
pub mod openmetrics;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::Audit;
use crate::history::timeline::rate;
use crate::history::{Run, Timeline};
use crate::report::summary::MAX_PRIORITY;
use crate::time::Timestamp;

pub use catalogue::{Catalogue, ServiceInfo};

/// The `schema` value of the metrics JSON document.
pub const SCHEMA: &str = "gov.metrics/v1";

/// Days ahead in which an exception counts as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

/// Every number of one audit (and its history).
#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The audit's evaluation time.
    pub now: Timestamp,
    /// Over everything.
    pub totals: Totals,
    /// Per business service, by tier (most critical first) then id; the
    /// entities with no service last (`id: null`).
    pub services: Vec<ServiceMetrics>,
    /// Per tier (no tier last).
    pub tiers: Vec<TierMetrics>,
    /// Per framework control (`maps` code), in code order.
    pub controls: Vec<ControlMetrics>,
    /// Rules by open findings, most first.
    pub rules: Vec<RuleMetrics>,
    /// Exceptions: active, expiring, expired.
    pub exceptions: ExceptionDebt,
    /// The recorded runs (this one last) and time to resolve.
    pub history: HistoryMetrics,
}

/// Counts over the whole audit.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Rules evaluated.
    pub rules: usize,
    /// Rule-entity checks.
    pub checked: u64,
    /// Checks that passed.
    pub passed: u64,
    /// `passed / checked` (1 when nothing was checked).
    pub pass_rate: f64,
    /// Open findings (violations and errors).
    pub open: usize,
    /// Open evaluation errors (part of `open`).
    pub errors: usize,
    /// Waived findings.
    pub waived: usize,
    /// Open findings at `hard` enforcement (they fail `gov eval` by default).
    pub blocking: usize,
    /// Open findings past their due date.
    pub overdue: usize,
    /// Open findings of entities that support no business service.
    pub unassigned: usize,
    /// Open findings new since the previous run.
    pub new: usize,
    /// Findings resolved since the previous run.
    pub resolved: usize,
}

/// Identities that support a service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IdentityCounts {
    /// Identities of type `human`.
    pub people: usize,
    /// Every other identity type (service accounts, workloads, bots ...).
    pub non_human: usize,
}

/// Open findings split by priority and severity.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpenCounts {
    /// All open findings.
    pub total: usize,
    /// Per priority: `P1` ... `P5`, and `none`; only non-zero entries.
    pub by_priority: BTreeMap<String, usize>,
    /// Per severity (`critical` ... `info`); only non-zero entries.
    pub by_severity: BTreeMap<String, usize>,
}

/// One rule's pass rate within one service (or control).
#[derive(Clone, Debug, Serialize)]
pub struct RulePass {
    /// Rule id.
    pub rule: String,
    /// Entities in the rule's scope.
    pub checked: u64,
    /// Of those, entities with no finding (open or waived).
    pub passed: u64,
    /// `passed / checked`.
    pub pass_rate: f64,
}

/// A business service's exception debt.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServiceDebt {
    /// Distinct exceptions that waive a finding of this service.
    pub active_waivers: usize,
    /// Distinct entities with a waived finding.
    pub entities_waived: usize,
    /// Waived findings.
    pub waived_findings: usize,
    /// Active waivers whose `until` is within [`EXPIRING_WITHIN_DAYS`].
    pub expiring_soon: usize,
}

/// One point of a service's trend.
#[derive(Clone, Debug, Serialize)]
pub struct TrendPoint {
    /// The run's time.
    pub now: Timestamp,
    /// Open findings.
    pub open: usize,
    /// Findings absent from the run before.
    pub new: usize,
    /// Findings open in the run before and absent from this one.
    pub resolved: usize,
    /// Pass rate over all rules.
    pub pass_rate: f64,
}

/// One business service (or the entities with none).
#[derive(Clone, Debug, Serialize)]
pub struct ServiceMetrics {
    /// Service id (`null`: entities that support no business service).
    pub id: Option<String>,
    /// Display name, when the inventory gives one.
    pub name: Option<String>,
    /// Tier, when it has one.
    pub tier: Option<i64>,
    /// Identities that support it.
    pub identities: IdentityCounts,
    /// Rule-entity checks of its entities.
    pub checked: u64,
    /// Checks that passed.
    pub passed: u64,
    /// `passed / checked`.
    pub pass_rate: f64,
    /// Per rule, in declaration order (only rules that checked an entity of it).
    pub rules: Vec<RulePass>,
    /// Open findings.
    pub open: OpenCounts,
    /// Open findings past their due date.
    pub overdue: usize,
    /// Days since the oldest open finding was first seen.
    pub oldest_open_days: Option<f64>,
    /// Its exception debt.
    pub exceptions: ServiceDebt,
    /// One point per recorded run, this one last.
    pub trend: Vec<TrendPoint>,
}

/// One tier.
#[derive(Clone, Debug, Serialize)]
pub struct TierMetrics {
    /// Tier (`null`: services without one, and entities with no service).
    pub tier: Option<i64>,
    /// Services of this tier.
    pub services: usize,
    /// Identities that support them.
    pub identities: IdentityCounts,
    /// Rule-entity checks.
    pub checked: u64,
    /// Checks that passed.
    pub passed: u64,
    /// `passed / checked`.
    pub pass_rate: f64,
    /// Open findings.
    pub open: usize,
    /// Open findings past their due date.
    pub overdue: usize,
}

/// One framework control.
#[derive(Clone, Debug, Serialize)]
pub struct ControlMetrics {
    /// The code as the policies write it, e.g. `OWASP-NHI:NHI1`.
    pub control: String,
    /// The part before the first `:` (`OWASP-NHI`), or the whole code.
    pub framework: String,
    /// Rules that map to it.
    pub rules: Vec<String>,
    /// Rule-entity checks of those rules.
    pub checked: u64,
    /// Checks that passed.
    pub passed: u64,
    /// `passed / checked`.
    pub pass_rate: f64,
    /// Open findings of those rules.
    pub open: usize,
}

/// One rule over all services.
#[derive(Clone, Debug, Serialize)]
pub struct RuleMetrics {
    /// Rule id.
    pub rule: String,
    /// Enforcement level.
    pub enforcement: Enforcement,
    /// Entities in scope.
    pub checked: u64,
    /// Entities with no finding.
    pub passed: u64,
    /// `passed / checked`.
    pub pass_rate: f64,
    /// Open findings.
    pub open: usize,
}

/// An exception that waives findings.
#[derive(Clone, Debug, Serialize)]
pub struct ActiveException {
    /// Exception id.
    pub exception: String,
    /// Rules it waives findings of.
    pub rules: Vec<String>,
    /// Findings it waives.
    pub findings: usize,
    /// Last day it holds.
    pub until: Timestamp,
    /// Days left (through the `until` day).
    pub days_left: i64,
    /// Who approved it.
    pub approved_by: Vec<String>,
    /// Services of the findings it waives (ids; `null` for none).
    pub services: Vec<Option<String>>,
}

/// An exception past its date that is still declared.
#[derive(Clone, Debug, Serialize)]
pub struct ExpiredDeclared {
    /// Exception id.
    pub exception: String,
    /// Its rule.
    pub rule: String,
    /// When it expired.
    pub until: Timestamp,
    /// `file:line` of its declaration.
    pub declared_at: String,
}

/// Exception debt over the audit.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExceptionDebt {
    /// Exceptions that waive at least one finding, soonest expiry first.
    pub active: Vec<ActiveException>,
    /// Distinct entities with a waived finding.
    pub entities_waived: usize,
    /// Active exceptions that expire within [`EXPIRING_WITHIN_DAYS`].
    pub expiring_soon: usize,
    /// Exceptions past their date that are still declared.
    pub expired: Vec<ExpiredDeclared>,
}

/// One recorded run.
#[derive(Clone, Debug, Serialize)]
pub struct RunPoint {
    /// The run's time.
    pub now: Timestamp,
    /// Open findings.
    pub open: usize,
    /// Waived findings.
    pub waived: usize,
    /// Findings absent from the run before.
    pub new: usize,
    /// Findings open in the run before and absent from this one.
    pub resolved: usize,
    /// New findings that an earlier run had.
    pub reopened: usize,
    /// Pass rate over all rules.
    pub pass_rate: f64,
}

/// Time to resolve for one priority.
#[derive(Clone, Debug, Serialize)]
pub struct ResolveTimes {
    /// `P1` ... `P5`.
    pub priority: String,
    /// Findings of this priority resolved over the history.
    pub resolved: usize,
    /// Mean time to resolve, in hours.
    pub mean_hours: f64,
    /// 90th percentile (nearest rank), in hours.
    pub p90_hours: f64,
    /// Resolved within the priority's window.
    pub within_sla: usize,
    /// `within_sla / resolved`.
    pub sla_adherence: f64,
}

/// Over the recorded runs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HistoryMetrics {
    /// One per run, oldest first; the audit itself is the last.
    pub runs: Vec<RunPoint>,
    /// Per priority with at least one resolution.
    pub time_to_resolve: Vec<ResolveTimes>,
}

/// What the metrics are computed from.
pub struct Inputs<'a> {
    /// The audit.
    pub audit: &'a Audit,
    /// The audit as a history record (its scopes give the pass rates).
    pub run: &'a Run,
    /// The replay of the history with this run last
    /// ([`Timeline::replay`] of the recorded runs and `run`).
    pub timeline: &'a Timeline,
    /// The business services of the graph.
    pub catalogue: &'a Catalogue,
}

type Key = Option<Arc<str>>;

#[derive(Default)]
struct Acc {
    checked: u64,
    passed: u64,
    rules: BTreeMap<usize, (u64, u64)>,
    open: OpenCounts,
    overdue: usize,
    oldest: Option<Timestamp>,
    waivers: BTreeSet<String>,
    waived_entities: BTreeSet<String>,
    waived: usize,
    expiring: BTreeSet<String>,
}

/// Computes every metric.
pub fn compute(inputs: &Inputs<'_>) -> Metrics {
    let Inputs { audit, run, timeline, catalogue } = *inputs;
    let now = audit.now;
    let rule_index: HashMap<&str, usize> =
        audit.rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let mut per: BTreeMap<Key, Acc> = BTreeMap::new();
    for s in &catalogue.services {
        per.entry(Some(Arc::from(s.id.as_str()))).or_default();
    }
    // Scopes: checked and passed per rule and service.
    let mut rule_totals: Vec<(u64, u64, usize)> = vec![(0, 0, 0); audit.rules.len()];
    for s in &run.scopes {
        let acc = per.entry(s.service.clone()).or_default();
        acc.checked += s.checked;
        acc.passed += s.passed;
        if let Some(i) = rule_index.get(&*s.rule) {
            let e = acc.rules.entry(*i).or_default();
            e.0 += s.checked;
            e.1 += s.passed;
            if let Some(t) = rule_totals.get_mut(*i) {
                t.0 += s.checked;
                t.1 += s.passed;
            }
        }
    }
    let soon = now.0 + EXPIRING_WITHIN_DAYS * 86_400;
    let mut totals = Totals { rules: audit.rules.len(), ..Totals::default() };
    let mut active: BTreeMap<String, ActiveException> = BTreeMap::new();
    let mut waived_entities: BTreeSet<&str> = BTreeSet::new();
    for f in &audit.findings {
        let key: Key = f.service.as_deref().map(Arc::from);
        let acc = per.entry(key).or_default();
        let Some(w) = &f.waived_by else {
            let t = timeline.of(&f.rule, &f.entity_kind, &f.entity);
            totals.open += 1;
            totals.errors += usize::from(f.kind == crate::eval::FindingKind::Error);
            totals.blocking += usize::from(f.enforcement == Enforcement::Hard);
            totals.unassigned += usize::from(f.service.is_none());
            totals.new += usize::from(t.is_some_and(|t| t.new));
            acc.open.total += 1;
            let p = f.priority.map_or_else(|| "none".to_owned(), |p| format!("P{}", p.level));
            *acc.open.by_priority.entry(p).or_default() += 1;
            *acc.open.by_severity.entry(f.severity.as_str().to_owned()).or_default() += 1;
            if let Some(i) = rule_index.get(&*f.rule)
                && let Some(r) = rule_totals.get_mut(*i)
            {
                r.2 += 1;
            }
            if let Some(t) = t {
                if t.overdue {
                    totals.overdue += 1;
                    acc.overdue += 1;
                }
                acc.oldest = Some(acc.oldest.map_or(t.first_seen, |o| o.min(t.first_seen)));
            }
            continue;
        };
        totals.waived += 1;
        acc.waived += 1;
        acc.waivers.insert(w.exception.to_string());
        acc.waived_entities.insert(f.entity.clone());
        waived_entities.insert(&f.entity);
        if w.until.0 < soon {
            acc.expiring.insert(w.exception.to_string());
        }
        let a = active.entry(w.exception.to_string()).or_insert_with(|| ActiveException {
            exception: w.exception.to_string(),
            rules: Vec::new(),
            findings: 0,
            until: w.until,
            days_left: (w.until.0 + 86_400 - now.0).div_euclid(86_400),
            approved_by: w.approved_by.to_vec(),
            services: Vec::new(),
        });
        a.findings += 1;
        if !a.rules.iter().any(|r| **r == *f.rule) {
            a.rules.push(f.rule.to_string());
        }
        if !a.services.contains(&f.service) {
            a.services.push(f.service.clone());
        }
    }
    totals.checked = run.scopes.iter().map(|s| s.checked).sum();
    totals.passed = run.scopes.iter().map(|s| s.passed).sum();
    totals.pass_rate = rate(totals.passed, totals.checked);
    totals.resolved = timeline.resolved_in_latest.len();

    let trend_of = |key: &Key| -> Vec<TrendPoint> {
        (timeline.runs.iter())
            .map(|r| {
                let s = r.services.get(key).copied().unwrap_or_default();
                TrendPoint {
                    now: r.now,
                    open: s.open,
                    new: s.new,
                    resolved: s.resolved,
                    pass_rate: rate(s.passed, s.checked),
                }
            })
            .collect()
    };
    let mut services: Vec<ServiceMetrics> = per
        .into_iter()
        .map(|(key, acc)| {
            let info = key.as_deref().and_then(|k| catalogue.get(k));
            let rules = acc
                .rules
                .iter()
                .filter_map(|(i, (checked, passed))| {
                    Some(RulePass {
                        rule: audit.rules.get(*i)?.id.clone(),
                        checked: *checked,
                        passed: *passed,
                        pass_rate: rate(*passed, *checked),
                    })
                })
                .collect();
            ServiceMetrics {
                id: key.as_deref().map(str::to_owned),
                name: info.and_then(|i| i.name.clone()),
                tier: info.and_then(|i| i.tier),
                identities: info.map(|i| i.identities).unwrap_or(if key.is_none() {
                    catalogue.unassigned
                } else {
                    IdentityCounts::default()
                }),
                checked: acc.checked,
                passed: acc.passed,
                pass_rate: rate(acc.passed, acc.checked),
                rules,
                open: acc.open,
                overdue: acc.overdue,
                oldest_open_days: acc.oldest.map(|t| (now.0 - t.0) as f64 / 86_400.0),
                exceptions: ServiceDebt {
                    active_waivers: acc.waivers.len(),
                    entities_waived: acc.waived_entities.len(),
                    waived_findings: acc.waived,
                    expiring_soon: acc.expiring.len(),
                },
                trend: trend_of(&key),
            }
        })
        .collect();
    // Tier order, most critical first; no tier after; no service last.
    services.sort_by(|a, b| {
        (a.id.is_none(), a.tier.is_none(), a.tier, &a.id).cmp(&(
            b.id.is_none(),
            b.tier.is_none(),
            b.tier,
            &b.id,
        ))
    });

    let mut tiers: BTreeMap<(bool, Option<i64>), TierMetrics> = BTreeMap::new();
    for s in &services {
        let t = tiers.entry((s.tier.is_none(), s.tier)).or_insert_with(|| TierMetrics {
            tier: s.tier,
            services: 0,
            identities: IdentityCounts::default(),
            checked: 0,
            passed: 0,
            pass_rate: 1.0,
            open: 0,
            overdue: 0,
        });
        t.services += usize::from(s.id.is_some());
        t.identities.people += s.identities.people;
        t.identities.non_human += s.identities.non_human;
        t.checked += s.checked;
        t.passed += s.passed;
        t.open += s.open.total;
        t.overdue += s.overdue;
    }
    let tiers = tiers
        .into_values()
        .map(|mut t| {
            t.pass_rate = rate(t.passed, t.checked);
            t
        })
        .collect();

    let mut controls: BTreeMap<&str, ControlMetrics> = BTreeMap::new();
    for (r, (checked, passed, open)) in audit.rules.iter().zip(&rule_totals) {
        for code in &r.maps {
            let c = controls.entry(code).or_insert_with(|| ControlMetrics {
                control: code.clone(),
                framework: code.split(':').next().unwrap_or(code).to_owned(),
                rules: Vec::new(),
                checked: 0,
                passed: 0,
                pass_rate: 1.0,
                open: 0,
            });
            c.rules.push(r.id.clone());
            c.checked += checked;
            c.passed += passed;
            c.open += open;
        }
    }
    let controls = controls
        .into_values()
        .map(|mut c| {
            c.pass_rate = rate(c.passed, c.checked);
            c
        })
        .collect();

    let mut rules: Vec<RuleMetrics> = (audit.rules.iter().zip(&rule_totals))
        .map(|(r, (checked, passed, open))| RuleMetrics {
            rule: r.id.clone(),
            enforcement: r.enforcement,
            checked: *checked,
            passed: *passed,
            pass_rate: rate(*passed, *checked),
            open: *open,
        })
        .collect();
    rules.sort_by(|a, b| b.open.cmp(&a.open).then_with(|| a.rule.cmp(&b.rule)));

    let mut active: Vec<ActiveException> = active.into_values().collect();
    active.sort_by(|a, b| a.until.cmp(&b.until).then_with(|| a.exception.cmp(&b.exception)));
    let exceptions = ExceptionDebt {
        expiring_soon: active.iter().filter(|a| a.until.0 < soon).count(),
        active,
        entities_waived: waived_entities.len(),
        expired: (audit.expired_exceptions.iter())
            .map(|e| {
                let (line, _) = e.loc.file.line_col(e.loc.span.start);
                ExpiredDeclared {
                    exception: e.exception.clone(),
                    rule: e.rule.clone(),
                    until: e.until,
                    declared_at: format!("{}:{line}", e.loc.file.name()),
                }
            })
            .collect(),
    };

    Metrics {
        schema: SCHEMA,
        now,
        totals,
        services,
        tiers,
        controls,
        rules,
        exceptions,
        history: history_metrics(timeline),
    }
}

fn history_metrics(timeline: &Timeline) -> HistoryMetrics {
    let runs = (timeline.runs.iter())
        .map(|r| RunPoint {
            now: r.now,
            open: r.open,
            waived: r.waived,
            new: r.new,
            resolved: r.resolved,
            reopened: r.reopened,
            pass_rate: r.pass_rate(),
        })
        .collect();
    let mut by_priority: BTreeMap<u8, Vec<(i64, bool)>> = BTreeMap::new();
    for r in &timeline.resolutions {
        if let Some((level, _)) = r.priority {
            by_priority
                .entry(level)
                .or_default()
                .push((r.time_to_resolve().0, r.within_sla().unwrap_or(false)));
        }
    }
    let time_to_resolve = (by_priority.into_iter())
        .filter(|(level, _)| (1..=MAX_PRIORITY).contains(level))
        .map(|(level, mut v)| {
            v.sort_unstable();
            let n = v.len();
            let mean = v.iter().map(|(s, _)| *s as f64).sum::<f64>() / n.max(1) as f64;
            // Nearest rank: the smallest value with at least 90% at or below it.
            let rank = (n * 9).div_ceil(10).max(1);
            let p90 = v.get(rank - 1).map_or(0, |(s, _)| *s);
            let within = v.iter().filter(|(_, ok)| *ok).count();
            ResolveTimes {
                priority: format!("P{level}"),
                resolved: n,
                mean_hours: mean / 3600.0,
                p90_hours: p90 as f64 / 3600.0,
                within_sla: within,
                sla_adherence: rate(within as u64, n as u64),
            }
        })
        .collect();
    HistoryMetrics { runs, time_to_resolve }
}

/// `SeverityLevel`s worst first, for tables.
pub fn severities_worst_first() -> impl Iterator<Item = SeverityLevel> {
    SeverityLevel::ALL.into_iter().rev()
}
