//! A circuit breaker in front of a client service for one dependency.
//!
//! [`BreakerService`] asks the dependency's [`Breaker`] for a permit in
//! [`call`](Service::call). Granted, it calls the inner service and records
//! the classified result when the response future completes. Refused, it
//! returns a ready [`CircuitOpen`] error without calling the inner service.
//!
//! # Readiness
//!
//! `poll_ready` delegates to the inner service and asks the breaker nothing
//! while the inner service is ready or pending, so no permit is held between
//! `poll_ready` and `call`: a caller that polls ready and never calls holds
//! no half-open slot, and an open breaker never leaves `poll_ready` pending.
//! If the breaker refuses in `call` after the inner service reported ready,
//! whatever the inner service reserved in `poll_ready` (a `ConcurrencyLimit`
//! permit, a `Buffer` slot) stays reserved for this service's next `call`,
//! or until the service is dropped.
//!
//! A client that reports its failures from `poll_ready` (a `tower::buffer`
//! whose worker lost its connection) still trips the breaker: an `Err` from
//! the inner `poll_ready` takes a permit and records the classified error at
//! once, like a failed call. While the breaker refuses, that `poll_ready`
//! answers [`CircuitOpen`] instead, so callers see the same typed rejection
//! whichever way the request failed fast.
//!
//! # Permits
//!
//! The permit taken in `call` lives in the response future. Completed, the
//! future records the classified result; dropped first (a cancelled request,
//! an outer timeout), the permit's drop records nothing and gives back its
//! half-open trial slot, so a cancelled trial never strands the breaker.
//!
//! A response future cannot borrow from its service, so by default its
//! permit owns a handle to the breaker. Released, the handle stays with the
//! thread for the next request to the same breaker, so steady traffic
//! updates no reference count. A breaker that lives as long as the process
//! can be handed over as a `&'static Breaker` instead
//! ([`BreakerLayer::from_static`], with [`Breaker::leak`]): its futures
//! carry a plain reference, whichever thread they finish on. Behaviour is
//! otherwise the same (see [`BreakerHandle`]).
//!
//! # Call timeout
//!
//! A dependency whose [`BreakerConfig`](brownout::BreakerConfig) sets a
//! `call_timeout` has it applied by the layer: with the `tokio` feature
//! (default), inside a tokio runtime (its timer enabled, as `#[tokio::main]`
//! does; a runtime without one panics, as `tower::timeout` does), the
//! response future drops the inner call at the deadline, records
//! [`Outcome::Timeout`](brownout::Outcome::Timeout) and fails with
//! [`CallTimedOut`](crate::error::CallTimedOut). Without a timer, a call
//! that answers after the deadline is counted and answered the same way.
//! Without a `call_timeout` the future carries no timer and reads no clock;
//! with one, the timer is boxed (one allocation per request), so that the
//! futures of every other dependency stay small.

pub mod future;
mod handle;
mod layer;
mod timer;

use std::task::{Context, Poll, ready};

use brownout::Breaker;
use tower_service::Service;

use self::future::ResponseFuture;
pub use self::handle::{BreakerHandle, CallPermit};
pub use self::layer::BreakerLayer;
use crate::BoxError;
use crate::classify::{Classify, DefaultClassifier};
use crate::error::CircuitOpen;

/// Guards an inner service with one dependency's circuit breaker.
///
/// Built by [`BreakerLayer`]. Clones share the breaker (and clone the inner
/// service and the classifier). `B` is how it holds the breaker: an owned
/// [`Breaker`] (the default) or a `&'static Breaker` (see [`BreakerHandle`]).
#[derive(Debug)]
pub struct BreakerService<S, C = DefaultClassifier, B = Breaker> {
    inner: S,
    breaker: B,
    classifier: C,
}

impl<S> BreakerService<S> {
    /// Wraps `inner` with `breaker`; `Err` counts as a failure.
    pub fn new(inner: S, breaker: Breaker) -> Self {
        BreakerService::with_classifier(inner, breaker, DefaultClassifier)
    }
}

impl<S> BreakerService<S, DefaultClassifier, &'static Breaker> {
    /// Wraps `inner` with a breaker that lives as long as the process; its
    /// response futures hold a plain reference to it (see [`BreakerHandle`]).
    pub fn from_static(inner: S, breaker: &'static Breaker) -> Self {
        BreakerService::with_classifier(inner, breaker, DefaultClassifier)
    }
}

impl<S, C, B: BreakerHandle> BreakerService<S, C, B> {
    /// Wraps `inner` with `breaker`; `classifier` decides what counts as failure.
    pub fn with_classifier(inner: S, breaker: B, classifier: C) -> Self {
        BreakerService {
            inner,
            breaker,
            classifier,
        }
    }

    /// The breaker (a handle sharing its state).
    pub fn breaker(&self) -> &Breaker {
        self.breaker.breaker()
    }

    /// The classifier.
    pub fn classifier(&self) -> &C {
        &self.classifier
    }

    /// A reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// A mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, C: Clone, B: BreakerHandle> Clone for BreakerService<S, C, B> {
    /// Clones share the breaker: a failure seen through one clone counts for all.
    fn clone(&self) -> Self {
        BreakerService::with_classifier(
            self.inner.clone(),
            self.breaker.clone(),
            self.classifier.clone(),
        )
    }
}

impl<S, C, B: BreakerHandle> BreakerService<S, C, B> {
    /// The inner service failed to get ready: count it as a failed call,
    /// or, while the breaker refuses calls, answer its rejection.
    #[cold]
    fn not_ready<T, E>(&self, error: E) -> BoxError
    where
        E: Into<BoxError>,
        C: Classify<T, E>,
    {
        match self.breaker.breaker().try_acquire() {
            Ok(permit) => {
                let failed = Err(error);
                permit.record(self.classifier.classify(&failed));
                // Built as an error just above: the `Ok` arm never runs.
                failed
                    .err()
                    .map_or_else(|| "inner service not ready".into(), Into::into)
            }
            Err(rejected) => Box::new(CircuitOpen::new(rejected)),
        }
    }
}

impl<S, C, B, Request> Service<Request> for BreakerService<S, C, B>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
    B: BreakerHandle,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C, B::Permit>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match ready!(self.inner.poll_ready(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(error) => Poll::Ready(Err(self.not_ready(error))),
        }
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        match self.breaker.acquire() {
            Ok(permit) => ResponseFuture::called(
                self.inner.call(request),
                permit,
                self.classifier.clone(),
                self.breaker.breaker().call_timeout(),
            ),
            Err(rejected) => ResponseFuture::rejected(CircuitOpen::new(rejected)),
        }
    }
}
