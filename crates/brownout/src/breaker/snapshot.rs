//! A serialisable view of one breaker.

use std::time::Duration;

use serde::Serialize;

use super::engine::Observed;
use super::trip::TripCause;
use super::window::WindowCounts;
use crate::serde_millis;
use crate::state::BreakerState;

/// One breaker's state, recent counts and timings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BreakerSnapshot {
    /// The dependency's name.
    pub name: String,
    /// The current state.
    pub state: BreakerState,
    /// Consecutive failures counted in the current closed generation.
    pub consecutive_failures: u32,
    /// Counts of the sliding window, for rate and slow-call policies. The
    /// window starts empty at every state change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowCounts>,
    /// Half-open trial calls in flight.
    pub trials_in_flight: u32,
    /// Time until a trial is allowed, while open (milliseconds in JSON).
    #[serde(rename = "retry_after_ms", serialize_with = "serde_millis::optional")]
    pub retry_after: Option<Duration>,
    /// The last state change, if any: since when the breaker is in its state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition: Option<TransitionSnapshot>,
    /// What opened the breaker the last time it opened, with the counts it
    /// saw then (kept after it closes again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_trip: Option<TripSnapshot>,
}

/// The last state change of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TransitionSnapshot {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
    /// How long ago (milliseconds in JSON).
    #[serde(rename = "ago_ms", serialize_with = "serde_millis::required")]
    pub ago: Duration,
}

/// The counts that opened a breaker, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TripSnapshot {
    /// What opened it.
    pub cause: TripCause,
    /// Consecutive failures at that moment.
    pub consecutive_failures: u32,
    /// The sliding window's counts at that moment, for rate and slow-call policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowCounts>,
    /// How long ago (milliseconds in JSON).
    #[serde(rename = "ago_ms", serialize_with = "serde_millis::required")]
    pub ago: Duration,
}

impl BreakerSnapshot {
    pub(crate) fn of(name: &str, o: Observed) -> Self {
        BreakerSnapshot {
            name: name.to_owned(),
            state: o.state,
            consecutive_failures: o.consecutive_failures,
            window: o.window,
            trials_in_flight: o.trials_in_flight,
            retry_after: o.retry_after,
            last_transition: o.last_transition.map(|t| TransitionSnapshot {
                from: t.from,
                to: t.to,
                ago: o.now.saturating_since(t.at),
            }),
            last_trip: o.last_trip.map(|t| TripSnapshot {
                cause: t.cause,
                consecutive_failures: t.consecutive_failures,
                window: t.window,
                ago: o.now.saturating_since(t.at),
            }),
        }
    }
}
