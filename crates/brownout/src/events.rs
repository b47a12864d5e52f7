//! Announcements of breaker transitions and level changes as `tracing` events
//! (target `brownout`), made after every lock is released: WARN going down,
//! INFO going up; nothing per call.
//!
//! Fields: `dependency`, `from`, `to` on breaker transitions, plus `score`
//! and `level` (the manager's, after the transition) when the breaker belongs
//! to a manager; `from`, `to`, `level`, `score`, `cause` on level changes.

#[cfg(feature = "tracing")]
use crate::breaker::BreakerState;
use crate::breaker::Transition;
use crate::level::Level;
use crate::manager::LevelChange;

/// How healthy a state is, for telling "down" from "up".
#[cfg(feature = "tracing")]
fn rank(state: BreakerState) -> u8 {
    match state {
        BreakerState::Closed | BreakerState::Disabled => 2,
        BreakerState::HalfOpen => 1,
        BreakerState::Open | BreakerState::ForcedOpen => 0,
    }
}

/// Whether a breaker transition is a step down (reported at WARN).
#[cfg(feature = "tracing")]
fn is_downward(transition: &Transition) -> bool {
    rank(transition.to) < rank(transition.from)
}

/// A breaker transition; `after` is the manager's score and level once it
/// has folded the transition in (`None` for a standalone breaker).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn breaker_transition(
    dependency: &str,
    transition: Transition,
    after: Option<(f64, Level)>,
) {
    #[cfg(feature = "tracing")]
    {
        let (from, to) = (transition.from.as_str(), transition.to.as_str());
        let (score, level) = match after {
            Some((score, level)) => (Some(score), Some(level.as_str())),
            None => (None, None),
        };
        if is_downward(&transition) {
            tracing::warn!(target: "brownout", dependency, from, to, score, level, "circuit breaker transition");
        } else {
            tracing::info!(target: "brownout", dependency, from, to, score, level, "circuit breaker transition");
        }
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn level_change(change: &LevelChange) {
    #[cfg(feature = "tracing")]
    {
        let (from, to) = (change.from.as_str(), change.to.as_str());
        let (score, cause) = (change.score, tracing::field::display(&change.cause));
        if change.to < change.from {
            tracing::warn!(target: "brownout", from, to, level = to, score, cause, "degradation level changed");
        } else {
            tracing::info!(target: "brownout", from, to, level = to, score, cause, "degradation level changed");
        }
    }
}

pub(crate) fn listener_panicked() {
    #[cfg(feature = "tracing")]
    tracing::error!(target: "brownout", "a level-change listener panicked; the manager carries on");
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn unknown_feature(name: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "brownout", feature = name, "unknown feature asked for; answering disabled");
}

#[cfg(feature = "tokio")]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn probe_failed(dependency: &str, reason: &str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: "brownout", dependency, reason, "health probe failed");
}
