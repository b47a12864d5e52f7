//! How long a breaker stays open: recovery timeout, backoff and jitter.

use std::time::Duration;

use crate::config::BreakerConfig;

/// The open time after `reopens` consecutive re-opens from half-open.
///
/// `recovery_timeout × backoff_multiplier^reopens`, capped by
/// `max_recovery_timeout`, then shortened by up to `jitter` of itself
/// (`unit` is a uniform draw in [0, 1)), never below one millisecond.
pub(crate) fn open_duration(config: &BreakerConfig, reopens: u32, unit: f64) -> Duration {
    let base = config.recovery_timeout.as_secs_f64();
    let exponent = i32::try_from(reopens).unwrap_or(i32::MAX);
    let mut secs = base * config.backoff_multiplier.powi(exponent);
    if let Some(cap) = config.max_recovery_timeout {
        secs = secs.min(cap.as_secs_f64());
    }
    secs *= 1.0 - config.jitter * unit;
    // try_from_secs_f64 fails only on overflow or NaN: saturate to "a very long time".
    Duration::try_from_secs_f64(secs)
        .unwrap_or(Duration::from_secs(u64::from(u32::MAX)))
        .max(Duration::from_millis(1).min(config.recovery_timeout))
}

/// A tiny xorshift generator for jitter; quality is irrelevant, cost is not.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    /// A uniform draw in [0, 1).
    pub(crate) fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(multiplier: f64, cap: Option<u64>, jitter: f64) -> BreakerConfig {
        BreakerConfig {
            recovery_timeout: Duration::from_secs(10),
            backoff_multiplier: multiplier,
            max_recovery_timeout: cap.map(Duration::from_secs),
            jitter,
            ..BreakerConfig::default()
        }
    }

    #[test]
    fn multiplies_and_caps() {
        let c = config(2.0, Some(35), 0.0);
        let secs: Vec<u64> = (0..4)
            .map(|k| open_duration(&c, k, 0.5).as_secs())
            .collect();
        assert_eq!(secs, [10, 20, 35, 35]);
        let c = config(1.0, None, 0.0);
        assert_eq!(open_duration(&c, 1000, 0.0), Duration::from_secs(10));
        let huge = config(10.0, None, 0.0);
        assert!(open_duration(&huge, u32::MAX, 0.0) > Duration::from_secs(1_000_000));
    }

    #[test]
    fn jitter_only_shortens_within_bounds() {
        let c = config(1.0, None, 0.2);
        let mut rng = Jitter::new(42);
        for _ in 0..1000 {
            let d = open_duration(&c, 0, rng.next_unit());
            assert!(d <= Duration::from_secs(10) && d >= Duration::from_secs(8));
        }
    }
}
