//! Level changes and the listeners told about them.
//!
//! A recomputation that changes the effective level queues a [`LevelChange`]
//! while it holds the manager's control lock, so changes queue in the order
//! they happened. Delivery happens after that lock is released, by one thread
//! at a time (whoever finds the delivery slot free drains the queue), so every
//! listener sees every change once and in order, and a listener may call back
//! into the manager (even `force_level`) without deadlocking: its own change
//! is queued and delivered right after it returns.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde::Serialize;

use crate::breaker::BreakerState;
use crate::level::Level;
use crate::sync::Mutex;

/// One change of the effective level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LevelChange {
    /// The level before.
    pub from: Level,
    /// The level after.
    pub to: Level,
    /// The health score after the change.
    pub score: f64,
    /// What caused it.
    pub cause: ChangeCause,
}

/// What made the level change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeCause {
    /// The state the manager started in (the first value a subscriber sees).
    Initial,
    /// A dependency's breaker changed state.
    Breaker {
        /// The dependency.
        dependency: &'static str,
        /// Its breaker's state before.
        from: BreakerState,
        /// Its breaker's state after.
        to: BreakerState,
    },
    /// [`force_level`](crate::DegradationManager::force_level) or
    /// [`clear_override`](crate::DegradationManager::clear_override).
    Override,
    /// A deadline passed: an upgrade hold completed or an override's TTL ran out.
    Deadline,
    /// An explicit [`refresh`](crate::DegradationManager::refresh).
    Refresh,
}

impl fmt::Display for ChangeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeCause::Initial => f.write_str("initial"),
            ChangeCause::Breaker {
                dependency,
                from,
                to,
            } => write!(f, "breaker {dependency} {from} -> {to}"),
            ChangeCause::Override => f.write_str("override"),
            ChangeCause::Deadline => f.write_str("deadline"),
            ChangeCause::Refresh => f.write_str("refresh"),
        }
    }
}

/// Identifies a listener added with
/// [`on_level_change`](crate::DegradationManager::on_level_change), for removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

type Listener = Arc<dyn Fn(&LevelChange) + Send + Sync>;

/// Queued changes, listeners and the delivery slot.
pub(crate) struct Changes {
    queue: Mutex<VecDeque<LevelChange>>,
    delivering: Mutex<()>,
    listeners: Mutex<(u64, Vec<(ListenerId, Listener)>)>,
    #[cfg(feature = "tokio")]
    watch: tokio::sync::watch::Sender<LevelChange>,
}

impl Changes {
    pub(crate) fn new(initial: LevelChange) -> Self {
        #[cfg(not(feature = "tokio"))]
        let _ = initial;
        Changes {
            queue: Mutex::new(VecDeque::new()),
            delivering: Mutex::new(()),
            listeners: Mutex::new((0, Vec::new())),
            #[cfg(feature = "tokio")]
            watch: tokio::sync::watch::Sender::new(initial),
        }
    }

    /// Queues a change (the caller holds the control lock, which orders changes).
    pub(crate) fn push(&self, change: LevelChange) {
        self.queue.lock().push_back(change);
    }

    /// Delivers queued changes unless another thread is already doing so
    /// (that thread then delivers ours too).
    pub(crate) fn deliver(&self) {
        loop {
            let Some(slot) = self.delivering.try_lock() else {
                return;
            };
            loop {
                let next = self.queue.lock().pop_front();
                let Some(change) = next else { break };
                self.tell(&change);
            }
            drop(slot);
            // A change queued after our last look and before we freed the slot
            // found the slot taken: deliver it now.
            if self.queue.lock().is_empty() {
                return;
            }
        }
    }

    fn tell(&self, change: &LevelChange) {
        crate::events::level_change(change);
        #[cfg(feature = "tokio")]
        self.watch.send_replace(change.clone());
        let listeners: Vec<Listener> = self
            .listeners
            .lock()
            .1
            .iter()
            .map(|(_, l)| Arc::clone(l))
            .collect();
        for listener in listeners {
            if catch_unwind(AssertUnwindSafe(|| listener(change))).is_err() {
                crate::events::listener_panicked();
            }
        }
    }

    pub(crate) fn add(&self, listener: Listener) -> ListenerId {
        let mut guard = self.listeners.lock();
        guard.0 += 1;
        let id = ListenerId(guard.0);
        guard.1.push((id, listener));
        id
    }

    pub(crate) fn remove(&self, id: ListenerId) -> bool {
        let mut guard = self.listeners.lock();
        let before = guard.1.len();
        guard.1.retain(|(each, _)| *each != id);
        guard.1.len() != before
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<LevelChange> {
        self.watch.subscribe()
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes")
            .field("queued", &self.queue.lock().len())
            .field("listeners", &self.listeners.lock().1.len())
            .finish_non_exhaustive()
    }
}
