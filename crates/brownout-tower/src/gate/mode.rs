//! How a [`GateService`](super::GateService) answers a shed request.

/// Shed requests fail with a [`Shed`](crate::error::Shed) error inside a
/// [`BoxError`](crate::BoxError) (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct ShedAsError;

/// Shed requests are answered `503 Service Unavailable` with a `Retry-After`
/// header, an empty (`Default`) body and the [`Shed`](crate::error::Shed) in
/// the response extensions; the inner service's error type is kept, so the
/// gate fits where axum wants infallible services.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct ShedAs503;
