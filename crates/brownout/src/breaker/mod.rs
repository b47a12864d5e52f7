//! One dependency's circuit breaker.

mod backoff;
pub(crate) mod engine;
mod name;
mod outcome;
mod permit;
mod snapshot;
pub(crate) mod state;
mod window;

use std::future::Future;
use std::sync::{Arc, Weak};

use self::engine::{Shared, TransitionListener};
pub use self::outcome::Outcome;
pub use self::permit::{OwnedPermit, Permit};
pub(crate) use self::snapshot::opt_millis as snapshot_opt_millis;
pub use self::snapshot::{BreakerSnapshot, TransitionSnapshot};
pub use self::state::BreakerState;
pub use self::window::WindowCounts;
use crate::clock::{Clock, ClockSource, MonotonicClock, Nanos};
use crate::config::BreakerConfig;
use crate::error::{ConfigError, Error, Rejected};

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

/// A circuit breaker for one dependency.
///
/// Cheap to clone (clones share state), `Send + Sync`, and usable with or
/// without an async runtime.
///
/// ```
/// use brownout::{Breaker, BreakerConfig, BreakerState, Error};
///
/// let breaker = Breaker::new("database", BreakerConfig { failure_threshold: 3, ..Default::default() })?;
/// for _ in 0..3 {
///     let _ = breaker.call_sync(|| Err::<(), _>("connection refused"));
/// }
/// assert_eq!(breaker.state(), BreakerState::Open);
/// match breaker.call_sync(|| Ok::<_, &str>("never runs")) {
///     Err(Error::Rejected(r)) => assert!(r.retry_after() > std::time::Duration::ZERO),
///     other => panic!("expected a rejection, got {other:?}"),
/// }
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Breaker {
    shared: Arc<Shared>,
}

impl Breaker {
    /// A breaker on the system clock.
    ///
    /// # Errors
    /// A [`ConfigError`] if `config` or the name is invalid.
    pub fn new(name: impl AsRef<str>, config: BreakerConfig) -> Result<Breaker, ConfigError> {
        Breaker::with_clock(name, config, MonotonicClock)
    }

    /// A breaker reading time from `clock` (e.g. a [`ManualClock`](crate::clock::ManualClock)).
    ///
    /// # Errors
    /// A [`ConfigError`] if `config` or the name is invalid.
    pub fn with_clock<C: Clock>(
        name: impl AsRef<str>,
        config: BreakerConfig,
        clock: C,
    ) -> Result<Breaker, ConfigError> {
        Breaker::build(name.as_ref(), config, ClockSource::new(clock), None)
    }

    pub(crate) fn build(
        name: &str,
        config: BreakerConfig,
        clock: ClockSource,
        listener: Option<Weak<dyn TransitionListener>>,
    ) -> Result<Breaker, ConfigError> {
        if name.trim().is_empty() {
            return Err(ConfigError::new("name", "must not be empty"));
        }
        config.validate()?;
        let shared = Shared::new(name::intern(name), config, clock, listener);
        Ok(Breaker {
            shared: Arc::new(shared),
        })
    }

    /// The dependency's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.shared.name
    }

    /// The current state (one atomic load).
    #[inline]
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.shared.word().state()
    }

    /// The settings this breaker was built with.
    #[must_use]
    pub fn config(&self) -> &BreakerConfig {
        &self.shared.config
    }

    /// Asks to make one call. Closed: always granted, without a lock or a
    /// clock read. Open: rejected with the time left, unless the recovery
    /// timeout has elapsed, in which case this call becomes a half-open trial.
    ///
    /// # Errors
    /// [`Rejected`] when the breaker is open, forced open, or half-open with
    /// all trial slots taken.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let ticket = self.shared.acquire()?;
        Ok(Permit::new(&self.shared, ticket))
    }

    /// Like [`try_acquire`](Self::try_acquire), with a permit that owns a
    /// handle to the breaker (for `'static` futures).
    ///
    /// # Errors
    /// As [`try_acquire`](Self::try_acquire).
    #[inline]
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, Rejected> {
        let ticket = self.shared.acquire()?;
        Ok(OwnedPermit::new(Arc::clone(&self.shared), ticket))
    }

    /// Runs `f` if permitted and records its result (`Err` is a failure).
    ///
    /// A panic in `f` counts as a failure and propagates.
    ///
    /// # Errors
    /// [`Error::Rejected`] without running `f`, or [`Error::Inner`] with `f`'s error.
    #[inline]
    pub fn call_sync<T, E, F>(&self, f: F) -> Result<T, Error<E>>
    where
        F: FnOnce() -> Result<T, E>,
    {
        self.call_sync_with(Outcome::of_result, f)
    }

    /// [`call_sync`](Self::call_sync) with a classifier deciding what counts as failure.
    ///
    /// # Errors
    /// As [`call_sync`](Self::call_sync).
    #[inline]
    pub fn call_sync_with<T, E, C, F>(&self, classify: C, f: F) -> Result<T, Error<E>>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Result<T, E>,
    {
        let permit = self.try_acquire()?;
        let result = f();
        permit.record(classify(&result));
        result.map_err(Error::Inner)
    }

    /// Runs the future `f` returns if permitted and records its result
    /// (`Err` is a failure). Dropping the returned future before it completes
    /// records nothing and gives back a half-open slot; a panic while polling
    /// counts as a failure.
    ///
    /// # Errors
    /// [`Error::Rejected`] without calling `f`, or [`Error::Inner`] with the future's error.
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, Error<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_with(Outcome::of_result, f).await
    }

    /// [`call`](Self::call) with a classifier deciding what counts as failure.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn call_with<T, E, C, F, Fut>(&self, classify: C, f: F) -> Result<T, Error<E>>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        let result = f().await;
        permit.record(classify(&result));
        result.map_err(Error::Inner)
    }

    /// Opens the breaker until [`reset`](Self::reset): every call is rejected.
    pub fn force_open(&self) {
        self.shared.force(BreakerState::ForcedOpen);
    }

    /// Switches the breaker off until [`reset`](Self::reset): every call is
    /// permitted and nothing counts toward opening.
    pub fn disable(&self) {
        self.shared.force(BreakerState::Disabled);
    }

    /// Back to closed with every counter and the backoff cleared.
    pub fn reset(&self) {
        self.shared.force(BreakerState::Closed);
    }

    /// Re-opens a half-open breaker whose trials have outlived
    /// `half_open_timeout`, even if no call asks for permission. Calls and
    /// probes do this on their own; this is for a periodic driver.
    pub fn expire_trials(&self) {
        self.shared.expire_trials();
    }

    /// When the current open period ends, while open.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn open_until(&self) -> Option<Nanos> {
        self.shared.open_until()
    }

    /// Hands this breaker's per-call counts to the `metrics` recorder now
    /// (feature `metrics`; a no-op without it). Calls are counted in
    /// per-thread stripes and published on every transition, on
    /// [`snapshot`](Self::snapshot) and by the manager's background task;
    /// call this before a scrape if you need them to the call.
    pub fn flush_metrics(&self) {
        self.shared.flush_metrics();
    }

    /// State, counts and timings, read consistently (also flushes metrics).
    #[must_use]
    pub fn snapshot(&self) -> BreakerSnapshot {
        self.shared.flush_metrics();
        BreakerSnapshot::of(self.shared.name, self.shared.observe())
    }
}
