//! Changes of the effective level and their causes.

use std::fmt;

use serde::Serialize;

use crate::level::Level;
use crate::name::DependencyName;
use crate::nanos::Nanos;
use crate::state::BreakerState;

/// One change of the effective level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LevelChange {
    /// The level before.
    pub from: Level,
    /// The level after.
    pub to: Level,
    /// The health score after the change.
    pub score: f64,
    /// What caused it.
    pub cause: ChangeCause,
    /// When, on the manager's clock.
    #[serde(skip)]
    pub at: Nanos,
}

/// What made the level change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeCause {
    /// The state the manager started in (the first value a subscriber sees).
    Initial,
    /// A dependency's breaker changed state.
    Breaker {
        /// The dependency.
        dependency: DependencyName,
        /// Its breaker's state before.
        from: BreakerState,
        /// Its breaker's state after.
        to: BreakerState,
    },
    /// [`force_level`](crate::DegradationManager::force_level) or
    /// [`clear_override`](crate::DegradationManager::clear_override).
    Override,
    /// A deadline passed: an upgrade hold completed or an override's TTL ran out.
    Deadline,
    /// An explicit [`refresh`](crate::DegradationManager::refresh).
    Refresh,
    /// A [reload](crate::DegradationManager::reconfigure) changed weights,
    /// thresholds, caps or dependencies.
    Reconfigured,
}

impl fmt::Display for ChangeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeCause::Initial => f.write_str("initial"),
            ChangeCause::Breaker {
                dependency,
                from,
                to,
            } => write!(f, "breaker {dependency} {from} -> {to}"),
            ChangeCause::Override => f.write_str("override"),
            ChangeCause::Deadline => f.write_str("deadline"),
            ChangeCause::Refresh => f.write_str("refresh"),
            ChangeCause::Reconfigured => f.write_str("reconfigured"),
        }
    }
}
