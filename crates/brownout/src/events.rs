//! Announcements of breaker transitions and level changes, made after every
//! lock is released: `tracing` events (target `brownout`), WARN going down,
//! INFO going up; nothing per call.

use crate::breaker::{BreakerState, Transition};
use crate::level::Level;

/// How healthy a state is, for telling "down" from "up".
fn rank(state: BreakerState) -> u8 {
    match state {
        BreakerState::Closed | BreakerState::Disabled => 2,
        BreakerState::HalfOpen => 1,
        BreakerState::Open | BreakerState::ForcedOpen => 0,
    }
}

/// Whether a breaker transition is a step down (reported at WARN).
pub(crate) fn is_downward(transition: &Transition) -> bool {
    rank(transition.to) < rank(transition.from)
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn breaker_transition(dependency: &str, transition: Transition) {
    #[cfg(feature = "tracing")]
    {
        let (from, to) = (transition.from.as_str(), transition.to.as_str());
        if is_downward(&transition) {
            tracing::warn!(target: "brownout", dependency, from, to, "circuit breaker transition");
        } else {
            tracing::info!(target: "brownout", dependency, from, to, "circuit breaker transition");
        }
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn level_change(from: Level, to: Level, score: f64) {
    #[cfg(feature = "tracing")]
    {
        let down = to < from;
        let (from, to) = (from.as_str(), to.as_str());
        if down {
            tracing::warn!(target: "brownout", from, to, level = to, score, "degradation level changed");
        } else {
            tracing::info!(target: "brownout", from, to, level = to, score, "degradation level changed");
        }
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn unknown_feature(name: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "brownout", feature = name, "unknown feature asked for; answering disabled");
}
