//! The finding history: one compact record per audit run, in a directory,
//! so that later runs know when each finding was first seen, which were
//! resolved or reopened, and how posture moves over time.
//!
//! The store is one file per run (`run-<now>-<pid>-<nanos>.govrun`, the
//! binary format of [`codec`]), written to a temporary file and renamed into
//! place. A rename is atomic, and every run gets a name of its own, so two
//! runs writing the same history at once never touch each other's bytes, and
//! a crash leaves a whole record or none. A record that is truncated or
//! damaged anyway is reported with its file and byte offset and skipped; the
//! other runs still count. Files rather than an embedded database: a run is
//! written once and never updated, the readers replay runs in order, and a
//! directory of files needs no C dependency and can be copied, pruned or
//! archived with ordinary tools.
//!
//! Reading API: [`History::open`], [`History::runs`] (in time order),
//! [`Run::finding`] (a run's finding by fingerprint).
//!
//! Must not: change a record once written, or lose a run because another
//! one is damaged.

pub mod codec;
pub mod timeline;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::diag::{Code, Diag, Diagnostics};
use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::{Audit, FindingKind, Scopes};
use crate::report::fingerprint;
use crate::time::{Duration, Timestamp};

pub use timeline::{FindingTimeline, Resolution, RunStats, Timeline};

/// File name extension of a run record.
pub const EXTENSION: &str = "govrun";

/// Whether an exception waived a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not waived.
    Open,
    /// Waived by an exception.
    Waived,
}

/// One finding as a run records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFinding {
    /// [`fingerprint::value`] of rule, entity kind and entity.
    pub fingerprint: u64,
    /// Rule id.
    pub rule: Arc<str>,
    /// Entity id.
    pub entity: Arc<str>,
    /// Business service id, if any.
    pub service: Option<Arc<str>>,
    /// The service's tier, if it has one.
    pub tier: Option<i64>,
    /// Severity.
    pub severity: SeverityLevel,
    /// Enforcement level.
    pub enforcement: Enforcement,
    /// Priority level (1 to 5) and the time it allows, if any.
    pub priority: Option<(u8, Duration)>,
    /// Open or waived.
    pub status: Status,
    /// Violation or evaluation error.
    pub kind: FindingKind,
}

/// Entities one rule checked, and how many passed, for one business service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeRecord {
    /// Rule id.
    pub rule: Arc<str>,
    /// Service id (`None`: entities with no business service).
    pub service: Option<Arc<str>>,
    /// Entities checked.
    pub checked: u64,
    /// Entities that passed (checked less those with a finding, waived or not).
    pub passed: u64,
}

/// One recorded audit run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The run's evaluation time (`--now`).
    pub now: Timestamp,
    /// Per rule and service: checked and passed.
    pub scopes: Vec<ScopeRecord>,
    /// Findings, in fingerprint order.
    pub findings: Vec<RunFinding>,
}

impl Run {
    /// The record of an audit. `scopes` comes from a scoped scan of the same
    /// audit; `tier_of` gives a service's tier.
    pub fn from_audit(
        audit: &Audit,
        scopes: &Scopes,
        tier_of: &dyn Fn(&str) -> Option<i64>,
    ) -> Run {
        let mut findings: Vec<RunFinding> = audit
            .findings
            .iter()
            .map(|f| RunFinding {
                fingerprint: fingerprint::value(&f.rule, &f.entity_kind, &f.entity),
                rule: f.rule.clone(),
                entity: Arc::from(f.entity.as_str()),
                service: f.service.as_deref().map(Arc::from),
                tier: f.service.as_deref().and_then(tier_of),
                severity: f.severity,
                enforcement: f.enforcement,
                priority: f.priority.map(|p| (p.level, p.within)),
                status: if f.is_open() { Status::Open } else { Status::Waived },
                kind: f.kind,
            })
            .collect();
        findings.sort_unstable_by_key(|f| f.fingerprint);
        // Two findings with one fingerprint are one rule failing one entity:
        // they cannot differ, keep one.
        findings.dedup_by_key(|f| f.fingerprint);
        let mut failing: std::collections::HashMap<(&str, Option<&str>), u64> =
            std::collections::HashMap::new();
        for f in &audit.findings {
            *failing.entry((&*f.rule, f.service.as_deref())).or_default() += 1;
        }
        let scopes = scopes
            .rules
            .iter()
            .flat_map(|r| {
                let failing = &failing;
                r.checked.iter().map(move |c| {
                    let checked = c.checked as u64;
                    let failed =
                        failing.get(&(r.rule.as_str(), c.service.as_deref())).copied().unwrap_or(0);
                    ScopeRecord {
                        rule: Arc::from(r.rule.as_str()),
                        service: c.service.as_deref().map(Arc::from),
                        checked,
                        passed: checked.saturating_sub(failed),
                    }
                })
            })
            .collect();
        Run { now: audit.now, scopes, findings }
    }

