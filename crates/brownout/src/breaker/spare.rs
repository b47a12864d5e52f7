//! Each thread's spare handles to the breakers it last released owned
//! permits for, so that the next owned permit taken for one of them on that
//! thread touches no reference count.
//!
//! An [`OwnedPermit`](super::OwnedPermit) owns its way back to its breaker
//! (a `'static` future carries it). With a plain `Arc` clone that is an
//! atomic increment when the permit is taken and a decrement when it is
//! released: two locked read-modify-writes per call, most of what a tower
//! request through `BreakerLayer` costs. Instead, a released permit leaves
//! its handle in one of its thread's [`SLOTS`] spare slots, and the next
//! permit for that breaker taken on that thread takes it back: a pointer
//! compare and two plain moves.
//!
//! Reference counts stay exact: a spare is an ordinary strong handle. The
//! cost is that a thread keeps the shared state of up to [`SLOTS`] breakers
//! alive after their last `Breaker` handle is dropped, until the thread
//! hands those slots to other breakers or exits (the per-thread copy of the
//! manager's configuration is kept the same way).

use std::sync::Arc;

use super::engine::Shared;

/// How many breakers a thread keeps a spare handle for: enough for a
/// service that calls a few dependencies in turn from the same thread.
pub(crate) const SLOTS: usize = 4;

/// A strong handle to a breaker that goes back to its thread's spare slots
/// when dropped.
pub(crate) struct Handle(Option<Arc<Shared>>);

impl Handle {
    /// A handle to `shared`: this thread's spare one if it keeps one, else
    /// a clone.
    #[inline]
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        Handle(Some(take(shared)))
    }
}

impl AsRef<Shared> for Handle {
    #[inline]
    fn as_ref(&self) -> &Shared {
        // `None` only inside `drop`, after every use.
        self.0
            .as_deref()
            .expect("a spare handle is emptied only when dropped")
    }
}

impl Drop for Handle {
    #[inline]
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            give_back(handle);
        }
    }
}

#[cfg(not(loom))]
mod slots {
    use std::cell::RefCell;
    use std::sync::Arc;

    use super::{SLOTS, Shared};

    /// One thread's spare handles, and which slot to reuse next when all
    /// are taken.
    struct Slots {
        kept: [Option<Arc<Shared>>; SLOTS],
        next: usize,
    }

    thread_local! {
        static SPARE: RefCell<Slots> = const {
            RefCell::new(Slots {
                kept: [const { None }; SLOTS],
                next: 0,
            })
        };
    }

    /// This thread's spare handle to `shared`, or a clone.
    #[inline]
    pub(super) fn take(shared: &Arc<Shared>) -> Arc<Shared> {
        let spare = SPARE
            .try_with(|spare| {
                let mut spare = spare.try_borrow_mut().ok()?;
                spare
                    .kept
                    .iter_mut()
                    .find(|slot| slot.as_ref().is_some_and(|kept| Arc::ptr_eq(kept, shared)))?
                    .take()
            })
            .ok()
            .flatten();
        spare.unwrap_or_else(|| Arc::clone(shared))
    }

    /// Keeps `handle` as a spare: in an empty slot, else in place of the
    /// oldest; the handle it displaces (if any) is dropped once the slots
    /// are no longer borrowed.
    #[inline]
    pub(super) fn give_back(handle: Arc<Shared>) {
        let mut handle = Some(handle);
        let displaced = SPARE
            .try_with(|spare| {
                let mut spare = spare.try_borrow_mut().ok()?;
                let spare = &mut *spare;
                let slot = match spare.kept.iter().position(Option::is_none) {
                    Some(empty) => empty,
                    None => {
                        let oldest = spare.next;
                        spare.next = (oldest + 1) % SLOTS;
                        oldest
                    }
                };
                std::mem::replace(&mut spare.kept[slot], handle.take())
            })
            .ok()
            .flatten();
        // Not kept (the thread is exiting, or the slots are in use): dropped here.
        drop(handle);
        drop(displaced);
    }
}

/// Under loom, plain clones: the model checks the breaker, not this cache.
#[cfg(loom)]
mod slots {
    use std::sync::Arc;

    use super::Shared;

    pub(super) fn take(shared: &Arc<Shared>) -> Arc<Shared> {
        Arc::clone(shared)
    }

    pub(super) fn give_back(handle: Arc<Shared>) {
        drop(handle);
    }
}

use self::slots::{give_back, take};

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::SLOTS;
    use crate::{Breaker, BreakerConfig};

    fn breaker(name: &str) -> Breaker {
        Breaker::new(name, BreakerConfig::default()).unwrap()
    }

    #[test]
    fn a_released_permit_leaves_its_handle_for_the_next_one() {
        let b = breaker("db");
        assert_eq!(Arc::strong_count(&b.shared), 1);
        b.try_acquire_owned().unwrap().success();
        // The released handle is kept as this thread's spare ...
        assert_eq!(Arc::strong_count(&b.shared), 2);
        // ... and the next permit takes it instead of cloning.
        let permit = b.try_acquire_owned().unwrap();
        assert_eq!(Arc::strong_count(&b.shared), 2);
        drop(permit);
        assert_eq!(Arc::strong_count(&b.shared), 2);
        // Two permits at once: the second one clones.
        let (first, second) = (
            b.try_acquire_owned().unwrap(),
            b.try_acquire_owned().unwrap(),
        );
        assert_eq!(Arc::strong_count(&b.shared), 3);
        first.success();
        second.failure();
        assert_eq!(b.snapshot().consecutive_failures, 1);
        assert!(Arc::strong_count(&b.shared) <= 3);
    }

    #[test]
    fn a_thread_keeps_spares_for_a_few_breakers_only() {
        let breakers: Vec<Breaker> = (0..3 * SLOTS)
            .map(|i| breaker(&format!("dep{i}")))
            .collect();
        let weak: Vec<_> = breakers.iter().map(|b| Arc::downgrade(&b.shared)).collect();
        for b in &breakers {
            b.try_acquire_owned().unwrap().success();
        }
        drop(breakers);
        let alive: Vec<usize> = (0..weak.len())
            .filter(|&i| weak[i].upgrade().is_some())
            .collect();
        // Only the last breakers this thread released permits for are kept.
        assert_eq!(alive, (2 * SLOTS..3 * SLOTS).collect::<Vec<_>>());
    }

    #[test]
    fn spares_go_with_their_thread() {
        let b = breaker("cache");
        let on_thread = b.clone();
        std::thread::spawn(move || on_thread.try_acquire_owned().unwrap().success())
            .join()
            .unwrap();
        assert_eq!(Arc::strong_count(&b.shared), 1);
    }
}
