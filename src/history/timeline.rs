//! What a sequence of runs says about each finding: when it was first seen
//! (and so when it is due), whether it is new, resolved or reopened, and the
//! counts per run and per service that trends are drawn from.
//!
//! A finding's `first_seen` is the first run of its current streak: the run
//! since which it has been present without a gap. A finding that is
//! resolved and comes back is *reopened*, and its clock starts again at the
//! run it came back in. Its due date is `first_seen + within` of its
//! priority; past it, an open finding is *overdue*.
//!
//! Must not: read files; it is fed runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::{Run, Status};
use crate::eval::Audit;
use crate::report::fingerprint;
use crate::time::{Duration, Timestamp};

/// A finding of the latest run, placed in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingTimeline {
    /// The first run of its current streak.
    pub first_seen: Timestamp,
    /// `first_seen + within` of its priority.
    pub due: Option<Timestamp>,
    /// Open and past its due date.
    pub overdue: bool,
    /// Absent from the previous run.
    pub new: bool,
    /// Absent from the previous run but present in an earlier one.
    pub reopened: bool,
}

/// Counts of one service in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceRunStats {
    /// Open findings.
    pub open: usize,
    /// Findings absent from the previous run.
    pub new: usize,
    /// Findings open in the previous run and absent from this one.
    pub resolved: usize,
    /// Entities checked, over all rules.
    pub checked: u64,
    /// Entities that passed, over all rules.
    pub passed: u64,
}

/// Counts of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStats {
    /// The run's time.
    pub now: Timestamp,
    /// Open findings.
    pub open: usize,
    /// Waived findings.
    pub waived: usize,
    /// Findings absent from the previous run.
    pub new: usize,
    /// Findings open in the previous run and absent from this one.
    pub resolved: usize,
    /// New findings that an earlier run had.
    pub reopened: usize,
    /// Entities checked, over all rules.
    pub checked: u64,
    /// Entities that passed, over all rules.
    pub passed: u64,
    /// The same counts per business service (`None`: no service).
    pub services: BTreeMap<Option<Arc<str>>, ServiceRunStats>,
}

impl RunStats {
    /// Entities passing over entities checked (1 when nothing was checked).
    pub fn pass_rate(&self) -> f64 {
        rate(self.passed, self.checked)
    }
}

/// Passed over checked; 1 when nothing was checked.
pub fn rate(passed: u64, checked: u64) -> f64 {
    if checked == 0 { 1.0 } else { passed as f64 / checked as f64 }
}

/// A finding that was resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// Fingerprint.
    pub fingerprint: u64,
    /// Rule id.
    pub rule: Arc<str>,
    /// Entity id.
    pub entity: Arc<str>,
    /// Business service.
    pub service: Option<Arc<str>>,
    /// Priority level and window in the last run that had it.
    pub priority: Option<(u8, Duration)>,
    /// The first run of the streak that ended.
    pub first_seen: Timestamp,
    /// The first run without it.
    pub resolved_at: Timestamp,
}

impl Resolution {
    /// How long it took.
    pub fn time_to_resolve(&self) -> Duration {
        Duration(self.resolved_at.0 - self.first_seen.0)
    }

    /// Resolved within its priority's window (`None` without a priority).
    pub fn within_sla(&self) -> Option<bool> {
        self.priority.map(|(_, within)| self.time_to_resolve().0 <= within.0)
    }
}

/// The replay of a history's runs.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// One entry per run, oldest first.
    pub runs: Vec<RunStats>,
    /// Every resolution, in run order.
    pub resolutions: Vec<Resolution>,
    /// The latest run's findings by fingerprint.
    pub latest: HashMap<u64, FindingTimeline>,
    /// Findings open in the run before the latest and absent from it.
    pub resolved_in_latest: Vec<Resolution>,
}

impl Timeline {
    /// Replays `runs` (oldest first; the last one is "now").
    pub fn replay<'a>(runs: impl IntoIterator<Item = &'a Run>) -> Timeline {
        let mut t = Timeline::default();
        let mut ever: HashSet<u64> = HashSet::new();
        // Present in the previous run: fingerprint -> (streak start, index in that run).
        let mut previous: HashMap<u64, Timestamp> = HashMap::new();
        let mut previous_run: Option<&Run> = None;
        for run in runs {
            let mut stats = RunStats {
                now: run.now,
                open: 0,
                waived: 0,
                new: 0,
                resolved: 0,
                reopened: 0,
                checked: 0,
                passed: 0,
                services: BTreeMap::new(),
            };
            let mut current: HashMap<u64, Timestamp> = HashMap::with_capacity(run.findings.len());
            let mut latest = HashMap::with_capacity(run.findings.len());
            for f in &run.findings {
                let svc = stats.services.entry(f.service.clone()).or_default();
                let since = previous.get(&f.fingerprint).copied();
                let new = since.is_none();
                let reopened = new && ever.contains(&f.fingerprint);
                let first_seen = since.unwrap_or(run.now);
                match f.status {
                    Status::Open => {
                        stats.open += 1;
                        svc.open += 1;
                    }
                    Status::Waived => stats.waived += 1,
                }
                if new {
                    stats.new += 1;
                    svc.new += 1;
                }
                stats.reopened += usize::from(reopened);
                current.insert(f.fingerprint, first_seen);
                let due = f.priority.map(|(_, within)| Timestamp(first_seen.0 + within.0));
                let overdue = f.status == Status::Open && due.is_some_and(|d| run.now > d);
                latest.insert(
                    f.fingerprint,
                    FindingTimeline { first_seen, due, overdue, new, reopened },
                );
            }
            let mut resolved_here = Vec::new();
            if let Some(prev) = previous_run {
                for f in prev.open() {
                    if current.contains_key(&f.fingerprint) {
                        continue;
                    }
                    stats.resolved += 1;
                    stats.services.entry(f.service.clone()).or_default().resolved += 1;
                    resolved_here.push(Resolution {
                        fingerprint: f.fingerprint,
                        rule: f.rule.clone(),
                        entity: f.entity.clone(),
                        service: f.service.clone(),
                        priority: f.priority,
                        first_seen: previous.get(&f.fingerprint).copied().unwrap_or(prev.now),
                        resolved_at: run.now,
                    });
                }
            }
            for s in &run.scopes {
                stats.checked += s.checked;
                stats.passed += s.passed;
                let svc = stats.services.entry(s.service.clone()).or_default();
                svc.checked += s.checked;
                svc.passed += s.passed;
            }
            ever.extend(current.keys().copied());
            t.resolutions.extend(resolved_here.iter().cloned());
            t.resolved_in_latest = resolved_here;
            t.latest = latest;
            t.runs.push(stats);
            previous = current;
            previous_run = Some(run);
        }
        t
    }

    /// The latest run's timeline of a finding of `audit`.
    pub fn of(&self, rule: &str, entity_kind: &str, entity: &str) -> Option<&FindingTimeline> {
        self.latest.get(&fingerprint::value(rule, entity_kind, entity))
    }

    /// Sets each finding's due date to `first_seen + within` (from `now +
    /// within`), so that every report of `audit` shows the real due date.
    pub fn apply_due(&self, audit: &mut Audit) {
        for f in &mut audit.findings {
            if let Some(p) = &mut f.priority
                && let Some(t) =
                    self.latest.get(&fingerprint::value(&f.rule, &f.entity_kind, &f.entity))
            {
                p.due = Timestamp(t.first_seen.0 + p.within.0);
            }
        }
    }
}
