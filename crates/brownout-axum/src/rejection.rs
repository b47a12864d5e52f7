//! The rejection of a request shed by brownout: `503 Service Unavailable`
//! with `Retry-After` and an RFC 9457 `application/problem+json` body.
//!
//! The same [`Unavailable`] answers for the [`require_feature`](crate::require_feature)
//! and [`require_level`](crate::require_level) middleware and for the
//! [`RequireFeature`](crate::RequireFeature) extractor:
//!
//! ```text
//! HTTP/1.1 503 Service Unavailable
//! content-type: application/problem+json
//! retry-after: 5
//!
//! {
//!   "type": "https://docs.rs/brownout-axum/0.1/brownout_axum/rejection/index.html#feature-unavailable",
//!   "title": "Feature unavailable",
//!   "status": 503,
//!   "detail": "feature `ai_suggestions` is off at level MINIMAL (it needs OPTIMAL); retry after 5 s",
//!   "feature": "ai_suggestions",
//!   "level": "MINIMAL",
//!   "required_level": "OPTIMAL",
//!   "retry_after": 5
//! }
//! ```
//!
//! # Problem types
//!
//! ## `feature-unavailable`
//!
//! [`FEATURE_UNAVAILABLE`]: a feature is off, because the level is below its
//! `min_level` or a dependency it requires is open. `feature` names it;
//! `required_level` is its `min_level` (absent for a feature name the
//! manager does not know, which is refused as well: fail closed).
//!
//! ## `level-too-low`
//!
//! [`LEVEL_TOO_LOW`]: the effective level is below the route's minimum;
//! `required_level` is that minimum and there is no `feature` member.
//!
//! `level` is always the effective level when the request was refused and
//! `retry_after` the same whole seconds as the `Retry-After` header.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use brownout::Level;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};

/// The `type` of a problem for a feature that is off.
pub const FEATURE_UNAVAILABLE: &str =
    "https://docs.rs/brownout-axum/0.1/brownout_axum/rejection/index.html#feature-unavailable";

/// The `type` of a problem for a level below a route's minimum.
pub const LEVEL_TOO_LOW: &str =
    "https://docs.rs/brownout-axum/0.1/brownout_axum/rejection/index.html#level-too-low";

/// The media type of the rejection body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A request refused because a feature is off or the level is too low.
///
/// Answers `503 Service Unavailable` with `Retry-After` (whole seconds,
/// rounded up), `cache-control: no-store` and an
/// `application/problem+json` body (see the [module docs](self)). Like
/// axum's own rejections it offers [`status`](Self::status) and
/// [`body_text`](Self::body_text), and logs at TRACE (target
/// `brownout_axum::rejection`, feature `tracing`) when turned into a response.
///
/// ```
/// use std::time::Duration;
/// use axum::response::IntoResponse;
/// use brownout::Level;
/// use brownout_axum::rejection::Unavailable;
///
/// let rejection = Unavailable::level_too_low(Level::Minimal, Level::Limited, Duration::from_secs(5));
/// assert_eq!(rejection.status(), http::StatusCode::SERVICE_UNAVAILABLE);
/// let body: serde_json::Value = serde_json::from_str(&rejection.body_text())?;
/// assert_eq!(body["level"], "MINIMAL");
/// assert_eq!(body["required_level"], "LIMITED");
///
/// let response = rejection.into_response();
/// assert_eq!(response.headers()["retry-after"], "5");
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    feature: Option<Cow<'static, str>>,
    level: Level,
    required_level: Option<Level>,
    retry_after: Duration,
}

impl Unavailable {
    /// `feature` is off at `level`; `required_level` is its `min_level`
    /// (`None` if the manager does not know the feature).
    #[must_use]
    pub fn feature_off(
        feature: impl Into<Cow<'static, str>>,
        level: Level,
        required_level: Option<Level>,
        retry_after: Duration,
    ) -> Self {
        Unavailable {
            feature: Some(feature.into()),
            level,
            required_level,
            retry_after,
        }
    }

    /// The effective `level` is below `required_level`.
    #[must_use]
    pub fn level_too_low(level: Level, required_level: Level, retry_after: Duration) -> Self {
        Unavailable {
            feature: None,
            level,
            required_level: Some(required_level),
            retry_after,
        }
    }

