//! Health probes: a dependency's own check, run as its half-open trial.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::breaker::Breaker;
use crate::state::BreakerState;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// A registered probe: the check and how long it may take.
#[derive(Clone)]
pub(crate) struct Probe {
    check: Check,
    pub(crate) timeout: Duration,
}

/// A probe as given to the builder, before its dependency's timeout is known.
#[derive(Clone)]
pub(crate) struct ProbeFn(Check);

impl ProbeFn {
    pub(crate) fn new<F, Fut, T, E>(check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: fmt::Display,
    {
        ProbeFn(Arc::new(move || {
            let checking = check();
            Box::pin(async move { checking.await.map(drop).map_err(|e| e.to_string()) })
        }))
    }

    pub(crate) fn with_timeout(self, timeout: Duration) -> Probe {
        Probe {
            check: self.0,
            timeout,
        }
    }
}

impl Probe {
    /// Runs the check once, bounded by the probe timeout.
    async fn check(&self) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, (self.check)()).await {
            Ok(result) => result,
            Err(_) => Err(format!("timed out after {:?}", self.timeout)),
        }
    }

    /// Checks a closed breaker's dependency: a failure counts as a failed
    /// call, a pass records nothing (it must not reset failures that real
    /// calls are counting). Returns whether the check ran.
    pub(crate) async fn check_closed(&self, breaker: &Breaker) -> bool {
        if breaker.state() != BreakerState::Closed {
            return false;
        }
        let Ok(permit) = breaker.try_acquire_owned() else {
            return false;
        };
        match self.check().await {
            Ok(()) => permit.ignore(),
            Err(reason) => {
                crate::events::probe_failed(breaker.name(), &reason);
                permit.failure();
            }
        }
        true
    }

    /// Runs trials through `breaker` while it is half-open (or open and due),
    /// one at a time, until it closes, re-opens, or no trial slot is free.
    /// Returns whether any trial ran.
    pub(crate) async fn run_trials(&self, breaker: &Breaker) -> bool {
        let mut ran = false;
        loop {
            if !matches!(breaker.state(), BreakerState::Open | BreakerState::HalfOpen) {
                return ran;
            }
            let Ok(permit) = breaker.try_acquire_owned() else {
                return ran;
            };
            ran = true;
            match self.check().await {
                Ok(()) => permit.success(),
                Err(reason) => {
                    crate::events::probe_failed(breaker.name(), &reason);
                    permit.failure();
                    return ran;
                }
            }
        }
    }
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ProbeFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeFn").finish_non_exhaustive()
    }
}
