//! A point in time as `u64` nanoseconds on the clock's own time line.

use std::fmt;
use std::time::Duration;

/// Nanoseconds since an arbitrary, clock-specific origin.
///
/// Saturating arithmetic: time never wraps and a difference is never negative.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nanos(u64);

impl Nanos {
    /// The origin of the time line.
    pub const ZERO: Nanos = Nanos(0);
    /// The far future: a deadline that is never reached.
    pub const MAX: Nanos = Nanos(u64::MAX);

    /// Wraps a raw nanosecond count.
    #[must_use]
    pub const fn from_u64(nanos: u64) -> Self {
        Nanos(nanos)
    }

    /// The raw nanosecond count.
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at [`Nanos::MAX`].
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        Nanos(self.0.saturating_add(duration_to_u64(d)))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    pub fn saturating_since(self, earlier: Nanos) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// A duration as nanoseconds, saturating at `u64::MAX` (about 584 years).
#[must_use]
pub(crate) fn duration_to_u64(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Duration::from_nanos(self.0), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_both_ways() {
        let t = Nanos::from_u64(10);
        assert_eq!(t.saturating_since(Nanos::from_u64(20)), Duration::ZERO);
        assert_eq!(
            Nanos::MAX.saturating_add(Duration::from_secs(1)),
            Nanos::MAX
        );
        assert_eq!(format!("{:?}", Nanos::from_u64(1_500_000_000)), "1.5s");
    }
}
