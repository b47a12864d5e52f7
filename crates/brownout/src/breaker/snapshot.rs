//! A serialisable view of one breaker.

use std::time::Duration;

use serde::Serialize;

use super::engine::Observed;
use super::state::BreakerState;
use super::window::WindowCounts;

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
    /// Counts of the sliding window, for rate and slow-call policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowCounts>,
    /// Half-open trial calls in flight.
    pub trials_in_flight: u32,
    /// Time until a trial is allowed, while open (milliseconds in JSON).
    #[serde(rename = "retry_after_ms", serialize_with = "opt_millis")]
    pub retry_after: Option<Duration>,
    /// The last state change, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition: Option<TransitionSnapshot>,
}

/// The last state change of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TransitionSnapshot {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
    /// How long ago (milliseconds in JSON).
    #[serde(rename = "ago_ms", serialize_with = "millis")]
    pub ago: Duration,
}

impl BreakerSnapshot {
    pub(crate) fn of(name: &str, o: Observed) -> Self {
        BreakerSnapshot {
            name: name.to_owned(),
            state: o.word.state(),
            consecutive_failures: o.word.failures(),
            window: o.window,
            trials_in_flight: o.trials_in_flight,
            retry_after: o.retry_after,
            last_transition: o.last_transition.map(|t| TransitionSnapshot {
                from: t.from,
                to: t.to,
                ago: o.now.saturating_since(t.at),
            }),
        }
    }
}

pub(crate) fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn opt_millis<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => millis(d, s),
        None => s.serialize_none(),
    }
}