    /// The feature that is off; `None` for a level gate.
    #[must_use]
    pub fn feature(&self) -> Option<&str> {
        self.feature.as_deref()
    }

    /// The effective level when the request was refused.
    #[must_use]
    pub fn level(&self) -> Level {
        self.level
    }

    /// The lowest level at which the request would pass (`None` for an unknown feature).
    #[must_use]
    pub fn required_level(&self) -> Option<Level> {
        self.required_level
    }

    /// The retry hint, sent as `Retry-After`.
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The status code of the response: always `503 Service Unavailable`.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    /// The problem type URI: [`FEATURE_UNAVAILABLE`] or [`LEVEL_TOO_LOW`].
    #[must_use]
    pub fn problem_type(&self) -> &'static str {
        if self.feature.is_some() {
            FEATURE_UNAVAILABLE
        } else {
            LEVEL_TOO_LOW
        }
    }

    /// The `application/problem+json` body of the response.
    #[must_use]
    pub fn body_text(&self) -> String {
        let mut body = serde_json::Map::new();
        body.insert("type".into(), self.problem_type().into());
        let title = if self.feature.is_some() {
            "Feature unavailable"
        } else {
            "Service degraded"
        };
        body.insert("title".into(), title.into());
        body.insert("status".into(), self.status().as_u16().into());
        body.insert("detail".into(), self.to_string().into());
        if let Some(feature) = self.feature() {
            body.insert("feature".into(), feature.into());
        }
        body.insert("level".into(), self.level.as_str().into());
        if let Some(required) = self.required_level {
            body.insert("required_level".into(), required.as_str().into());
        }
        body.insert(
            "retry_after".into(),
            retry_after_secs(self.retry_after).into(),
        );
        serde_json::Value::Object(body).to_string()
    }
}

/// Whole seconds, rounded up.
pub(crate) fn retry_after_secs(hint: Duration) -> u64 {
    hint.as_secs()
        .saturating_add(u64::from(hint.subsec_nanos() > 0))
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.feature(), self.required_level) {
            (Some(name), Some(required)) => write!(
                f,
                "feature `{name}` is off at level {} (it needs {required})",
                self.level
            )?,
            (Some(name), None) => write!(
                f,
                "feature `{name}` is not configured, so it is off (level {})",
                self.level
            )?,
            (None, required) => write!(
                f,
                "level {} is below {}",
                self.level,
                required.unwrap_or(Level::Optimal)
            )?,
        }
        write!(f, "; retry after {} s", retry_after_secs(self.retry_after))
    }
}

impl std::error::Error for Unavailable {}

impl IntoResponse for Unavailable {
    fn into_response(self) -> Response {
        let body = self.body_text();
        #[cfg(feature = "tracing")]
        tracing::event!(
            target: "brownout_axum::rejection",
            tracing::Level::TRACE,
            status = self.status().as_u16(),
            body = %body,
            rejection_type = std::any::type_name::<Self>(),
            "rejecting request",
        );
        (
            self.status(),
            [
                (CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)),
                (
                    RETRY_AFTER,
                    HeaderValue::from(retry_after_secs(self.retry_after)),
                ),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response()
    }
}

impl From<&brownout_tower::Shed> for Unavailable {
    /// The same answer for a request shed by a tower
    /// [`GateLayer`](brownout_tower::GateLayer), e.g. in axum's `HandleErrorLayer`.
    fn from(shed: &brownout_tower::Shed) -> Self {
        Unavailable {
            feature: shed.feature().map(|name| Cow::Owned(name.to_owned())),
            level: shed.level(),
            required_level: Some(shed.required_level()),
            retry_after: shed.retry_after(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 0);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(29_001)), 30);
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
    }

    #[test]
    fn unknown_feature_has_no_required_level() {
        let r = Unavailable::feature_off("typo", Level::Optimal, None, Duration::from_secs(1));
        let body: serde_json::Value = serde_json::from_str(&r.body_text()).unwrap();
        assert_eq!(body["feature"], "typo");
        assert!(body.get("required_level").is_none());
        assert_eq!(body["type"], FEATURE_UNAVAILABLE);
        assert!(r.to_string().contains("not configured"));
    }
}
