//! The connection cap (`--max-connections`): the open connections, each
//! with whether a request is in flight on it and when it was last active.
//!
//! Why: every connection holds a file descriptor, and a client that opens
//! connections and sends nothing (or a request head byte by byte) would
//! otherwise use them all, so that `accept` fails with "too many open files"
//! and honest requests wait in the kernel's queue. At the cap, or when
//! `accept` runs out of descriptors, the server closes an idle connection
//! (none of its requests in flight) to make room: first one that never
//! completed a request, the longest open; then the least recently active.
//! A request in flight is never cut.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::task::AbortHandle;

/// The open connections.
pub(crate) struct Slots {
    max: usize,
    base: Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    next: u64,
    conns: HashMap<u64, Entry>,
}

struct Entry {
    activity: Arc<Activity>,
    abort: Option<AbortHandle>,
}

/// What one connection is doing, updated by its requests.
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    served: AtomicU64,
    /// Nanoseconds after [`Slots::base`] of the last request's end (or of the accept).
    last: AtomicU64,
    base: Instant,
}

impl Activity {
    /// Marks a request in flight until the returned guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        RequestGuard(Arc::clone(self))
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A request in flight on a connection.
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let a = &self.0;
        a.last.store(a.now(), Ordering::Release);
        a.served.fetch_add(1, Ordering::AcqRel);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection's place; dropping it (the connection's task ends or is
/// aborted) frees the place.
pub(crate) struct Slot {
    slots: Arc<Slots>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().conns.remove(&self.id);
    }
}

impl Slots {
    pub(crate) fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max: max.max(1),
            base: Instant::now(),
            inner: Mutex::new(Inner { next: 0, conns: HashMap::new() }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cap.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Open connections now.
    pub(crate) fn open(&self) -> usize {
        self.lock().conns.len()
    }

    /// Makes room for one more connection when at the cap (`force`: even
    /// under it, because `accept` ran out of descriptors). Returns false when
    /// room was needed and every connection has a request in flight.
    pub(crate) fn make_room(&self, force: bool) -> bool {
        let mut inner = self.lock();
        if !force && inner.conns.len() < self.max {
            return true;
        }
        let victim = inner
            .conns
            .iter()
            .filter(|(_, e)| e.activity.in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, e)| {
                (
                    e.activity.served.load(Ordering::Acquire) > 0,
                    e.activity.last.load(Ordering::Acquire),
                )
            })
            .map(|(id, _)| *id);
        match victim.and_then(|id| inner.conns.remove(&id)) {
            Some(entry) => {
                if let Some(abort) = entry.abort {
                    abort.abort();
                }
                true
            }
            None => false,
        }
    }

    /// Registers a new connection; call [`Slots::set_abort`] once its task runs.
    pub(crate) fn take(self: &Arc<Self>) -> (Slot, Arc<Activity>, u64) {
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            last: AtomicU64::new(0),
            base: self.base,
        });
        activity.last.store(activity.now(), Ordering::Release);
        let mut inner = self.lock();
        let id = inner.next;
        inner.next += 1;
        inner.conns.insert(id, Entry { activity: Arc::clone(&activity), abort: None });
        drop(inner);
        (Slot { slots: Arc::clone(self), id }, activity, id)
    }

    /// How to close connection `id` (a no-op when it has already ended).
    pub(crate) fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(e) = self.lock().conns.get_mut(&id) {
            e.abort = Some(abort);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn room_is_made_from_idle_connections_never_busy_ones() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let slots = Slots::new(2);
            let (a, act_a, id_a) = slots.take();
            let (b, act_b, id_b) = slots.take();
            let ta = tokio::spawn(async move {
                let _a = a;
                std::future::pending::<()>().await
            });
            let tb = tokio::spawn(async move {
                let _b = b;
                std::future::pending::<()>().await
            });
            slots.set_abort(id_a, ta.abort_handle());
            slots.set_abort(id_b, tb.abort_handle());
            // `a` has served a request; `b` never has: `b` goes first.
            drop(act_a.begin());
            let busy = act_b.begin();
            // Both idle but `b` busy: `a` is the only candidate.
            assert!(slots.make_room(false));
            assert!(ta.await.is_err_and(|e| e.is_cancelled()));
            assert_eq!(slots.open(), 1);
            // Under the cap: nothing to do.
            assert!(slots.make_room(false));
            // Forced, with the only connection busy: no room.
            assert!(!slots.make_room(true));
            drop(busy);
            assert!(slots.make_room(true));
            assert!(tb.await.is_err_and(|e| e.is_cancelled()));
            assert_eq!(slots.open(), 0);
        });
    }
}
