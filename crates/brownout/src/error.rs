//! Errors: a rejected call, a wrapped call's own error, bad configuration, unknown features.

use std::fmt;
use std::time::Duration;

use crate::breaker::BreakerState;

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
    /// The call ran and returned this error.
    Inner(E),
}

impl<E> Error<E> {
    /// The inner error, if the call ran and failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Inner(e) => Some(e),
            Error::Rejected(_) => None,
        }
    }

    /// The rejection, if the breaker refused the call.
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Error::Rejected(r) => Some(r),
            Error::Inner(_) => None,
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
            Error::Inner(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Rejected(_) => None,
            Error::Inner(e) => Some(e),
        }
    }
}

/// A breaker refused a call: which dependency, in which state, and when to try again.
///
/// Cheap to copy: building it on the rejection path allocates nothing, and
/// it is 24 bytes (a thin pointer to the interned name, the time left in
/// nanoseconds, the state), so it travels through `Result`s cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "circuit breaker `{}` is {state}: call rejected, retry after {:?}",
    self.dependency(),
    self.retry_after()
)]
pub struct Rejected {
    dependency: &'static &'static str,
    retry_nanos: u64,
    state: BreakerState,
}

impl Rejected {
    pub(crate) const fn new(
        dependency: &'static &'static str,
        state: BreakerState,
        retry_nanos: u64,
    ) -> Self {
        Rejected {
            dependency,
            retry_nanos,
            state,
        }
    }

    /// The dependency whose breaker rejected the call.
    #[must_use]
    pub fn dependency(&self) -> &str {
        self.dependency
    }

    /// The breaker's state at the time of rejection.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// How long until a trial call may be allowed (zero when a half-open
    /// breaker is only waiting for its trial calls to answer).
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        Duration::from_nanos(self.retry_nanos)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_displays_and_chains() {
        let e: Error<std::io::Error> = Error::Inner(std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "boom");
        assert!(std::error::Error::source(&e).is_some());
        let r = Rejected::new(&"openai", BreakerState::Open, 3_000_000_000);
        assert_eq!(r.retry_after(), Duration::from_secs(3));
        assert!(std::mem::size_of::<Rejected>() <= 24);
        let e: Error<&str> = r.into();
        assert_eq!(
            e.to_string(),
            "circuit breaker `openai` is open: call rejected, retry after 3s"
        );
        assert_eq!(e.rejected().map(Rejected::dependency), Some("openai"));
    }
}
