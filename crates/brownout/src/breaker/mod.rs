//! One dependency's circuit breaker.

mod backoff;
mod call;
mod engine;
mod permit;
mod snapshot;
mod spare;
mod trip;
mod window;

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

pub use self::call::Call;
use self::engine::Shared;
pub use self::permit::{OwnedPermit, Permit};
pub use self::snapshot::{BreakerSnapshot, TransitionSnapshot, TripSnapshot};
pub use self::trip::TripCause;
pub use self::window::WindowCounts;
use crate::clock::{Clock, ClockSource, MonotonicClock, Nanos};
use crate::config::BreakerConfig;
use crate::error::{ConfigError, Error, Rejected};
use crate::name::DependencyName;
use crate::outcome::Outcome;
use crate::state::BreakerState;
use crate::transition::TransitionListener;

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
        let name = name.as_ref();
        if name.trim().is_empty() {
            return Err(ConfigError::new("name", "must not be empty"));
        }
        config.validate()?;
        Ok(Breaker::from_valid(
            name,
            config,
            ClockSource::new(clock),
            None,
        ))
    }

    /// A breaker from settings already validated (by the manager's config).
    pub(crate) fn from_valid(
        name: &str,
        config: BreakerConfig,
        clock: ClockSource,
        listener: Option<Weak<dyn TransitionListener>>,
    ) -> Breaker {
        let shared = Shared::new(DependencyName::new(name), config, clock, listener);
        Breaker {
            shared: Arc::new(shared),
        }
    }

    /// The dependency's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The dependency's name as a cheap-to-clone value.
    #[must_use]
    pub fn dependency_name(&self) -> &DependencyName {
        &self.shared.name
    }

    /// The current state (one atomic load).
    #[inline]
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.shared.state()
    }

    /// The settings in force (those it was built with, or the latest a
    /// [reload](crate::DegradationManager::reconfigure) gave it).
    #[must_use]
    pub fn config(&self) -> BreakerConfig {
        self.shared.config()
    }

    /// The `call_timeout` in force, if any (one atomic load: adapters read
    /// it per call, so a reload applies to the next call).
    #[inline]
    #[must_use]
    pub fn call_timeout(&self) -> Option<Duration> {
        self.shared.call_timeout()
    }

    /// Applies new settings (validated by the manager) from the next decision.
    pub(crate) fn retune(&self, config: BreakerConfig) {
        self.shared.retune(config);
    }

    /// Stops reporting transitions to the manager that dropped this dependency.
    pub(crate) fn detach(&self) {
        self.shared.detach();
    }

    /// Whether `self` and `other` are handles to the same breaker.
    #[must_use]
    pub fn same_as(&self, other: &Breaker) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Time until this breaker lets a trial call through: while open, the
    /// rest of the open period (zero once it is over); while forced open,
    /// the recovery timeout as a hint; `None` in every other state.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.shared.retry_after()
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

    /// Keeps this handle for the rest of the process and returns a
    /// `'static` reference to it, as [`Box::leak`] does. Permits taken
    /// through it ([`try_acquire`](Self::try_acquire)) are `'static` plain
    /// references: a future can carry one without an owned handle to the
    /// breaker (an [`OwnedPermit`] reuses its thread's spare handle when
    /// there is one, and otherwise clones one). Meant for dependencies that
    /// live as long as the process; each call leaks one small handle.
    ///
    /// ```
    /// use brownout::{Breaker, BreakerConfig, Permit};
    ///
    /// let breaker: &'static Breaker = Breaker::new("database", BreakerConfig::default())?.leak();
    /// let permit: Permit<'static> = breaker.try_acquire()?;
    /// permit.success();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn leak(self) -> &'static Breaker {
        Box::leak(Box::new(self))
    }

    /// Like [`try_acquire`](Self::try_acquire), with a permit that owns a
    /// handle to the breaker (for `'static` futures).
    ///
    /// # Errors
    /// As [`try_acquire`](Self::try_acquire).
    #[inline]
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, Rejected> {
        let ticket = self.shared.acquire()?;
        Ok(OwnedPermit::new(&self.shared, ticket))
    }

    /// Runs `f` if permitted and records its result (`Err` is a failure).
    ///
    /// A panic in `f` counts as a failure and propagates. With a
    /// `call_timeout`, a call that returns after it counts as a timeout
    /// failure and its result is dropped: a synchronous call cannot be cut
    /// short, only judged when it returns (on the coarse clock, to a few
    /// milliseconds).
    ///
    /// # Errors
    /// [`Error::Rejected`] without running `f`, [`Error::Timeout`] when it
    /// outlived the `call_timeout`, or [`Error::Inner`] with `f`'s error.
    #[inline(always)]
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
    #[inline(always)]
    pub fn call_sync_with<T, E, C, F>(&self, classify: C, f: F) -> Result<T, Error<E>>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Result<T, E>,
    {
        let permit = self.try_acquire()?;
        let result = f();
        permit.finish_call(classify, result)
    }

    /// Runs the future `f` returns if permitted and records its result
    /// (`Err` is a failure). Dropping the returned future before it completes
    /// records nothing and gives back a half-open slot; a panic while polling
    /// counts as a failure.
    ///
    /// A `call_timeout` is how a dependency that hangs trips its breaker:
    /// with the `tokio` feature, inside a tokio runtime (with its timer
    /// enabled, as `#[tokio::main]` does), the call is dropped at the
    /// deadline; in every case a call that finishes after it counts as a
    /// timeout. Either way it is a failure (metrics outcome `timeout`) and
    /// the caller gets [`Error::Timeout`]. `slow_call_duration`, by
    /// contrast, only judges calls that finish.
    ///
    /// # Errors
    /// [`Error::Rejected`] without calling `f`, [`Error::Timeout`] when the
    /// call outlived the `call_timeout`, or [`Error::Inner`] with the future's error.
    pub fn call<T, E, F, Fut>(
        &self,
        f: F,
    ) -> Call<'_, F, Fut, impl FnOnce(&Result<T, E>) -> Outcome>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_with(Outcome::of_result, f)
    }

    /// [`call`](Self::call) with a classifier deciding what counts as failure.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub fn call_with<T, E, C, F, Fut>(&self, classify: C, f: F) -> Call<'_, F, Fut, C>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        Call::new(&self.shared, f, classify)
    }

    /// Opens the breaker until [`reset`](Self::reset): every call is rejected.
    pub fn force_open(&self) {
        self.shared.force(BreakerState::ForcedOpen);
    }

    /// Opens a closed breaker because other replicas of the service report
    /// the dependency down (a fleet quorum), as if it had tripped itself:
    /// open for its recovery timeout (with its backoff), then half-open
    /// trials, and its snapshot's `last_trip` says
    /// [`TripCause::Peers`]. Nothing happens unless it is closed; returns
    /// whether it opened.
    ///
    /// ```
    /// use brownout::{Breaker, BreakerConfig, BreakerState, TripCause};
    ///
    /// let breaker = Breaker::new("database", BreakerConfig::default())?;
    /// assert!(breaker.trip_by_peers());
    /// assert_eq!(breaker.state(), BreakerState::Open);
    /// assert_eq!(breaker.snapshot().last_trip.unwrap().cause, TripCause::Peers);
    /// assert!(!breaker.trip_by_peers(), "already open");
    /// # Ok::<(), brownout::ConfigError>(())
    /// ```
    pub fn trip_by_peers(&self) -> bool {
        self.shared.trip_by_peers()
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
    /// `half_open_timeout`, even if no call asks for permission. Calls,
    /// probes and snapshots do this on their own; this is for a periodic driver.
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
    /// Half-open trials past their `half_open_timeout` are expired first, so
    /// the snapshot shows what the next call would see.
    #[must_use]
    pub fn snapshot(&self) -> BreakerSnapshot {
        self.shared.expire_trials();
        self.shared.flush_metrics();
        BreakerSnapshot::of(&self.shared.name, self.shared.observe())
    }
}