    /// The finding with this fingerprint, if the run has it.
    pub fn finding(&self, fingerprint: u64) -> Option<&RunFinding> {
        self.findings
            .binary_search_by_key(&fingerprint, |f| f.fingerprint)
            .ok()
            .and_then(|i| self.findings.get(i))
    }

    /// Open findings (not waived).
    pub fn open(&self) -> impl Iterator<Item = &RunFinding> {
        self.findings.iter().filter(|f| f.status == Status::Open)
    }
}

/// The runs recorded in a history directory, oldest first.
#[derive(Debug, Default)]
pub struct History {
    dir: PathBuf,
    runs: Vec<Run>,
    files: Vec<PathBuf>,
    diagnostics: Diagnostics,
}

impl History {
    /// Reads every run record in `dir` (a directory that does not exist yet
    /// is an empty history). Damaged records are skipped with a warning in
    /// [`History::diagnostics`]; only an unreadable directory is an error.
    pub fn open(dir: &Path) -> Result<History, Diag> {
        let mut history = History { dir: dir.to_owned(), ..History::default() };
        let mut loaded: Vec<(Run, PathBuf)> = Vec::new();
        for path in record_files(dir)? {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    history.diagnostics.push(io_error(&path, "read", &e));
                    continue;
                }
            };
            match codec::decode(&bytes) {
                Ok(run) => loaded.push((run, path)),
                Err(e) => history.diagnostics.push(corrupt(&path, &e)),
            }
        }
        // Time order; runs at the same time in name order (names are unique).
        loaded.sort_by(|a, b| a.0.now.cmp(&b.0.now).then_with(|| a.1.cmp(&b.1)));
        for (run, path) in loaded {
            history.runs.push(run);
            history.files.push(path);
        }
        Ok(history)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The readable runs, oldest first.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The file each run of [`History::runs`] was read from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The newest run, if any.
    pub fn latest(&self) -> Option<&Run> {
        self.runs.last()
    }

    /// Warnings about records that were skipped.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }
}

/// The record files of a directory, in name order (none if it does not exist).
fn record_files(dir: &Path) -> Result<Vec<PathBuf>, Diag> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir, "read the history directory", &e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, "read the history directory", &e))?;
        let path = entry.path();
        if path.extension().is_some_and(|x| x == EXTENSION) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Records `run` in `dir` (created if missing) and returns the record's path.
///
/// Refuses a run whose `now` is earlier than the newest run already in the
/// directory: a clock that went backwards would make findings resolve and
/// reopen at random. Runs at the same `now` are allowed.
pub fn record(dir: &Path, run: &Run) -> Result<PathBuf, Diag> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "create the history directory", &e))?;
    let mut newest: Option<(Timestamp, PathBuf)> = None;
    for path in record_files(dir)? {
        // The header alone says when a run was; a damaged one does not count.
        let Ok(now) = read_header(&path) else { continue };
        if newest.as_ref().is_none_or(|(t, _)| now > *t) {
            newest = Some((now, path));
        }
    }
    if let Some((latest, path)) = newest
        && run.now < latest
    {
        return Err(Diag::error(
            Code::HistoryClockBackwards,
            format!(
                "this run's time {} is earlier than the newest recorded run ({latest}, `{}`)",
                run.now,
                path.display()
            ),
        )
        .help(format!(
            "runs are recorded in time order: pass `--now` at or after {latest}, or record into another history directory"
        )));
    }
    let bytes = codec::encode(run);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let unique = format!(
        "{}-{}-{nanos:09}-{}",
        run.now.0,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = dir.join(format!(".run-{unique}.tmp"));
    let path = dir.join(format!("run-{unique}.{EXTENSION}"));
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create_new(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(&path, "write", &e));
    }
    Ok(path)
}

fn read_header(path: &Path) -> Result<Timestamp, ()> {
    use std::io::Read as _;
    let mut head = [0u8; codec::HEADER_LEN];
    let mut f = std::fs::File::open(path).map_err(|_| ())?;
    f.read_exact(&mut head).map_err(|_| ())?;
    codec::header_now(&head).map_err(|_| ())
}

fn io_error(path: &Path, what: &str, e: &std::io::Error) -> Diag {
    Diag::error(Code::Io, format!("cannot {what} `{}`: {e}", path.display()))
}

fn corrupt(path: &Path, e: &codec::DecodeError) -> Diag {
    Diag::warning(
        Code::HistoryCorruptRecord,
        format!(
            "skipped the history record `{}`: at byte {}: {}",
            path.display(),
            e.offset,
            e.what
        ),
    )
    .help("the other runs are used; delete or restore this file to silence the warning")
}
