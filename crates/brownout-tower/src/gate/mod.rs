//! Feature and level gates in front of a service.
//!
//! [`GateService`] reads its gate in [`call`](Service::call): while the
//! feature is on (or the level is high enough) it calls the inner service,
//! otherwise it answers at once without calling it, with a
//! [`Shed`](crate::error::Shed) error or, for HTTP services after
#![cfg_attr(feature = "http", doc = "[`GateLayer::respond_503`],")]
#![cfg_attr(
    not(feature = "http"),
    doc = "`GateLayer::respond_503` (feature `http`),"
)]
//! a `503` with `Retry-After`.
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
pub use self::mode::ShedAsError;
use crate::BoxError;

/// The retry hint of a shed request unless [`GateLayer::retry_after`] sets another.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Calls the inner service only while its gate is open. Built by [`GateLayer`].
///
/// `M` is how shed requests are answered: [`ShedAsError`] (the default)
#[cfg_attr(feature = "http", doc = "or [`ShedAs503`].")]
#[cfg_attr(not(feature = "http"), doc = "or `ShedAs503` (feature `http`).")]
#[derive(Debug)]
pub struct GateService<S, M = ShedAsError> {
    inner: S,
    check: Admission,
    mode: PhantomData<fn() -> M>,
}

impl<S, M> GateService<S, M> {
    pub(crate) fn new(inner: S, check: Admission) -> Self {
        GateService {
            inner,
            check,
            mode: PhantomData,
        }
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
        GateService::new(self.inner.clone(), self.check.clone())
    }
}

impl<S, Request> Service<Request> for GateService<S, ShedAsError>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, ShedAsError>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        match self.check.admit() {
            Ok(()) => ResponseFuture::called(self.inner.call(request)),
            Err(shed) => ResponseFuture::shed(shed),
        }
    }
}

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl<S, Request, B> Service<Request> for GateService<S, ShedAs503>
where
    S: Service<Request, Response = http::Response<B>>,
    B: Default,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ShedAs503>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        match self.check.admit() {
            Ok(()) => ResponseFuture::called(self.inner.call(request)),
            Err(shed) => ResponseFuture::shed(shed),
        }
    }
}
