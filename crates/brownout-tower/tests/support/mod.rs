//! Helpers shared by the integration tests (`mod support;` in each).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig};

/// A breaker on a manual clock: `threshold` consecutive failures open it for
/// `recovery`, `trials` half-open calls close it.
pub fn breaker(threshold: u32, recovery: Duration, trials: u32) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let config = BreakerConfig {
        failure_threshold: threshold,
        recovery_timeout: recovery,
        half_open_max_calls: trials,
        ..BreakerConfig::default()
    };
    let breaker = Breaker::with_clock("inventory", config, clock.clone()).expect("valid config");
    (breaker, clock)
}

/// Counts how often the inner service was called.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// One more call.
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Calls so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
