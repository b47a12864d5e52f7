//! Time sources. Core code reads time only through [`Clock`], so tests can move
//! it by hand with [`ManualClock`].
//!
//! ```
//! use brownout::clock::{Clock, ManualClock};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let shared = clock.clone(); // clones share one time
//! let t0 = clock.now();
//! shared.advance(Duration::from_secs(30));
//! assert_eq!(clock.now().saturating_since(t0), Duration::from_secs(30));
//! ```

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use crate::nanos::Nanos;
use crate::nanos::duration_to_u64;

/// A monotonic time source.
///
/// `now` must never go backwards. `now_coarse` may lag `now` by a few
/// milliseconds but must be on the same time line; breakers use it on the
/// rejection path, where a precise read would cost more than the decision.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time, as precisely as the source allows.
    fn now(&self) -> Nanos;

    /// The current time, possibly a few milliseconds stale but cheaper to read.
    fn now_coarse(&self) -> Nanos {
        self.now()
    }
}

/// The operating system's monotonic clock (the default).
///
/// On Linux `now_coarse` reads `CLOCK_MONOTONIC_COARSE` (a few nanoseconds,
/// tick resolution); elsewhere both reads use [`std::time::Instant`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MonotonicClock;

impl Clock for MonotonicClock {
    #[inline]
    fn now(&self) -> Nanos {
        system::now()
    }

    #[inline]
    fn now_coarse(&self) -> Nanos {
        system::now_coarse()
    }
}

/// A clock that moves only when told to: the time source for tests.
///
/// Cheap to clone; clones share one time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at its origin.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let by = duration_to_u64(by);
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Nanos {
        Nanos::from_u64(self.nanos.load(Ordering::Acquire))
    }
}

/// Time as tokio sees it (feature `tokio`): paused and advanced together with
/// `tokio::time` in tests (`#[tokio::test(start_paused = true)]`,
/// `tokio::time::advance`), so breakers, probes and timers move as one.
///
/// Clones share one origin.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

#[cfg(feature = "tokio")]
impl TokioClock {
    /// A clock whose origin is tokio's now.
    #[must_use]
    pub fn new() -> Self {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

#[cfg(feature = "tokio")]
impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "tokio")]
impl Clock for TokioClock {
    fn now(&self) -> Nanos {
        Nanos::from_u64(duration_to_u64(self.origin.elapsed()))
    }
}

/// The clock a breaker or manager holds: the system clock without a virtual
/// call, or any other clock behind an `Arc`.
#[derive(Clone, Debug, Default)]
pub(crate) enum ClockSource {
    #[default]
    System,
    Shared(Arc<dyn Clock>),
}

impl ClockSource {
    pub(crate) fn new<C: Clock>(clock: C) -> Self {
        if TypeId::of::<C>() == TypeId::of::<MonotonicClock>() {
            ClockSource::System
        } else {
            ClockSource::Shared(Arc::new(clock))
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Nanos {
        match self {
            ClockSource::System => system::now(),
            ClockSource::Shared(clock) => clock.now(),
        }
    }

    #[inline]
    pub(crate) fn now_coarse(&self) -> Nanos {
        match self {
            ClockSource::System => system::now_coarse(),
            ClockSource::Shared(clock) => clock.now_coarse(),
        }
    }
}

#[cfg(target_os = "linux")]
mod system {
    use super::Nanos;
    use rustix::time::{ClockId, Timespec, clock_gettime};

    #[inline]
    fn to_nanos(ts: Timespec) -> Nanos {
        // CLOCK_MONOTONIC never reports negative values.
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nsec = u64::try_from(ts.tv_nsec).unwrap_or(0);
        Nanos::from_u64(secs.saturating_mul(1_000_000_000).saturating_add(nsec))
    }

    #[inline]
    pub(super) fn now() -> Nanos {
        to_nanos(clock_gettime(ClockId::Monotonic))
    }

    #[inline]
    pub(super) fn now_coarse() -> Nanos {
        to_nanos(clock_gettime(ClockId::MonotonicCoarse))
    }
}

#[cfg(not(target_os = "linux"))]
mod system {
    use super::Nanos;
    use std::sync::OnceLock;
    use std::time::Instant;

    static ORIGIN: OnceLock<Instant> = OnceLock::new();

    #[allow(clippy::disallowed_methods)] // this is the one place that reads the OS clock
    pub(super) fn now() -> Nanos {
        let origin = *ORIGIN.get_or_init(Instant::now);
        Nanos::from_u64(crate::nanos::duration_to_u64(origin.elapsed()))
    }

    pub(super) fn now_coarse() -> Nanos {
        now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_monotonic_and_coarse_is_close() {
        let c = ClockSource::new(MonotonicClock);
        assert!(matches!(c, ClockSource::System));
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        let coarse = c.now_coarse();
        assert!(coarse.saturating_since(b) < Duration::from_millis(100));
        assert!(b.saturating_since(coarse) < Duration::from_millis(100));
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let clock = ManualClock::new();
        let source = ClockSource::new(clock.clone());
        clock.advance(Duration::from_millis(250));
        assert_eq!(source.now(), Nanos::from_u64(250_000_000));
        assert_eq!(source.now_coarse(), source.now());
    }
}
