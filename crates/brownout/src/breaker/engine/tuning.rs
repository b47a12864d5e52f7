//! The settings the lock-free paths read, as atomics, so a reload can
//! change them under a running breaker.
//!
//! Each is one relaxed load (a plain load on common hardware, as cheap as
//! reading a field). A change is stored under the breaker's lock; a call
//! racing it decides with either the old or the new value, never a mix
//! that breaks the state machine: everything that moves state is re-decided
//! under the lock.

use crate::config::{BreakerConfig, Policy};
use crate::nanos::duration_to_u64;
use crate::sync::{AtomicU8, AtomicU32, AtomicU64, Ordering};

/// Calls are timed (slow-call detection or a call timeout): admissions read the clock.
const TIMED: u8 = 1;
/// Consecutive policy without slow-call detection: closed outcomes are
/// counted in the state word alone, without the lock.
const LOCK_FREE: u8 = 2;

#[derive(Debug)]
pub(super) struct Tuning {
    flags: AtomicU8,
    failure_threshold: AtomicU32,
    half_open_max_calls: AtomicU32,
    /// `recovery_timeout`: the retry hint of a forced-open rejection.
    recovery_nanos: AtomicU64,
    /// `slow_call_duration`, 0 for none.
    slow_nanos: AtomicU64,
    /// `call_timeout`, 0 for none.
    timeout_nanos: AtomicU64,
}

impl Tuning {
    pub(super) fn new(config: &BreakerConfig) -> Tuning {
        let tuning = Tuning {
            flags: AtomicU8::new(0),
            failure_threshold: AtomicU32::new(0),
            half_open_max_calls: AtomicU32::new(0),
            recovery_nanos: AtomicU64::new(0),
            slow_nanos: AtomicU64::new(0),
            timeout_nanos: AtomicU64::new(0),
        };
        tuning.store(config);
        tuning
    }

    /// Publishes `config`'s values (under the breaker's lock).
    pub(super) fn store(&self, config: &BreakerConfig) {
        let slow = config.slow_call_duration.map_or(0, duration_to_u64);
        let timeout = config.call_timeout.map_or(0, duration_to_u64);
        let mut flags = 0;
        if slow != 0 || timeout != 0 {
            flags |= TIMED;
        }
        if slow == 0 && config.policy == Policy::ConsecutiveFailures {
            flags |= LOCK_FREE;
        }
        self.failure_threshold
            .store(config.failure_threshold, Ordering::Relaxed);
        self.half_open_max_calls
            .store(config.half_open_max_calls, Ordering::Relaxed);
        self.recovery_nanos
            .store(duration_to_u64(config.recovery_timeout), Ordering::Relaxed);
        self.slow_nanos.store(slow, Ordering::Relaxed);
        self.timeout_nanos.store(timeout, Ordering::Relaxed);
        self.flags.store(flags, Ordering::Relaxed);
    }

    #[inline(always)]
    pub(super) fn timed(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & TIMED != 0
    }

    #[inline(always)]
    pub(super) fn lock_free(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & LOCK_FREE != 0
    }

    #[inline]
    pub(super) fn failure_threshold(&self) -> u32 {
        self.failure_threshold.load(Ordering::Relaxed)
    }

    #[inline]
    pub(super) fn half_open_max_calls(&self) -> u32 {
        self.half_open_max_calls.load(Ordering::Relaxed)
    }

    #[inline]
    pub(super) fn recovery_nanos(&self) -> u64 {
        self.recovery_nanos.load(Ordering::Relaxed)
    }

    #[inline]
    pub(super) fn slow_nanos(&self) -> u64 {
        self.slow_nanos.load(Ordering::Relaxed)
    }

    #[inline(always)]
    pub(super) fn timeout_nanos(&self) -> u64 {
        self.timeout_nanos.load(Ordering::Relaxed)
    }
}
