//! One state change of a breaker.

use crate::name::DependencyName;
use crate::nanos::Nanos;
use crate::state::BreakerState;

/// One state change of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
    /// When, on the breaker's clock.
    pub at: Nanos,
}

impl Transition {
    /// Whether the breaker got less healthy (reported at WARN).
    #[must_use]
    pub fn is_downward(&self) -> bool {
        self.to.health() < self.from.health()
    }
}

/// Told about every transition of a breaker, after the breaker's lock is
/// released (the manager folds it into the score and announces it).
pub(crate) trait TransitionListener: Send + Sync {
    fn on_transition(&self, dependency: &DependencyName, transition: Transition);
}
