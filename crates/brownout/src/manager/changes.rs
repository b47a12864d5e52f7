//! Delivering level changes to listeners and subscribers.
//!
//! A recomputation that changes the effective level queues the
//! [`LevelChange`] while it holds the manager's control lock, so changes
//! queue in the order they happened, and publishes it to `subscribe()`
//! receivers at once (a watch channel: they always end on the latest level).
//!
//! Listeners are called one change at a time, in order. The thread that made
//! a change calls the listeners for that change itself when nothing older is
//! waiting and nobody else is delivering; otherwise it leaves the change to
//! the manager's delivery thread (started the first time it is needed) and
//! returns at once. No caller ever runs, or waits for, listener work caused
//! by another thread's change. The queue holds at most [`QUEUE_CAPACITY`]
//! changes: a listener too slow to keep up loses the oldest ones, never the
//! latest.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::ThreadId;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::change::LevelChange;

/// The most changes kept for listeners; older ones are dropped first.
pub(crate) const QUEUE_CAPACITY: usize = 256;

/// How long the idle delivery thread sleeps before checking that its
/// manager still exists.
const IDLE_CHECK: Duration = Duration::from_millis(500);

/// Identifies a listener added with
/// [`on_level_change`](crate::DegradationManager::on_level_change), for removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

type Listener = Arc<dyn Fn(&LevelChange) + Send + Sync>;

/// The registered listeners and the next id to hand out.
#[derive(Default)]
struct Listeners {
    next_id: u64,
    all: Vec<(ListenerId, Listener)>,
}

/// A change waiting for listeners: its sequence number and the thread that made it.
struct Waiting {
    seq: u64,
    made_by: ThreadId,
    change: LevelChange,
}

/// Changes waiting for listeners, in order.
#[derive(Default)]
struct Queue {
    next_seq: u64,
    waiting: VecDeque<Waiting>,
}

/// A change queued for listeners, to be delivered by the thread that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) struct Ticket(u64);

/// Queued changes, listeners, the delivery slot and the delivery thread.
pub(crate) struct Changes {
    queue: Mutex<Queue>,
    delivering: Mutex<()>,
    listeners: Mutex<Listeners>,
    listener_count: AtomicUsize,
    wake: Condvar,
    worker_started: AtomicBool,
    #[cfg(feature = "tokio")]
    watch: tokio::sync::watch::Sender<LevelChange>,
}

impl Changes {
    pub(crate) fn new(initial: LevelChange) -> Arc<Self> {
        #[cfg(not(feature = "tokio"))]
        let _ = initial;
        Arc::new(Changes {
            queue: Mutex::new(Queue::default()),
            delivering: Mutex::new(()),
            listeners: Mutex::new(Listeners::default()),
            listener_count: AtomicUsize::new(0),
            wake: Condvar::new(),
            worker_started: AtomicBool::new(false),
            #[cfg(feature = "tokio")]
            watch: tokio::sync::watch::Sender::new(initial),
        })
    }

    /// Publishes a change to subscribers and queues it for listeners. The
    /// caller holds the control lock, which orders changes; nothing here
    /// blocks on listener work.
    pub(crate) fn push(&self, change: &LevelChange) -> Option<Ticket> {
        #[cfg(feature = "tokio")]
        self.watch.send_replace(change.clone());
        if self.listener_count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.queue.lock();
        let seq = queue.next_seq;
        queue.next_seq += 1;
        if queue.waiting.len() >= QUEUE_CAPACITY {
            queue.waiting.pop_front();
        }
        queue.waiting.push_back(Waiting {
            seq,
            made_by: std::thread::current().id(),
            change: change.clone(),
        });
        Some(Ticket(seq))
    }

    /// Delivers the change behind `ticket` on this thread if it is next in
    /// line and nobody else is delivering, then any change that a listener
    /// made on this thread meanwhile; otherwise hands it to the delivery
    /// thread. Never runs listeners for another thread's change.
    pub(crate) fn deliver(self: &Arc<Self>, ticket: Ticket) {
        let Some(slot) = self.delivering.try_lock() else {
            return self.wake_worker();
        };
        let me = std::thread::current().id();
        let mut first = true;
        loop {
            let mine = {
                let mut queue = self.queue.lock();
                match queue.waiting.front() {
                    Some(w) if (first && w.seq == ticket.0) || (!first && w.made_by == me) => {
                        queue.waiting.pop_front()
                    }
                    _ => None,
                }
            };
            let Some(waiting) = mine else { break };
            self.tell(&waiting.change);
            first = false;
        }
        drop(slot);
        if !self.queue.lock().waiting.is_empty() {
            self.wake_worker();
        }
    }

    fn wake_worker(self: &Arc<Self>) {
        if !self.worker_started.swap(true, Ordering::AcqRel) {
            let weak = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name("brownout-listeners".into())
                .spawn(move || deliver_in_background(&weak));
            if spawned.is_err() {
                // No thread to be had: try again at the next change.
                self.worker_started.store(false, Ordering::Release);
                crate::events::delivery_thread_failed();
            }
        }
        self.wake.notify_one();
    }

    /// Drains the queue in order, holding the delivery slot.
    fn drain(&self) {
        let _slot = self.delivering.lock();
        loop {
            let next = self.queue.lock().waiting.pop_front();
            let Some(waiting) = next else { return };
            self.tell(&waiting.change);
        }
    }

    fn tell(&self, change: &LevelChange) {
        let listeners: Vec<Listener> = self
            .listeners
            .lock()
            .all
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
        let mut listeners = self.listeners.lock();
        listeners.next_id += 1;
        let id = ListenerId(listeners.next_id);
        listeners.all.push((id, listener));
        self.listener_count
            .store(listeners.all.len(), Ordering::Release);
        id
    }

    pub(crate) fn remove(&self, id: ListenerId) -> bool {
        let mut listeners = self.listeners.lock();
        let before = listeners.all.len();
        listeners.all.retain(|(each, _)| *each != id);
        self.listener_count
            .store(listeners.all.len(), Ordering::Release);
        listeners.all.len() != before
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<LevelChange> {
        self.watch.subscribe()
    }
}

/// The delivery thread: drains the queue whenever woken, and ends once its
/// manager is gone.
fn deliver_in_background(changes: &Weak<Changes>) {
    while let Some(changes) = changes.upgrade() {
        changes.drain();
        let mut queue = changes.queue.lock();
        if queue.waiting.is_empty() {
            changes.wake.wait_for(&mut queue, IDLE_CHECK);
        }
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes")
            .field("queued", &self.queue.lock().waiting.len())
            .field("listeners", &self.listener_count.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
