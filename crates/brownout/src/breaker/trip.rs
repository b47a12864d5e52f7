//! Why a breaker opened, as recorded at the moment it opened.

use serde::Serialize;

use super::window::WindowCounts;
use crate::nanos::Nanos;

/// Why a breaker opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TripCause {
    /// `failure_threshold` failures in a row.
    ConsecutiveFailures,
    /// The failure rate over the window reached `failure_rate_threshold`.
    FailureRate,
    /// The slow-call rate over the window reached `slow_call_rate_threshold`.
    SlowCallRate,
    /// A half-open trial failed (or was slow).
    TrialFailed,
    /// Half-open trials did not all answer within `half_open_timeout`.
    TrialsTimedOut,
    /// Opened by hand with `force_open`.
    Forced,
    /// Opened on its peers' word: enough other replicas of the service
    /// reported the dependency open ([`Breaker::trip_by_peers`](crate::Breaker::trip_by_peers)).
    Peers,
}

/// What opened a breaker, as recorded at the moment it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trip {
    pub(crate) cause: TripCause,
    pub(crate) consecutive_failures: u32,
    pub(crate) window: Option<WindowCounts>,
    pub(crate) at: Nanos,
}
