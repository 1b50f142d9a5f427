//! Hot reload: on SIGHUP (a message on the channel) and when a source file
//! changes, load the sources again and swap the engine atomically; a load
//! with errors is refused and the old engine keeps serving.
//!
//! An ordinary save must not take decisions down: many editors truncate a
//! file and then write it, so for a moment it is empty (a valid, empty policy
//! set). So a changed file is loaded only once it has stopped changing (its
//! size and modification time agree across a whole poll interval), and a new
//! revision that drops a decision being served, or has no rules and no
//! decisions at all, is refused (logged, counted as a refused reload) unless
//! the server was started with `--allow-decision-removal`.
//!
//! Changes are found by polling a fingerprint (path, size, modification time)
//! of every source file, walking directories. A poll needs no extra crate and
//! works where inotify does not (network file systems, bind mounts, editors
//! and deploy tools that replace a file by renaming); the engine's revision is
//! a content hash, so a touched but unchanged file swaps nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, SystemTime};

use super::metrics::Metrics;
use crate::decide::{Engine, EngineHandle, Sources};

/// What the source files looked like: take it before the first load, so
/// a change made while the server starts is seen.
pub struct Snapshot(Fingerprint);

impl Snapshot {
    /// Looks at every source file now.
    pub fn take(sources: &Sources) -> Snapshot {
        Snapshot(fingerprint(sources))
    }
}

/// Starts the reload thread, comparing against `since`. Sending `()` forces
/// a reload; dropping every sender ends the thread.
pub fn spawn(
    sources: Sources,
    since: Snapshot,
    handle: Arc<EngineHandle>,
    metrics: Arc<Metrics>,
    interval: Option<Duration>,
    policy: Policy,
) -> std::io::Result<Sender<()>> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("gov-reload".into())
        .spawn(move || reload_loop(&rx, &sources, since.0, &handle, &metrics, interval, policy))?;
    Ok(tx)
}

/// What a reload may do.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    /// Swap in a revision that drops decisions being served, or has no rules
    /// and no decisions at all (`--allow-decision-removal`).
    pub allow_decision_removal: bool,
}

fn reload_loop(
    rx: &Receiver<()>,
    sources: &Sources,
    mut last: Fingerprint,
    handle: &EngineHandle,
    metrics: &Metrics,
    interval: Option<Duration>,
    policy: Policy,
) {
    // A changed fingerprint waiting to be seen again, unchanged, a poll later.
    let mut pending: Option<Fingerprint> = None;
    loop {
        let forced = match interval {
            Some(every) => match rx.recv_timeout(every) {
                Ok(()) => true,
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(()) => true,
                Err(_) => return,
            },
        };
        let now = fingerprint(sources);
        if !forced {
            if now == last {
                pending = None;
                continue;
            }
            // A writer may be midway through a file (or a set of files):
            // load only once a whole interval has passed without a change.
            if pending.as_ref() != Some(&now) {
                pending = Some(now);
                continue;
            }
        }
        pending = None;
        last = now;
        let why = if forced { "SIGHUP" } else { "files changed" };
        reload(sources, handle, metrics, why, policy);
    }
}

/// Why a loaded revision is not swapped in, if it is not.
fn refusal(old: &Engine, new: &Engine, policy: Policy) -> Option<String> {
    if policy.allow_decision_removal {
        return None;
    }
    let dropped: Vec<&str> =
        old.decisions().filter(|d| !new.decisions().any(|n| n == *d)).collect();
    if !dropped.is_empty() {
        return Some(format!(
            "it drops decision{} being served: {}",
            if dropped.len() == 1 { "" } else { "s" },
            dropped.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let program = new.program();
    if program.rules.is_empty() && program.decisions.is_empty() {
        return Some("it has no rules and no decisions (an empty or partly written file?)".into());
    }
    None
}

/// Loads `sources` and swaps them in, or refuses; logs either to stderr.
pub fn reload(
    sources: &Sources,
    handle: &EngineHandle,
    metrics: &Metrics,
    why: &str,
    policy: Policy,
) {
    let old = handle.current();
    match Engine::load(sources) {
        Ok(engine) => {
            if let Some(reason) = refusal(&old, &engine, policy) {
                metrics.reload(false);
                eprintln!(
                    "gov serve: warning: reload refused ({why}): revision {} {reason}; still serving revision {} (start with --allow-decision-removal to allow this)",
                    engine.revision(),
                    old.revision()
                );
                return;
            }
            // Count first: whoever reads the log line then sees the count.
            metrics.reload(true);
            let revision = engine.revision().to_owned();
            if revision == old.revision() {
                eprintln!("gov serve: reload ({why}): revision {revision} unchanged");
            } else {
                handle.replace(engine);
                eprintln!(
                    "gov serve: reloaded revision {revision} ({why}; was {})",
                    old.revision()
                );
            }
        }
        Err(diags) => {
            metrics.reload(false);
            eprintln!(
                "gov serve: reload refused ({why}): {} error(s); still serving revision {}",
                diags.error_count(),
                old.revision()
            );
            for d in diags.iter().filter(|d| d.is_error()) {
                eprintln!("{}", crate::report::diagnostics::render_plain(d));
            }
        }
    }
}

type Fingerprint = Vec<(PathBuf, Option<(u64, SystemTime)>)>;

fn fingerprint(sources: &Sources) -> Fingerprint {
    let mut out = Vec::new();
    let roots = sources.policies.iter().chain(&sources.inventories).chain(&sources.mapping);
    for root in roots {
        walk(root, &mut out, 0);
    }
    out
}

fn walk(path: &Path, out: &mut Fingerprint, depth: usize) {
    let Ok(meta) = std::fs::metadata(path) else {
        out.push((path.to_path_buf(), None));
        return;
    };
    if meta.is_dir() {
        if depth > 16 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            out.push((path.to_path_buf(), None));
            return;
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            walk(&child, out, depth + 1);
        }
    } else {
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        out.push((path.to_path_buf(), Some((meta.len(), modified))));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fingerprint_sees_new_changed_and_removed_files() {
        let dir = tempfile::tempdir().unwrap();
        let sources = Sources { policies: vec![dir.path().to_path_buf()], ..Default::default() };
        let empty = fingerprint(&sources);
        std::fs::write(dir.path().join("a.gov"), "x").unwrap();
        let one = fingerprint(&sources);
        assert_ne!(empty, one);
        std::fs::write(dir.path().join("a.gov"), "xy").unwrap();
        let changed = fingerprint(&sources);
        assert_ne!(one, changed);
        assert_eq!(changed, fingerprint(&sources));
        std::fs::remove_file(dir.path().join("a.gov")).unwrap();
        assert_eq!(empty, fingerprint(&sources));
    }
}
