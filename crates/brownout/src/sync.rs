//! Synchronisation primitives: std and parking_lot normally, loom's models under `--cfg loom`.
//!
//! Only the breaker's state word, its cold-path mutex and the manager's
//! published values go through here; `Arc` and the clock stay std (loom
//! models what they guard, not the reference counts).

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::MutexGuard;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

/// loom's mutex behind parking_lot's infallible `lock()` signature.
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// A shared value replaced whole by a reload while readers keep reading:
/// `arc_swap::ArcSwap` normally (a read takes no lock and writes nothing
/// shared), a mutex around an `Arc` under loom.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct Swap<T>(arc_swap::ArcSwap<T>);

#[cfg(not(loom))]
impl<T> Swap<T> {
    pub(crate) fn new(value: T) -> Self {
        Swap(arc_swap::ArcSwap::from_pointee(value))
    }

    /// The current value, held for a short read.
    #[inline]
    pub(crate) fn load(&self) -> impl std::ops::Deref<Target = std::sync::Arc<T>> + '_ {
        self.0.load()
    }

    /// The current value, to keep.
    pub(crate) fn load_full(&self) -> std::sync::Arc<T> {
        self.0.load_full()
    }

    pub(crate) fn store(&self, value: std::sync::Arc<T>) {
        self.0.store(value);
    }
}

/// A shared value replaced whole (see the non-loom version).
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Swap<T>(Mutex<std::sync::Arc<T>>);

#[cfg(loom)]
impl<T> Swap<T> {
    pub(crate) fn new(value: T) -> Self {
        Swap(Mutex::new(std::sync::Arc::new(value)))
    }

    /// Boxed so the type derefs to an `Arc`, as arc-swap's guard does.
    pub(crate) fn load(&self) -> Box<std::sync::Arc<T>> {
        Box::new(self.load_full())
    }

    pub(crate) fn load_full(&self) -> std::sync::Arc<T> {
        std::sync::Arc::clone(&self.0.lock())
    }

    pub(crate) fn store(&self, value: std::sync::Arc<T>) {
        *self.0.lock() = value;
    }
}
