//! How a [`GateService`](super::GateService) answers: [`ShedMode`].

use crate::BoxError;
use crate::error::Shed;

/// How a [`GateService`](super::GateService) answers, with `T` and `E` the
/// inner service's response and error: it passes the inner service's
/// answers through (converted) and turns a [`Shed`] into an answer.
///
/// The stock modes are [`ShedAsError`] (the default)
#[cfg_attr(feature = "http", doc = "and [`ShedAs503`];")]
#[cfg_attr(not(feature = "http"), doc = "and `ShedAs503` (feature `http`);")]
/// `brownout-axum` adds one that answers with its problem+json rejection.
/// Pick one with [`GateLayer::respond_with`](super::GateLayer::respond_with).
pub trait ShedMode<T, E> {
    /// The gate's response type.
    type Response;
    /// The gate's error type.
    type Error;

    /// An inner service's response.
    fn response(response: T) -> Self::Response;

    /// An inner service's error (from `poll_ready` or the call).
    fn error(error: E) -> Self::Error;

    /// The answer to a shed request. The [`Shed`] comes boxed, so that the
    /// gate's response future stays as small as the inner one and the
    /// error mode hands it on as a [`BoxError`] without copying it again.
    ///
    /// # Errors
    /// As the mode answers a shed request: [`ShedAsError`] with a [`Shed`] error.
    fn shed(shed: Box<Shed>) -> Result<Self::Response, Self::Error>;
}

/// Shed requests fail with a [`Shed`] error inside a [`BoxError`] (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct ShedAsError;

impl<T, E: Into<BoxError>> ShedMode<T, E> for ShedAsError {
    type Response = T;
    type Error = BoxError;

    #[inline]
    fn response(response: T) -> T {
        response
    }

    #[inline]
    fn error(error: E) -> BoxError {
        error.into()
    }

    fn shed(shed: Box<Shed>) -> Result<T, BoxError> {
        Err(shed)
    }
}

/// Shed requests are answered with [`Shed::to_response`]: `503 Service
/// Unavailable`, `Retry-After`, an `application/problem+json` body (see
/// [`problem`](crate::problem)) and the [`Shed`] in the response
/// extensions. The inner service's error type is kept, so the gate fits
/// where axum wants infallible services.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct ShedAs503;

#[cfg(feature = "http")]
impl<B: From<String>, E> ShedMode<http::Response<B>, E> for ShedAs503 {
    type Response = http::Response<B>;
    type Error = E;

    #[inline]
    fn response(response: http::Response<B>) -> http::Response<B> {
        response
    }

    #[inline]
    fn error(error: E) -> E {
        error
    }

    fn shed(shed: Box<Shed>) -> Result<http::Response<B>, E> {
        Ok((*shed).into_response())
    }
}
