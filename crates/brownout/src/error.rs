//! Errors: a rejected call, a timed-out call, a wrapped call's own error,
//! bad configuration, unknown names.

use std::fmt;
use std::time::Duration;

use crate::name::DependencyName;
use crate::state::BreakerState;

/// The error of [`Breaker::call`](crate::Breaker::call) and
/// [`Breaker::call_sync`](crate::Breaker::call_sync).
///
/// `E` is unbounded: a `&str` error works. `Error<E>` implements
/// [`std::error::Error`] where `E` does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The breaker did not let the call through; the closure never ran.
    Rejected(Rejected),
    /// The call outlived its dependency's `call_timeout` (counted as a failure).
    Timeout(TimedOut),
    /// The call ran and returned this error.
    Inner(E),
}

impl<E> Error<E> {
    /// The inner error, if the call ran and failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Inner(e) => Some(e),
            Error::Rejected(_) | Error::Timeout(_) => None,
        }
    }

    /// The rejection, if the breaker refused the call.
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Error::Rejected(r) => Some(r),
            Error::Timeout(_) | Error::Inner(_) => None,
        }
    }

    /// The timeout, if the call outlived its `call_timeout`.
    pub fn timed_out(&self) -> Option<&TimedOut> {
        match self {
            Error::Timeout(t) => Some(t),
            Error::Rejected(_) | Error::Inner(_) => None,
        }
    }
}

impl<E> From<Rejected> for Error<E> {
    fn from(r: Rejected) -> Self {
        Error::Rejected(r)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected(r) => fmt::Display::fmt(r, f),
            Error::Timeout(t) => fmt::Display::fmt(t, f),
            Error::Inner(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Rejected(_) | Error::Timeout(_) => None,
            Error::Inner(e) => Some(e),
        }
    }
}

/// A breaker refused a call: which dependency, in which state, and when to try again.
///
/// Building it on the rejection path allocates nothing: the name is copied
/// inline (or, past 15 bytes, shares the breaker's allocation), and it moves
/// as whole words, so `Result`s carrying it stay cheap to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "circuit breaker `{}` is {}: call rejected, retry after {:?}",
    self.dependency(),
    self.state(),
    self.retry_after()
)]
pub struct Rejected {
    dependency: DependencyName,
    /// The state in the top 3 bits, the time to retry in nanoseconds below
    /// (saturating at about 73 years).
    packed: u64,
}

/// Bits of `Rejected::packed` below the state.
const STATE_SHIFT: u32 = 61;
/// The largest retry `Rejected` holds, in nanoseconds.
const RETRY_MAX: u64 = (1 << STATE_SHIFT) - 1;

impl Rejected {
    /// A state and a retry time in one word, as a rejection keeps them.
    pub(crate) const fn pack(state: BreakerState, retry_nanos: u64) -> u64 {
        let retry = if retry_nanos > RETRY_MAX {
            RETRY_MAX
        } else {
            retry_nanos
        };
        ((state as u64) << STATE_SHIFT) | retry
    }

    /// A rejection from a word made by [`pack`](Self::pack).
    #[inline]
    pub(crate) const fn from_packed(dependency: DependencyName, packed: u64) -> Self {
        Rejected { dependency, packed }
    }

    /// The dependency whose breaker rejected the call.
    #[must_use]
    pub fn dependency(&self) -> &str {
        &self.dependency
    }

    /// The breaker's state at the time of rejection.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        BreakerState::from_code(self.packed >> STATE_SHIFT)
    }

    /// How long until a trial call may be allowed: the rest of the open
    /// period, or, when a half-open breaker has every trial slot taken, the
    /// time by which its trials answer or count as failed.
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        Duration::from_nanos(self.packed & RETRY_MAX)
    }
}

