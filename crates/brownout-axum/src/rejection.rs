//! Answers for refused requests.
//!
//! [`Unavailable`] answers a request brownout refused: shed by a gate (the
//! [`GateLayer`](crate::GateLayer) middleware or the
//! [`RequireFeature`](crate::RequireFeature) extractor), rejected by a
//! dependency's breaker, or cut off at its `call_timeout`. It wraps the
//! error `brownout-tower` returns ([`Shed`], [`CircuitOpen`],
//! [`CallTimedOut`]) and answers as that error does: an RFC 9457
//! `application/problem+json` body, `503` with `Retry-After` (whole seconds,
//! rounded up, never below one second) or `504` for a timeout. The body and
//! its problem types are described in [`brownout_tower::problem`]:
//!
//! ```text
//! HTTP/1.1 503 Service Unavailable
//! content-type: application/problem+json
//! cache-control: no-store
//! retry-after: 300
//!
//! {
//!   "type": "https://docs.rs/brownout-tower/0.1/brownout_tower/problem/index.html#feature-unavailable",
//!   "title": "Feature unavailable",
//!   "status": 503,
//!   "detail": "feature `ai_suggestions` is off because dependency `openai` is open; retry after 300 s",
//!   "feature": "ai_suggestions",
//!   "level": "MINIMAL",
//!   "required_level": "OPTIMAL",
//!   "dependency": "openai",
//!   "held_off": { "kind": "dependency", "dependency": "openai", "state": "open", "retry_after_ms": 299500 },
//!   "retry_after": 300
//! }
//! ```
//!
//! A `brownout-tower` layer in front of a route (or a client called from a
//! handler) fails with a `BoxError`; [`Unavailable::try_from`] finds the
//! brownout error in it, for axum's `HandleErrorLayer`:
//!
//! ```
//! use axum::{BoxError, Router, error_handling::HandleErrorLayer, http::StatusCode};
//! use axum::response::{IntoResponse, Response};
//! use axum::routing::get;
//! use brownout::DegradationManager;
//! use brownout_axum::Unavailable;
//! use brownout_tower::BreakerLayer;
//! use tower::ServiceBuilder;
//!
//! async fn answer(err: BoxError) -> Response {
//!     match Unavailable::try_from(err) {
//!         Ok(refused) => refused.into_response(),
//!         Err(other) => (StatusCode::BAD_GATEWAY, other.to_string()).into_response(),
//!     }
//! }
//!
//! let manager = DegradationManager::from_toml_str("[dependencies.upstream]\nweight = 1\n")?;
//! let app: Router = Router::new()
//!     .route("/proxy", get(|| async { "proxied" }))
//!     .route_layer(
//!         ServiceBuilder::new()
//!             .layer(HandleErrorLayer::new(answer))
//!             .layer(BreakerLayer::from_manager(&manager, "upstream")?),
//!     );
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`FeatureRejection`] is the [`RequireFeature`](crate::RequireFeature)
//! extractor's rejection: [`Unavailable`] while the feature is off, or a
//! `500` for a feature name the manager does not know.

use std::fmt;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use brownout::UnknownFeature;
pub use brownout_tower::problem::{
    DEPENDENCY_TIMEOUT, DEPENDENCY_UNAVAILABLE, FEATURE_UNAVAILABLE, LEVEL_TOO_LOW, PROBLEM_JSON,
};
use brownout_tower::{BoxError, CallTimedOut, CircuitOpen, Shed};
use http::header::CONTENT_LENGTH;
use http::{HeaderValue, StatusCode};

/// A request brownout refused; answers as the `brownout-tower` error it
/// wraps (see the [module docs](self)).
///
/// Like axum's own rejections it offers [`status`](Self::status) and
/// [`body_text`](Self::body_text), and logs at TRACE (target
/// `brownout_axum::rejection`, feature `tracing`) when turned into a response.
///
/// ```
/// use axum::response::IntoResponse;
/// use brownout::{DegradationManager, Level};
/// use brownout_axum::Unavailable;
/// use brownout_tower::gate::Admission;
///
/// let manager = DegradationManager::builder().build()?;
/// manager.force_level(Level::Minimal, None);
/// let shed = Admission::min_level(&manager, Level::Limited).admit().unwrap_err();
/// let rejection = Unavailable::from(shed);
/// assert_eq!(rejection.status(), http::StatusCode::SERVICE_UNAVAILABLE);
/// let body: serde_json::Value = serde_json::from_str(&rejection.body_text())?;
/// assert_eq!(body["level"], "MINIMAL");
/// assert_eq!(body["required_level"], "LIMITED");
///
/// let response = rejection.into_response();
/// assert_eq!(response.headers()["retry-after"], "5");
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Unavailable(Refused);

#[derive(Debug, Clone)]
enum Refused {
    Shed(Shed),
    CircuitOpen(CircuitOpen),
    TimedOut(CallTimedOut),
}

/// Applies the same expression to whichever error is wrapped.
macro_rules! each {
    ($refused:expr, $error:ident => $body:expr) => {
        match $refused {
            Refused::Shed($error) => $body,
            Refused::CircuitOpen($error) => $body,
            Refused::TimedOut($error) => $body,
        }
    };
}

impl Unavailable {
    /// The gate's shed, for a request a gate refused.
    #[must_use]
    pub fn shed(&self) -> Option<&Shed> {
        match &self.0 {
            Refused::Shed(shed) => Some(shed),
            _ => None,
        }
    }

    /// The breaker's rejection, for a call a breaker refused.
    #[must_use]
    pub fn circuit_open(&self) -> Option<&CircuitOpen> {
        match &self.0 {
            Refused::CircuitOpen(open) => Some(open),
            _ => None,
        }
    }

