//! The errors the layers return, inside a [`BoxError`](crate::BoxError).
//!
//! Callers find them with `downcast_ref`:
//!
//! ```
//! use brownout_tower::error::CircuitOpen;
//!
//! fn explain(err: &brownout_tower::BoxError) -> String {
//!     match err.downcast_ref::<CircuitOpen>() {
//!         Some(open) => format!("{} is down, retry in {:?}", open.dependency(), open.retry_after()),
//!         None => format!("upstream error: {err}"),
//!     }
//! }
//! # let _ = explain;
//! ```

use std::fmt;
use std::time::Duration;

use brownout::{BreakerState, FeatureGate, Level, Rejected};

/// A [`BreakerLayer`](crate::BreakerLayer) refused a request without calling
/// the inner service: the dependency's breaker is open, forced open, or
/// half-open with every trial slot taken.
///
/// It wraps the core's [`Rejected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitOpen {
    rejected: Rejected,
}

impl CircuitOpen {
    pub(crate) fn new(rejected: Rejected) -> Self {
        CircuitOpen { rejected }
    }

    /// The dependency whose breaker refused the request.
    #[must_use]
    pub fn dependency(&self) -> &str {
        self.rejected.dependency()
    }

    /// The breaker's state when it refused.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.rejected.state()
    }

    /// How long until a trial request may be let through (zero when a
    /// half-open breaker is only waiting for its trials to answer).
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.rejected.retry_after()
    }

    /// The core's rejection, as [`Breaker::call`](brownout::Breaker::call) reports it.
    #[must_use]
    pub fn rejected(&self) -> &Rejected {
        &self.rejected
    }
}

impl From<Rejected> for CircuitOpen {
    fn from(rejected: Rejected) -> Self {
        CircuitOpen::new(rejected)
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.rejected, f)
    }
}

impl std::error::Error for CircuitOpen {}

/// A [`GateLayer`](crate::GateLayer) shed a request without calling the inner
/// service: its feature is off, or the level is below the minimum.
#[derive(Debug, Clone)]
pub struct Shed {
    feature: Option<FeatureGate>,
    level: Level,
    required: Level,
    retry_after: Duration,
}

impl Shed {
    pub(crate) fn new(
        feature: Option<FeatureGate>,
        level: Level,
        required: Level,
        retry_after: Duration,
    ) -> Self {
        Shed {
            feature,
            level,
            required,
            retry_after,
        }
    }

    /// The feature that is off, for a gate on a feature; `None` for a gate on a level.
    #[must_use]
    pub fn feature(&self) -> Option<&str> {
        self.feature.as_ref().map(FeatureGate::name)
    }

    /// The effective level when the request was shed.
    #[must_use]
    pub fn level(&self) -> Level {
        self.level
    }

    /// The lowest level at which the request would have passed (the
    /// feature's `min_level`, or the gate's minimum).
    #[must_use]
    pub fn required_level(&self) -> Level {
        self.required
    }

    /// The retry hint the gate was configured with (the `Retry-After` of a `503`).
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for Shed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.feature() {
            Some(name) => write!(f, "feature `{name}` is off at level {}", self.level)?,
            None => write!(f, "level {} is below {}", self.level, self.required)?,
        }
        write!(f, ": request shed, retry after {:?}", self.retry_after)
    }
}

impl std::error::Error for Shed {}

/// [`BreakerLayer::from_manager`](crate::BreakerLayer::from_manager) was given
/// a dependency the manager does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDependency {
    name: String,
}

impl UnknownDependency {
    pub(crate) fn new(name: &str) -> Self {
        UnknownDependency {
            name: name.to_owned(),
        }
    }

    /// The name that was asked for.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for UnknownDependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown dependency `{}`", self.name)
    }
}

impl std::error::Error for UnknownDependency {}