/// A call outlived its dependency's `call_timeout`.
///
/// ```
/// use brownout::{Breaker, BreakerConfig, Error};
/// use brownout::clock::ManualClock;
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let config = BreakerConfig { call_timeout: Some(Duration::from_secs(2)), ..Default::default() };
/// let breaker = Breaker::with_clock("payments", config, clock.clone())?;
/// let result = breaker.call_sync(|| {
///     clock.advance(Duration::from_secs(3)); // the call takes 3 s
///     Ok::<_, &str>("late")
/// });
/// match result {
///     Err(Error::Timeout(t)) => {
///         assert_eq!(t.dependency(), "payments");
///         assert_eq!(t.timeout(), Duration::from_secs(2));
///     }
///     other => panic!("expected a timeout, got {other:?}"),
/// }
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("call to `{}` timed out after {:?}", self.dependency(), self.timeout())]
pub struct TimedOut {
    dependency: DependencyName,
    /// Nanoseconds (a `call_timeout` beyond 584 years saturates).
    timeout_nanos: u64,
}

impl TimedOut {
    pub(crate) fn new(dependency: DependencyName, timeout: Duration) -> Self {
        TimedOut {
            dependency,
            timeout_nanos: crate::nanos::duration_to_u64(timeout),
        }
    }

    /// The dependency whose call timed out.
    #[must_use]
    pub fn dependency(&self) -> &str {
        &self.dependency
    }

    /// The `call_timeout` it outlived.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        Duration::from_nanos(self.timeout_nanos)
    }
}

/// An invalid configuration value: the full field path and the reason.
///
/// ```
/// let err = brownout::Config::from_toml_str("[dependencies.openai]\nweight = 0\n").unwrap_err();
/// assert_eq!(err.path(), "dependencies.openai.weight");
/// assert_eq!(err.to_string(), "dependencies.openai.weight: must be > 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigError {
    path: String,
    reason: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The dotted path of the offending field (`dependencies.openai.weight`);
    /// empty for a TOML syntax error that precedes any field.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Why the value was refused (`must be > 0`).
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// [`spawn_background`](crate::DegradationManager::spawn_background) was
/// called outside a tokio runtime.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no tokio runtime: call spawn_background from within a tokio runtime")]
#[non_exhaustive]
pub struct NoRuntime;

/// A feature name that the manager does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown feature `{name}`")]
pub struct UnknownFeature {
    pub(crate) name: String,
}

impl UnknownFeature {
    /// The name that was asked for.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A dependency name that the manager does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dependency `{name}`")]
pub struct UnknownDependency {
    pub(crate) name: String,
}

impl UnknownDependency {
    /// The name that was asked for.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_displays_and_chains() {
        let e: Error<std::io::Error> = Error::Inner(std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "boom");
        assert!(std::error::Error::source(&e).is_some());
        let r = Rejected::from_packed(
            DependencyName::new("openai"),
            Rejected::pack(BreakerState::Open, 3_000_000_000),
        );
        assert_eq!(r.retry_after(), Duration::from_secs(3));
        assert!(std::mem::size_of::<Rejected>() <= 32);
        assert!(std::mem::size_of::<TimedOut>() <= 32);
        for state in BreakerState::ALL {
            let r =
                Rejected::from_packed(DependencyName::new("x"), Rejected::pack(state, u64::MAX));
            assert_eq!(
                (r.state(), r.retry_after()),
                (state, Duration::from_nanos(RETRY_MAX))
            );
        }
        let e: Error<&str> = r.into();
        assert_eq!(
            e.to_string(),
            "circuit breaker `openai` is open: call rejected, retry after 3s"
        );
        assert_eq!(e.rejected().map(Rejected::dependency), Some("openai"));
    }
}

/// A config file that could not be applied: unreadable, or not a valid
/// configuration. The manager keeps the configuration it had.
///
/// ```
/// use brownout::{DegradationManager, ReloadError};
///
/// let manager = DegradationManager::builder().build()?;
/// let err = manager.reload_file("no/such/brownout.toml").unwrap_err();
/// assert!(matches!(err, ReloadError::Read { .. }));
/// assert!(err.to_string().starts_with("no/such/brownout.toml: "));
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty (or only whitespace): most likely a save caught
    /// half-way, between truncating the file and writing it. Applying it
    /// would remove every dependency and feature, so it is refused.
    #[error("{}: the file is empty; the configuration in force stays", path.display())]
    Empty {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The file is not a valid configuration.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// The first invalid field and why.
        #[source]
        source: ConfigError,
    },
}
