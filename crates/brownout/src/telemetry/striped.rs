//! Per-call counters striped across cache lines, one writer per stripe where
//! possible, summed when published.
//!
//! A metrics recorder's counter is one shared atomic: every call from every
//! thread would bounce its cache line between cores (the figures are in
//! `docs/observability.md`, "What per call costs"). Instead each breaker counts into
//! stripes. Up to [`OWNED`] live threads get a stripe of their own and bump
//! it with a plain load and store (no read-modify-write, no line shared with
//! another writer; a thread's stripe passes to a later thread when it exits);
//! threads beyond that share the remaining [`SHARED`] stripes with
//! `fetch_add`. Publishing sums the stripes and hands
//! the totals to the recorder with `Counter::absolute`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Stripes owned by one thread each.
const OWNED: usize = 16;
/// Stripes shared by every later thread.
const SHARED: usize = 8;

/// The counted outcomes, as indexes into a stripe.
pub(super) const SUCCESS: usize = 0;
pub(super) const FAILURE: usize = 1;
pub(super) const IGNORED: usize = 2;
pub(super) const REJECTED: usize = 3;
pub(super) const TIMEOUT: usize = 4;
const KINDS: usize = 5;

/// One stripe: its own cache-line pair (adjacent-line prefetch pulls lines in twos).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe([AtomicU64; KINDS]);

/// Counts by outcome for one breaker (3 KiB, allocated once with the breaker).
#[derive(Debug)]
pub(super) struct StripedCounts {
    stripes: Box<[Stripe; OWNED + SHARED]>,
}

/// Stripe numbers given back by threads that exited, for reuse.
static FREE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// The next never-used stripe number.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Not yet given a stripe.
const UNASSIGNED: usize = usize::MAX;

thread_local! {
    /// The thread's stripe number: a plain cell, so the hot path reads it
    /// without any lazy-initialisation check.
    static INDEX: Cell<usize> = const { Cell::new(UNASSIGNED) };
    /// Registered on first use; when the thread exits it hands the stripe
    /// back and moves the thread to a shared stripe for any last counts.
    static RETURN_ON_EXIT: ReturnOnExit = const { ReturnOnExit };
}

struct ReturnOnExit;

impl Drop for ReturnOnExit {
    fn drop(&mut self) {
        let index = INDEX.with(|cell| cell.replace(OWNED));
        if index < OWNED {
            // The mutex orders this thread's last counts before the next owner's.
            FREE.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(index);
        }
    }
}

/// The current thread's stripe number.
#[inline(always)]
fn stripe_index() -> usize {
    let index = INDEX.with(Cell::get);
    if index != UNASSIGNED { index } else { assign() }
}

#[cold]
fn assign() -> usize {
    // Without a way to give the stripe back (locals already torn down), share.
    if RETURN_ON_EXIT.try_with(|_| ()).is_err() {
        return OWNED;
    }
    let reused = FREE.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let index = reused.unwrap_or_else(|| NEXT.fetch_add(1, Ordering::Relaxed));
    INDEX.with(|cell| cell.set(index));
    index
}

impl StripedCounts {
    pub(super) fn new() -> Self {
        StripedCounts {
            stripes: Box::new(std::array::from_fn(|_| Stripe::default())),
        }
    }

    /// Counts one event of `kind` (`kind < KINDS`).
    #[inline(always)]
    pub(super) fn bump(&self, kind: usize) {
        let i = stripe_index();
        if i < OWNED {
            // This thread is the stripe's only writer: no lost update, and
            // readers see a value at most one event old.
            let slot = &self.stripes[i].0[kind];
            slot.store(slot.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            self.stripes[OWNED + i % SHARED].0[kind].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The total of `kind` over all stripes.
    pub(super) fn total(&self, kind: usize) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0[kind].load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exited_threads_give_their_stripe_back() {
        let first = std::thread::spawn(stripe_index).join().unwrap();
        let second = std::thread::spawn(stripe_index).join().unwrap();
        // Other tests' threads may take numbers in between, but a number is
        // never lost: sequential threads keep reusing low ones.
        assert!(first < OWNED && second < OWNED, "{first} {second}");
    }

    #[test]
    fn counts_from_many_threads_add_up() {
        let counts = StripedCounts::new();
        std::thread::scope(|s| {
            // More threads than owned stripes: shared stripes take the rest.
            for _ in 0..(OWNED + 2 * SHARED) {
                s.spawn(|| {
                    for _ in 0..1000 {
                        counts.bump(SUCCESS);
                    }
                    counts.bump(REJECTED);
                });
            }
        });
        let threads = (OWNED + 2 * SHARED) as u64;
        assert_eq!(counts.total(SUCCESS), 1000 * threads);
        assert_eq!(counts.total(REJECTED), threads);
        assert_eq!(counts.total(FAILURE), 0);
        assert_eq!(counts.total(IGNORED), 0);
    }
}
