//! Counters and a latency histogram, rendered as Prometheus text (format
//! 0.0.4). Lock-free atomics on the decision path; the error counter keys on
//! a small fixed set of codes behind a mutex taken only on errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::decide::Effect;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 1.0,
];

const EFFECTS: [Effect; 4] =
    [Effect::Allow, Effect::Deny, Effect::NotPermitted, Effect::ApprovalRequired];

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [AtomicU64; 4],
    errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Per bucket (not cumulative); the last slot is +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    duration_sum_ns: AtomicU64,
    duration_count: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_refused: AtomicU64,
    log_written: AtomicU64,
    log_dropped: AtomicU64,
}

fn effect_index(effect: Effect) -> usize {
    match effect {
        Effect::Allow => 0,
        Effect::Deny => 1,
        Effect::NotPermitted => 2,
        Effect::ApprovalRequired => 3,
    }
}

impl Metrics {
    /// Counts a decision and its latency.
    pub fn decision(&self, effect: Effect, took: Duration) {
        if let Some(c) = self.decisions.get(effect_index(effect)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.latency(took);
    }

    /// Counts a request that got an error instead of a decision.
    pub fn error(&self, code: &'static str, took: Duration) {
        if let Ok(mut map) = self.errors.lock() {
            *map.entry(code).or_insert(0) += 1;
        }
        self.latency(took);
    }

    fn latency(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.duration_sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.duration_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a reload (`ok`: swapped or unchanged; otherwise refused).
    pub fn reload(&self, ok: bool) {
        let c = if ok { &self.reloads_ok } else { &self.reloads_refused };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts decision-log records written.
    pub fn log_written(&self, n: u64) {
        self.log_written.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts decision-log records lost (queue full or write error).
    pub fn log_dropped(&self, n: u64) {
        self.log_dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Records dropped so far.
    pub fn log_dropped_total(&self) -> u64 {
        self.log_dropped.load(Ordering::Relaxed)
    }

    /// Prometheus text exposition.
    pub fn render(&self, revision: &str) -> String {
        let mut s = String::with_capacity(2048);
        let _ = writeln!(s, "# HELP gov_decisions_total Decisions answered, by effect.");
        let _ = writeln!(s, "# TYPE gov_decisions_total counter");
        for e in EFFECTS {
            let n = self.decisions.get(effect_index(e)).map_or(0, |c| c.load(Ordering::Relaxed));
            let _ = writeln!(s, "gov_decisions_total{{effect=\"{}\"}} {n}", e.as_str());
        }
        let _ = writeln!(
            s,
            "# HELP gov_decision_errors_total Requests answered with an error, by code."
        );
        let _ = writeln!(s, "# TYPE gov_decision_errors_total counter");
        if let Ok(map) = self.errors.lock() {
            for (code, n) in map.iter() {
                let _ = writeln!(s, "gov_decision_errors_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            s,
            "# HELP gov_decision_duration_seconds Time from a decision request's head to its response."
        );
        let _ = writeln!(s, "# TYPE gov_decision_duration_seconds histogram");
        let mut cumulative = 0u64;
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets.get(i).map_or(0, |b| b.load(Ordering::Relaxed));
            let _ = writeln!(s, "gov_decision_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.buckets.get(BUCKETS.len()).map_or(0, |b| b.load(Ordering::Relaxed));
        let _ = writeln!(s, "gov_decision_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.duration_sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(s, "gov_decision_duration_seconds_sum {sum}");
        let count = self.duration_count.load(Ordering::Relaxed);
        let _ = writeln!(s, "gov_decision_duration_seconds_count {count}");
        let _ = writeln!(
            s,
            "# HELP gov_policy_revision_info The policy and inventory revision serving now."
        );
        let _ = writeln!(s, "# TYPE gov_policy_revision_info gauge");
        let _ = writeln!(s, "gov_policy_revision_info{{revision=\"{}\"}} 1", escape(revision));
        let _ = writeln!(s, "# HELP gov_reloads_total Reload attempts, by result.");
        let _ = writeln!(s, "# TYPE gov_reloads_total counter");
        let ok = self.reloads_ok.load(Ordering::Relaxed);
        let refused = self.reloads_refused.load(Ordering::Relaxed);
        let _ = writeln!(s, "gov_reloads_total{{result=\"ok\"}} {ok}");
        let _ = writeln!(s, "gov_reloads_total{{result=\"refused\"}} {refused}");
        let _ = writeln!(s, "# HELP gov_decision_log_written_total Decision-log records written.");
        let _ = writeln!(s, "# TYPE gov_decision_log_written_total counter");
        let written = self.log_written.load(Ordering::Relaxed);
        let _ = writeln!(s, "gov_decision_log_written_total {written}");
        let _ = writeln!(
            s,
            "# HELP gov_decision_log_dropped_total Decision-log records lost (queue full or write error)."
        );
        let _ = writeln!(s, "# TYPE gov_decision_log_dropped_total counter");
        let _ = writeln!(s, "gov_decision_log_dropped_total {}", self.log_dropped_total());
        s
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.decision(Effect::Allow, Duration::from_micros(30));
        m.decision(Effect::Deny, Duration::from_millis(3));
        m.error("malformed_json", Duration::from_secs(5));
        let text = m.render("abc");
        assert!(text.contains("gov_decisions_total{effect=\"allow\"} 1\n"));
        assert!(text.contains("gov_decisions_total{effect=\"deny\"} 1\n"));
        assert!(text.contains("gov_decisions_total{effect=\"not_permitted\"} 0\n"));
        assert!(text.contains("gov_decision_errors_total{code=\"malformed_json\"} 1\n"));
        assert!(text.contains("gov_decision_duration_seconds_bucket{le=\"0.000025\"} 0\n"));
        assert!(text.contains("gov_decision_duration_seconds_bucket{le=\"0.00005\"} 1\n"));
        assert!(text.contains("gov_decision_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("gov_decision_duration_seconds_bucket{le=\"1\"} 2\n"));
        assert!(text.contains("gov_decision_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("gov_decision_duration_seconds_count 3\n"));
        assert!(text.contains("gov_policy_revision_info{revision=\"abc\"} 1\n"));
    }
}
