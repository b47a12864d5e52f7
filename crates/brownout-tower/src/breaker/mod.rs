//! A circuit breaker in front of a client service for one dependency.
//!
//! [`BreakerService`] asks the dependency's [`Breaker`] for a permit in
//! [`call`](Service::call). Granted, it calls the inner service and records
//! the classified result when the response future completes. Refused, it
//! returns a ready [`CircuitOpen`] error without
//! calling the inner service.
//!
//! # Readiness
//!
//! `poll_ready` only delegates to the inner service. The breaker decides in
//! `call`, as `tower::load_shed` does, so no permit is reserved between
//! `poll_ready` and `call`: a caller that polls ready and never calls leaks
//! nothing, and an open breaker never leaves `poll_ready` pending. If the
//! breaker refuses after the inner service reported ready, whatever the inner
//! service reserved in `poll_ready` (a `ConcurrencyLimit` permit, a `Buffer`
//! slot) stays with this service for its next `call`, as with `load_shed`.

pub mod future;
mod layer;

use std::task::{Context, Poll};

use brownout::Breaker;
use tower_service::Service;

use self::future::ResponseFuture;
pub use self::layer::BreakerLayer;
use crate::BoxError;
use crate::classify::{Classify, DefaultClassifier};
use crate::error::CircuitOpen;

/// Guards an inner service with one dependency's circuit breaker.
///
/// Built by [`BreakerLayer`]. Clones share the breaker (and clone the inner
/// service and the classifier).
#[derive(Debug)]
pub struct BreakerService<S, C = DefaultClassifier> {
    inner: S,
    breaker: Breaker,
    classifier: C,
}

impl<S> BreakerService<S> {
    /// Wraps `inner` with `breaker`; `Err` counts as a failure.
    pub fn new(inner: S, breaker: Breaker) -> Self {
        BreakerService::with_classifier(inner, breaker, DefaultClassifier)
    }
}

impl<S, C> BreakerService<S, C> {
    /// Wraps `inner` with `breaker`; `classifier` decides what counts as failure.
    pub fn with_classifier(inner: S, breaker: Breaker, classifier: C) -> Self {
        BreakerService {
            inner,
            breaker,
            classifier,
        }
    }

    /// The breaker (a handle sharing its state).
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
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

impl<S: Clone, C: Clone> Clone for BreakerService<S, C> {
    /// Clones share the breaker: a failure seen through one clone counts for all.
    fn clone(&self) -> Self {
        BreakerService {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<S, C, Request> Service<Request> for BreakerService<S, C>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        match self.breaker.try_acquire_owned() {
            Ok(permit) => {
                ResponseFuture::called(self.inner.call(request), permit, self.classifier.clone())
            }
            Err(rejected) => ResponseFuture::rejected(CircuitOpen::new(rejected)),
        }
    }
}
