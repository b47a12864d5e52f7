//! Sliding windows of call outcomes: the last N calls, or the last T in buckets.
//!
//! Both allocate once, when the breaker is built, and never again.

use crate::clock::Nanos;

/// Counts over the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WindowCounts {
    /// Calls recorded in the window.
    pub calls: u32,
    /// Of which failures.
    pub failures: u32,
    /// Of which slow (whether or not they failed).
    pub slow_calls: u32,
}

impl WindowCounts {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u32::from(failed);
        self.slow_calls += u32::from(slow);
    }

    fn sub(&mut self, failed: bool, slow: bool) {
        self.calls -= 1;
        self.failures -= u32::from(failed);
        self.slow_calls -= u32::from(slow);
    }
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// A sliding window of outcomes.
#[derive(Debug)]
pub(crate) enum Window {
    /// The last `ring.len()` outcomes.
    Count {
        ring: Box<[u8]>,
        next: usize,
        filled: usize,
        totals: WindowCounts,
    },
    /// The last `buckets.len() × bucket_nanos`, one bucket per slice of time.
    Time {
        buckets: Box<[Bucket]>,
        bucket_nanos: u64,
    },
}

/// One slice of a time window: which slice it holds (`epoch`) and its counts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bucket {
    epoch: u64,
    counts: WindowCounts,
}

/// Buckets of a time-based window.
pub(crate) const TIME_BUCKETS: u64 = 10;

impl Window {
    pub(crate) fn count(size: u32) -> Window {
        Window::Count {
            ring: vec![0; size as usize].into_boxed_slice(),
            next: 0,
            filled: 0,
            totals: WindowCounts::default(),
        }
    }

    pub(crate) fn time(span_nanos: u64) -> Window {
        Window::Time {
            buckets: vec![Bucket::default(); TIME_BUCKETS as usize].into_boxed_slice(),
            bucket_nanos: (span_nanos / TIME_BUCKETS).max(1),
        }
    }

    /// Records one outcome at `now`.
    pub(crate) fn record(&mut self, now: Nanos, failed: bool, slow: bool) {
        match self {
            Window::Count {
                ring,
                next,
                filled,
                totals,
            } => {
                if *filled == ring.len() {
                    let old = ring[*next];
                    totals.sub(old & FAILED != 0, old & SLOW != 0);
                } else {
                    *filled += 1;
                }
                ring[*next] = (u8::from(failed) * FAILED) | (u8::from(slow) * SLOW);
                totals.add(failed, slow);
                *next = (*next + 1) % ring.len();
            }
            Window::Time {
                buckets,
                bucket_nanos,
            } => {
                let epoch = now.as_u64() / *bucket_nanos;
                let bucket = &mut buckets[(epoch % TIME_BUCKETS) as usize];
                if bucket.epoch != epoch {
                    *bucket = Bucket {
                        epoch,
                        counts: WindowCounts::default(),
                    };
                }
                bucket.counts.add(failed, slow);
            }
        }
    }

    /// The counts of outcomes still inside the window at `now`.
    pub(crate) fn counts(&self, now: Nanos) -> WindowCounts {
        match self {
            Window::Count { totals, .. } => *totals,
            Window::Time {
                buckets,
                bucket_nanos,
            } => {
                let current = now.as_u64() / *bucket_nanos;
                let oldest = current.saturating_sub(TIME_BUCKETS - 1);
                let mut sum = WindowCounts::default();
                for b in buckets
                    .iter()
                    .filter(|b| (oldest..=current).contains(&b.epoch))
                {
                    sum.calls += b.counts.calls;
                    sum.failures += b.counts.failures;
                    sum.slow_calls += b.counts.slow_calls;
                }
                sum
            }
        }
    }

    /// Forgets every outcome.
    pub(crate) fn clear(&mut self) {
        match self {
            Window::Count {
                ring,
                next,
                filled,
                totals,
            } => {
                ring.fill(0);
                *next = 0;
                *filled = 0;
                *totals = WindowCounts::default();
            }
            Window::Time { buckets, .. } => buckets.fill(Bucket::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_window_slides() {
        let mut w = Window::count(3);
        let t = Nanos::ZERO;
        for _ in 0..3 {
            w.record(t, false, false);
        }
        w.record(t, true, true);
        w.record(t, true, false);
        let c = w.counts(t);
        assert_eq!((c.calls, c.failures, c.slow_calls), (3, 2, 1));
        w.record(t, false, false);
        w.record(t, false, false);
        w.record(t, false, false);
        assert_eq!(w.counts(t).failures, 0);
        w.clear();
        assert_eq!(w.counts(t), WindowCounts::default());
    }

    #[test]
    fn time_window_forgets_old_buckets() {
        let second = 1_000_000_000;
        let mut w = Window::time(10 * second);
        // Epoch 0 is a valid slice; start later to avoid the default bucket epoch.
        let t = |s: u64| Nanos::from_u64(100 * second + s * second);
        for _ in 0..50 {
            w.record(t(0), false, false);
        }
        w.record(t(9), true, false);
        assert_eq!(w.counts(t(9)).calls, 51);
        // Ten seconds later the 50 old successes are gone; only the failure remains.
        let c = w.counts(t(10));
        assert_eq!((c.calls, c.failures), (1, 1));
        // Nothing T or more old stays: the failure goes when it is ten seconds old.
        assert_eq!(w.counts(t(18)).calls, 1);
        assert_eq!(w.counts(t(19)).calls, 0);
    }
}