    /// The timeout, for a call cut off at its `call_timeout`.
    #[must_use]
    pub fn timed_out(&self) -> Option<&CallTimedOut> {
        match &self.0 {
            Refused::TimedOut(late) => Some(late),
            _ => None,
        }
    }

    /// The retry hint, sent as `Retry-After` in whole seconds (rounded up,
    /// at least one); `None` for a timeout.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.0 {
            Refused::Shed(shed) => Some(shed.retry_after()),
            Refused::CircuitOpen(open) => Some(open.retry_after()),
            Refused::TimedOut(_) => None,
        }
    }

    /// The status code: `503 Service Unavailable`, or `504 Gateway Timeout`
    /// for a timeout.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        each!(&self.0, error => error.status())
    }

    /// The problem type URI (see [`brownout_tower::problem`]).
    #[must_use]
    pub fn problem_type(&self) -> &'static str {
        each!(&self.0, error => error.problem_type())
    }

    /// The `application/problem+json` body of the response.
    #[must_use]
    pub fn body_text(&self) -> String {
        each!(&self.0, error => error.body_text())
    }
}

impl From<Shed> for Unavailable {
    fn from(shed: Shed) -> Self {
        Unavailable(Refused::Shed(shed))
    }
}

impl From<CircuitOpen> for Unavailable {
    fn from(open: CircuitOpen) -> Self {
        Unavailable(Refused::CircuitOpen(open))
    }
}

impl From<CallTimedOut> for Unavailable {
    fn from(late: CallTimedOut) -> Self {
        Unavailable(Refused::TimedOut(late))
    }
}

impl TryFrom<BoxError> for Unavailable {
    type Error = BoxError;

    /// The brownout error in a `brownout-tower` layer's error; any other
    /// error is handed back.
    fn try_from(error: BoxError) -> Result<Self, BoxError> {
        let error = match error.downcast::<Shed>() {
            Ok(shed) => return Ok(Unavailable::from(*shed)),
            Err(other) => other,
        };
        let error = match error.downcast::<CircuitOpen>() {
            Ok(open) => return Ok(Unavailable::from(*open)),
            Err(other) => other,
        };
        error
            .downcast::<CallTimedOut>()
            .map(|late| Unavailable::from(*late))
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        each!(&self.0, error => fmt::Display::fmt(error, f))
    }
}

impl std::error::Error for Unavailable {}

impl IntoResponse for Unavailable {
    fn into_response(self) -> Response {
        trace_rejection::<Self>(self.status(), &self);
        // The error moves into the response extensions, uncloned. The body
        // and its length are made once per change of the text and shared
        // (`brownout-tower` keeps them per thread), where axum would copy
        // the text and format the length for every answer.
        let response = each!(self.0, error => error.into_response_with(shareable));
        let (mut parts, (body, length)) = response.into_parts();
        parts.headers.insert(CONTENT_LENGTH, length);
        Response::from_parts(parts, Body::from(body))
    }
}

/// A body text as a shareable buffer and its `Content-Length`.
fn shareable(text: &str) -> (Bytes, HeaderValue) {
    (
        Bytes::copy_from_slice(text.as_bytes()),
        HeaderValue::from(text.len()),
    )
}

/// The rejection of [`RequireFeature`](crate::RequireFeature).
///
/// A name the manager does not know is a mistake in the code, not an
/// outage: it is refused (fail closed) with `500 Internal Server Error` and
/// a plain-text body saying what to fix, as axum answers a missing
/// extension, rather than a `503` that invites retries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FeatureRejection {
    /// The feature is off: `503`, problem+json ([`Unavailable`]).
    Unavailable(Unavailable),
    /// No feature by that name is configured: `500`.
    UnknownFeature(UnknownFeature),
}

impl FeatureRejection {
    /// The status code: `503`, or `500` for an unknown feature.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            FeatureRejection::Unavailable(unavailable) => unavailable.status(),
            FeatureRejection::UnknownFeature(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body of the response.
    #[must_use]
    pub fn body_text(&self) -> String {
        match self {
            FeatureRejection::Unavailable(unavailable) => unavailable.body_text(),
            FeatureRejection::UnknownFeature(_) => self.to_string(),
        }
    }
}

impl From<Unavailable> for FeatureRejection {
    fn from(unavailable: Unavailable) -> Self {
        FeatureRejection::Unavailable(unavailable)
    }
}

impl From<UnknownFeature> for FeatureRejection {
    fn from(unknown: UnknownFeature) -> Self {
        FeatureRejection::UnknownFeature(unknown)
    }
}

impl fmt::Display for FeatureRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureRejection::Unavailable(unavailable) => fmt::Display::fmt(unavailable, f),
            FeatureRejection::UnknownFeature(unknown) => write!(
                f,
                "{unknown}: no feature by that name is configured; fix the name or add the feature to the configuration"
            ),
        }
    }
}

impl std::error::Error for FeatureRejection {}

impl IntoResponse for FeatureRejection {
    fn into_response(self) -> Response {
        match self {
            FeatureRejection::Unavailable(unavailable) => unavailable.into_response(),
            FeatureRejection::UnknownFeature(_) => {
                let status = self.status();
                trace_rejection::<Self>(status, &self);
                (status, self.to_string()).into_response()
            }
        }
    }
}

/// Logs a rejection at TRACE, as axum logs its own.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn trace_rejection<R>(status: StatusCode, rejection: &dyn fmt::Display) {
    #[cfg(feature = "tracing")]
    tracing::event!(
        target: "brownout_axum::rejection",
        tracing::Level::TRACE,
        status = status.as_u16(),
        detail = %rejection,
        rejection_type = std::any::type_name::<R>(),
        "rejecting request",
    );
}
