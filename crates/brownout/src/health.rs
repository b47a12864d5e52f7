//! Pass, warn or fail: the one mapping from breaker states and levels to health.

use std::fmt;

use serde::Serialize;

/// How healthy something is, in the vocabulary of health-check responses
/// (`application/health+json`): ordered `Fail < Warn < Pass`.
///
/// [`BreakerState::health`](crate::BreakerState::health) and
/// [`Level::health`](crate::Level::health) are the only mappings; health
/// routes, status pages and log levels all use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Down: a breaker that rejects calls, or the EMERGENCY level.
    Fail,
    /// Working with reduced capacity: a breaker under trial, or a level
    /// between DEGRADED and MINIMAL.
    Warn,
    /// Fully up: a closed (or disabled) breaker, or the OPTIMAL level.
    Pass,
}

impl Health {
    /// `"pass"`, `"warn"` or `"fail"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Health::Pass => "pass",
            Health::Warn => "warn",
            Health::Fail => "fail",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
