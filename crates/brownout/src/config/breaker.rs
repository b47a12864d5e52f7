//! One breaker's settings: policy, thresholds, windows, recovery and backoff.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::check::Check;
use super::duration;
use crate::error::ConfigError;

/// What opens a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Policy {
    /// `failure_threshold` consecutive failures open it; a success resets the count
    /// (the reference policy and the default).
    #[default]
    ConsecutiveFailures,
    /// A failure rate of at least `failure_rate_threshold` over the sliding
    /// window, once `minimum_calls` were seen, opens it.
    FailureRate,
}

/// The largest `failure_threshold`: the consecutive count shares the breaker's state word.
pub const MAX_FAILURE_THRESHOLD: u32 = (1 << 29) - 1;
/// The largest count window and `half_open_max_calls`, to bound memory.
pub const MAX_WINDOW: u32 = 1_000_000;

/// Settings of one circuit breaker. Every field has a default; see each field.
///
/// Under the `[dependencies.NAME]` table of a [`Config`](crate::Config) these
/// keys sit beside `weight`. Durations are strings such as `"30s"` or `"250ms"`;
/// rates are fractions in (0, 1].
///
/// ```
/// use brownout::BreakerConfig;
/// use std::time::Duration;
///
/// let config = BreakerConfig {
///     failure_threshold: 3,
///     recovery_timeout: Duration::from_secs(20),
///     ..BreakerConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// What opens the breaker. Default: `consecutive_failures`.
    pub policy: Policy,
    /// Consecutive failures that open the breaker under `consecutive_failures`.
    /// Default: 5. Range 1 to 536,870,911.
    pub failure_threshold: u32,
    /// Size of the count-based sliding window (the last N calls). Default: 100.
    /// Used by `failure_rate` and by slow-call detection unless `window_duration` is set.
    pub window: u32,
    /// When set, the sliding window is time-based instead: the last T, kept in
    /// ten buckets of T/10. Default: unset (count-based).
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub window_duration: Option<Duration>,
    /// Calls the window must have seen before a rate can open the breaker. Default: 10.
    /// A count window smaller than this opens once it is full.
    pub minimum_calls: u32,
    /// Failure rate, in (0, 1], at or above which `failure_rate` opens the breaker. Default: 0.5.
    pub failure_rate_threshold: f64,
    /// A call still running after this is a failure (metrics outcome
    /// `timeout`, [`Error::Timeout`](crate::Error::Timeout) to the caller):
    /// the way a dependency that hangs trips its breaker. `call(..).await`
    /// cuts the call off at the deadline with tokio's timer (feature
    /// `tokio`); otherwise a call that finishes after it counts as a
    /// timeout. Default: unset (calls may run for ever).
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub call_timeout: Option<Duration>,
    /// A call that finishes after this counts as slow. Only calls that
    /// finish are judged: a call that hangs is never counted here; set
    /// `call_timeout` for that. Default: unset (no slow-call detection).
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub slow_call_duration: Option<Duration>,
    /// Slow-call rate, in (0, 1], at or above which the breaker opens (with
    /// `slow_call_duration` set, under either policy). Default: 1.0.
    pub slow_call_rate_threshold: f64,
    /// How long the breaker stays open before a trial call is allowed. Default: 30 s.
    #[serde(with = "duration::required")]
    pub recovery_timeout: Duration,
    /// Each re-open from half-open multiplies the open time by this (≥ 1). Default: 1 (no backoff).
    pub backoff_multiplier: f64,
    /// Cap on the backed-off open time (≥ `recovery_timeout`). Default: unset (no cap).
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub max_recovery_timeout: Option<Duration>,
    /// Random reduction of each open time by up to this fraction, in [0, 1). Default: 0.
    pub jitter: f64,
    /// Trial calls admitted in half-open; that many successes close the breaker.
    /// Default: 1. Range 1 to 1,000,000.
    pub half_open_max_calls: u32,
    /// Trials that have not all answered within this after half-open began count as
    /// failed and re-open the breaker. Default: unset, meaning `recovery_timeout`.
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub half_open_timeout: Option<Duration>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            policy: Policy::ConsecutiveFailures,
            failure_threshold: 5,
            window: 100,
            window_duration: None,
            minimum_calls: 10,
            failure_rate_threshold: 0.5,
            call_timeout: None,
            slow_call_duration: None,
            slow_call_rate_threshold: 1.0,
            recovery_timeout: Duration::from_secs(30),
            backoff_multiplier: 1.0,
            max_recovery_timeout: None,
            jitter: 0.0,
            half_open_max_calls: 1,
            half_open_timeout: None,
        }
    }
}

impl BreakerConfig {
    /// Checks every field; the error names the first bad one (relative path).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field and the reason.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_at("")
    }

    /// Whether outcomes must go through a sliding window (rate or slow-call policy).
    pub(crate) fn uses_window(&self) -> bool {
        self.policy == Policy::FailureRate || self.slow_call_duration.is_some()
    }

    /// The effective half-open timeout.
    pub(crate) fn half_open_timeout(&self) -> Duration {
        self.half_open_timeout.unwrap_or(self.recovery_timeout)
    }

    pub(crate) fn validate_at(&self, prefix: &str) -> Result<(), ConfigError> {
        let c = Check::new(prefix);
        c.count(
            "failure_threshold",
            self.failure_threshold,
            MAX_FAILURE_THRESHOLD,
        )?;
        c.count("window", self.window, MAX_WINDOW)?;
        c.count("minimum_calls", self.minimum_calls, u32::MAX)?;
        c.count("half_open_max_calls", self.half_open_max_calls, MAX_WINDOW)?;
        c.rate("failure_rate_threshold", self.failure_rate_threshold)?;
        c.rate("slow_call_rate_threshold", self.slow_call_rate_threshold)?;
        c.nonzero("recovery_timeout", Some(self.recovery_timeout))?;
        c.nonzero("window_duration", self.window_duration)?;
        c.nonzero("call_timeout", self.call_timeout)?;
        c.nonzero("slow_call_duration", self.slow_call_duration)?;
        c.nonzero("max_recovery_timeout", self.max_recovery_timeout)?;
        c.nonzero("half_open_timeout", self.half_open_timeout)?;
        if !(self.backoff_multiplier.is_finite() && self.backoff_multiplier >= 1.0) {
            return Err(c.err("backoff_multiplier", "must be a finite number >= 1"));
        }
        if !(self.jitter.is_finite() && (0.0..1.0).contains(&self.jitter)) {
            return Err(c.err("jitter", "must be in [0, 1)"));
        }
        if let Some(max) = self.max_recovery_timeout
            && max < self.recovery_timeout
        {
            return Err(c.err("max_recovery_timeout", "must be >= recovery_timeout"));
        }
        Ok(())
    }
}
