//! Announcements of breaker transitions and level changes as `tracing` events
//! (target `brownout`), made after every lock is released: WARN going down,
//! INFO going up; nothing per call.
//!
//! Fields: `dependency`, `from`, `to` on breaker transitions, plus `score`
//! and `level` (the manager's, after the transition) when the breaker belongs
//! to a manager; `from`, `to`, `level`, `score`, `cause` on level changes.

use crate::change::LevelChange;
use crate::level::Level;
use crate::transition::Transition;

/// The longest unknown feature name logged in full.
#[cfg(feature = "tracing")]
const LOGGED_NAME_MAX: usize = 128;

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
        if transition.is_downward() {
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
    {
        let cut = (0..=LOGGED_NAME_MAX.min(name.len()))
            .rev()
            .find(|&i| name.is_char_boundary(i))
            .unwrap_or(0);
        let feature = &name[..cut];
        tracing::warn!(target: "brownout", feature, "unknown feature asked for; answering disabled");
    }
}

pub(crate) fn delivery_thread_failed() {
    #[cfg(feature = "tracing")]
    tracing::error!(target: "brownout", "could not start the level-change delivery thread; retrying at the next change");
}

#[cfg(feature = "tokio")]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn probe_failed(dependency: &str, reason: &str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: "brownout", dependency, reason, "health probe failed");
}

#[cfg(feature = "watch")]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn config_reloaded(path: &std::path::Path) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: "brownout", path = %path.display(), "configuration reloaded");
}

#[cfg(feature = "watch")]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn config_rejected(error: &crate::error::ReloadError) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "brownout", %error, "configuration reload refused; keeping the last good configuration");
}
