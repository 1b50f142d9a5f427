//! The decision log: one JSON line per decision (time, endpoint, request,
//! effect, reasons, revision), written by a thread of its own.
//!
//! A decision never waits for the log: records go through a bounded queue
//! with `try_send`; a full queue or a failed write (a full disk) drops the
//! records and counts them in `gov_decision_log_dropped_total`. After a failed
//! write the file is cut back to its last whole line, so a partial line does
//! not corrupt the next one.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::metrics::Metrics;
use crate::decide::{Decision, Engine};
use crate::time::Timestamp;

/// One decision, as logged.
pub struct Record {
    /// When the request arrived.
    pub at: SystemTime,
    /// `decide`, `nginx` or `envoy`.
    pub endpoint: &'static str,
    /// The decision asked.
    pub decision: String,
    /// Its inputs.
    pub input: BTreeMap<String, serde_json::Value>,
    /// The request's `now`, if it gave one.
    pub now: Option<Timestamp>,
    /// The answer.
    pub result: Decision,
    /// The engine that answered (for its revision).
    pub engine: Arc<Engine>,
    /// How long the request took.
    pub took: Duration,
    /// With `--decision-log-sync`: told whether the record reached the disk.
    pub ack: Option<tokio::sync::oneshot::Sender<bool>>,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    endpoint: &'a str,
    revision: &'a str,
    request: LineRequest<'a>,
    effect: &'a str,
    reasons: &'a [crate::decide::Reason],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    approvers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<&'a str>,
    duration_us: u64,
}

#[derive(Serialize)]
struct LineRequest<'a> {
    decision: &'a str,
    input: &'a BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    now: Option<Timestamp>,
}

/// The sending side, shared by request handlers.
#[derive(Clone, Debug)]
pub struct DecisionLog {
    tx: SyncSender<Record>,
    metrics: Arc<Metrics>,
    sync: bool,
}

impl DecisionLog {
    /// Opens (appends to) `path` and starts the writer thread; the thread
    /// ends once every [`DecisionLog`] clone is dropped and the queue is written.
    /// `sync`: every batch is flushed to disk (`fsync`) before the
    /// decisions in it are told (see [`DecisionLog::send`]).
    pub fn open(
        path: &Path,
        capacity: usize,
        metrics: Arc<Metrics>,
        sync: bool,
    ) -> std::io::Result<(DecisionLog, JoinHandle<()>)> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let (tx, rx) = sync_channel(capacity.max(1));
        let m = Arc::clone(&metrics);
        let thread = std::thread::Builder::new()
            .name("gov-decision-log".into())
            .spawn(move || write_loop(&rx, file, &m, sync))?;
        Ok((DecisionLog { tx, metrics, sync }, thread))
    }

    /// Queues a record; never blocks. A full queue drops it (counted). In
    /// sync mode the answer is a receiver told `true` once the record is on
    /// disk, `false` (or nothing) when it is not written.
    pub fn send(&self, mut record: Record) -> Option<tokio::sync::oneshot::Receiver<bool>> {
        let rx = if self.sync {
            let (tx, rx) = tokio::sync::oneshot::channel();
            record.ack = Some(tx);
            Some(rx)
        } else {
            None
        };
        match self.tx.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                // The record (and its sender) is dropped: a waiting decision hears so.
                self.metrics.log_dropped(1);
            }
        }
        rx
    }
}

/// Records per write: bounds the batch a failed write loses.
const BATCH: usize = 4096;

/// Pause after each write. While the writer sleeps rather than waits on the
/// queue, a decision's `try_send` has no sleeping thread to wake: one futex
/// call and context switch less per decision under load, and fuller batches.
const PAUSE: Duration = Duration::from_millis(5);

fn write_loop(rx: &Receiver<Record>, mut file: File, metrics: &Metrics, sync: bool) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut acks = Vec::new();
    let mut failing = false;
    let mut dropped_while_failing = 0u64;
    while let Ok(first) = rx.recv() {
        let mut n = 0u64;
        let mut next = Some(first);
        while let Some(mut record) = next {
            append_line(&mut buf, &record);
            acks.extend(record.ack.take());
            n += 1;
            next = if n < BATCH as u64 { rx.try_recv().ok() } else { None };
        }
        let end = file.metadata().map(|m| m.len()).ok();
        // Group commit: one write and, in sync mode, one fsync per batch.
        let written =
            file.write_all(&buf).and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        for ack in acks.drain(..) {
            let _ = ack.send(written.is_ok());
        }
        match written {
            Ok(()) => {
                metrics.log_written(n);
                if failing {
                    eprintln!(
                        "decision log: writing again ({dropped_while_failing} records were dropped)"
                    );
                    failing = false;
                }
            }
            Err(e) => {
                metrics.log_dropped(n);
                if !failing {
                    eprintln!(
                        "decision log: write failed ({e}); dropping records until writes succeed"
                    );
                    failing = true;
                    dropped_while_failing = 0;
                }
                dropped_while_failing += n;
                // Cut a partial line off, so the next record starts a line.
                if let Some(end) = end {
                    let _ = file.set_len(end);
                }
            }
        }
        buf.clear();
        if !sync {
            // Decisions wait on a synced log: no pause for them.
            std::thread::sleep(PAUSE);
        }
    }
}

fn append_line(buf: &mut Vec<u8>, r: &Record) {
    let line = Line {
        time: rfc3339_millis(r.at),
        endpoint: r.endpoint,
        revision: r.engine.revision(),
        request: LineRequest { decision: &r.decision, input: &r.input, now: r.now },
        effect: r.result.effect.as_str(),
        reasons: &r.result.reasons,
        approvers: &r.result.approvers,
        priority: r.result.priority.as_deref(),
        duration_us: u64::try_from(r.took.as_micros()).unwrap_or(u64::MAX),
    };
    if serde_json::to_writer(&mut *buf, &line).is_ok() {
        buf.push(b'\n');
    }
}

/// `2026-11-23T01:02:03.456Z`.
fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    format!("{}.{:03}Z", Timestamp(secs).datetime(), d.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_395_723_045);
        assert_eq!(rfc3339_millis(t), "2026-11-23T01:02:03.045Z");
    }
}
