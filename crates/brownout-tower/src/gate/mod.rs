//! Feature and level gates in front of a service.
//!
//! [`GateService`] makes its [`Admission`] check in
//! [`call`](Service::call): while the feature is on (or the level is high
//! enough) it calls the inner service; otherwise it counts the request as
//! shed and answers at once without calling it, as its [`ShedMode`] says:
//! with a [`Shed`](crate::error::Shed) error, or, for HTTP services after
#![cfg_attr(feature = "http", doc = "[`GateLayer::respond_503`],")]
#![cfg_attr(
    not(feature = "http"),
    doc = "`GateLayer::respond_503` (feature `http`),"
)]
//! a `503` problem+json answer with `Retry-After`.
//!
//! A shed request names the real reason ([`Shed::held_off`](crate::Shed::held_off)):
//! an open dependency the feature requires, or the level. Its retry hint is
//! the blocking breaker's time to its next trial (for a level, the soonest
//! trial of any open breaker), or the layer's
//! [`retry_after`](GateLayer::retry_after) when no breaker gives an estimate.
//!
//! As with [`BreakerService`](crate::BreakerService), `poll_ready` only
//! delegates to the inner service: a closed gate never leaves it pending.

mod check;
pub mod future;
mod layer;
mod mode;

use std::marker::PhantomData;
use std::task::{Context, Poll};
use std::time::Duration;

use tower_service::Service;

pub use self::check::Admission;
use self::future::ResponseFuture;
pub use self::layer::GateLayer;
#[cfg(feature = "http")]
pub use self::mode::ShedAs503;
pub use self::mode::{ShedAsError, ShedMode};

/// The retry hint of a shed request when no open breaker gives an estimate,
/// unless [`GateLayer::retry_after`] sets another.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Calls the inner service only while its gate is open. Built by [`GateLayer`].
///
/// `M` is how shed requests are answered, a [`ShedMode`]: [`ShedAsError`]
#[cfg_attr(feature = "http", doc = "(the default) or [`ShedAs503`].")]
#[cfg_attr(
    not(feature = "http"),
    doc = "(the default) or `ShedAs503` (feature `http`)."
)]
#[derive(Debug)]
pub struct GateService<S, M = ShedAsError> {
    inner: S,
    admission: Admission,
    mode: PhantomData<fn() -> M>,
}

impl<S, M> GateService<S, M> {
    pub(crate) fn new(inner: S, admission: Admission) -> Self {
        GateService {
            inner,
            admission,
            mode: PhantomData,
        }
    }

    /// The check made per request.
    pub fn admission(&self) -> &Admission {
        &self.admission
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

impl<S: Clone, M> Clone for GateService<S, M> {
    /// Clones read the same gate.
    fn clone(&self) -> Self {
        GateService::new(self.inner.clone(), self.admission.clone())
    }
}

impl<S, M, Request> Service<Request> for GateService<S, M>
where
    S: Service<Request>,
    M: ShedMode<S::Response, S::Error>,
{
    type Response = M::Response;
    type Error = M::Error;
    type Future = ResponseFuture<S::Future, M>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(M::error)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        match self.admission.admit() {
            Ok(_) => ResponseFuture::called(self.inner.call(request)),
            Err(shed) => ResponseFuture::shed(Box::new(shed)),
        }
    }
}
