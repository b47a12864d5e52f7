//! The errors the layers return, inside a [`BoxError`](crate::BoxError).
//!
//! Callers find them with `downcast_ref`:
//!
//! ```
//! use brownout_tower::error::{CallTimedOut, CircuitOpen, Shed};
//!
//! fn explain(err: &brownout_tower::BoxError) -> String {
//!     if let Some(open) = err.downcast_ref::<CircuitOpen>() {
//!         format!("{} is down, retry in {:?}", open.dependency(), open.retry_after())
//!     } else if let Some(late) = err.downcast_ref::<CallTimedOut>() {
//!         format!("{} did not answer within {:?}", late.dependency(), late.timeout())
//!     } else if let Some(shed) = err.downcast_ref::<Shed>() {
//!         format!("shed: {}", shed.held_off())
//!     } else {
//!         format!("upstream error: {err}")
//!     }
//! }
//! # let _ = explain;
//! ```

use std::fmt;
use std::time::Duration;

use brownout::{BreakerState, DependencyName, FeatureGate, HeldOff, Level, Rejected};

/// A retry hint as the whole seconds sent in `Retry-After`: rounded up, and
/// never below one second (a `0` invites an immediate retry storm).
pub(crate) fn retry_after_secs(hint: Duration) -> u64 {
    hint.as_secs()
        .saturating_add(u64::from(hint.subsec_nanos() > 0))
        .max(1)
}

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

    /// How long until a trial request may be let through: the rest of the
    /// open period, or for a half-open breaker with every trial slot taken,
    /// the time by which its trials answer or count as failed. It can be
    /// zero at the very deadline; the `Retry-After` of an HTTP answer is
    /// never below one second.
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
        write!(
            f,
            "dependency `{}` is {}: request rejected without calling it; retry after {} s",
            self.dependency(),
            self.state(),
            retry_after_secs(self.retry_after())
        )
    }
}

impl std::error::Error for CircuitOpen {}

/// A [`BreakerLayer`](crate::BreakerLayer) call outlived its dependency's
/// `call_timeout`: the inner future was dropped (or, without a timer,
/// answered too late) and the call counted as a failure.
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use std::time::Duration;
/// use brownout::{Breaker, BreakerConfig, BreakerState};
/// use brownout_tower::{BreakerLayer, error::CallTimedOut};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = BreakerConfig {
///     call_timeout: Some(Duration::from_secs(2)),
///     failure_threshold: 1,
///     ..BreakerConfig::default()
/// };
/// let breaker = Breaker::new("payments", config)?;
/// let hangs = service_fn(|()| std::future::pending::<Result<(), std::io::Error>>());
/// let err = BreakerLayer::new(breaker.clone()).layer(hangs).oneshot(()).await.unwrap_err();
/// let late = err.downcast_ref::<CallTimedOut>().expect("cut off at the call timeout");
/// assert_eq!((late.dependency(), late.timeout()), ("payments", Duration::from_secs(2)));
/// assert_eq!(breaker.state(), BreakerState::Open);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTimedOut {
    dependency: DependencyName,
    timeout: Duration,
}

impl CallTimedOut {
    #[cold]
    pub(crate) fn new(dependency: &str, timeout: Duration) -> Self {
        CallTimedOut {
            dependency: DependencyName::new(dependency),
            timeout,
        }
    }

    /// The dependency whose call timed out.
    #[must_use]
    pub fn dependency(&self) -> &str {
        &self.dependency
    }

    /// The `call_timeout` the call outlived.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl fmt::Display for CallTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "call to `{}` timed out after {:?}",
            self.dependency(),
            self.timeout
        )
    }
}

impl std::error::Error for CallTimedOut {}

/// A [`GateLayer`](crate::GateLayer) shed a request without calling the
/// inner service: its feature is off, or the level is below the minimum.
///
/// It says why ([`held_off`](Self::held_off): the level, or the open
/// dependency the feature requires) and when to ask again
/// ([`retry_after`](Self::retry_after)).
#[derive(Debug, Clone)]
pub struct Shed {
    feature: Option<FeatureGate>,
    level: Level,
    required: Level,
    held_off: HeldOff,
    retry_after: Duration,
}

impl Shed {
    #[cold]
    pub(crate) fn new(
        feature: Option<FeatureGate>,
        level: Level,
        required: Level,
        held_off: HeldOff,
        hint: Duration,
    ) -> Self {
        Shed {
            retry_after: held_off.retry_after().unwrap_or(hint),
            feature,
            level,
            required,
            held_off,
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

    /// Why the request was shed: the level
    /// ([`HeldOff::Level`]), or an open dependency the feature requires
    /// ([`HeldOff::Dependency`]).
    #[must_use]
    pub fn held_off(&self) -> &HeldOff {
        &self.held_off
    }

    /// The open dependency that holds the feature off, if that is the reason.
    #[must_use]
    pub fn dependency(&self) -> Option<&str> {
        match &self.held_off {
            HeldOff::Dependency { dependency, .. } => Some(dependency),
            _ => None,
        }
    }

    /// When asking again may succeed: the blocking breaker's time to its
    /// next trial (for a level, the soonest trial of any open breaker), or
    /// the gate's configured hint when there is no estimate. An HTTP answer
    /// sends it rounded up to whole seconds, never below one.
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for Shed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.feature(), &self.held_off) {
            // A dependency, or a reload that removed the feature: say which.
            (Some(name), held) if !matches!(held, HeldOff::Level { .. }) => {
                write!(f, "feature `{name}` is off because {held}")?;
            }
            (Some(name), _) => write!(
                f,
                "feature `{name}` is off at level {} (it needs {})",
                self.level, self.required
            )?,
            (None, _) => write!(f, "level {} is below {}", self.level, self.required)?,
        }
        write!(f, "; retry after {} s", retry_after_secs(self.retry_after))
    }
}

impl std::error::Error for Shed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_nanos(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(999)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_secs(Duration::from_millis(299_500)), 300);
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
    }
}
