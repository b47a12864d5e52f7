//! HTTP answers for refused requests: RFC 9457 problem details (feature `http`).
//!
//! [`Shed`], [`CircuitOpen`] and [`CallTimedOut`] each answer over HTTP with
//! `to_response()` (and [`GateLayer::respond_503`](crate::GateLayer::respond_503)
//! answers shed requests that way): the status, `content-type:
//! application/problem+json`, `cache-control: no-store`, for a `503` a
//! `Retry-After` in whole seconds (rounded up, never below one second), the
//! error itself in the response extensions, and a body such as:
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
//! `detail` is the error's `Display`; `retry_after` is the same whole
//! seconds as the header.
//!
//! ```
//! use brownout::{Breaker, BreakerConfig};
//! use brownout_tower::error::CircuitOpen;
//! use http::StatusCode;
//!
//! let breaker = Breaker::new("search", BreakerConfig::default())?;
//! breaker.force_open();
//! let open = CircuitOpen::from(breaker.try_acquire().unwrap_err());
//! let response: http::Response<String> = open.to_response();
//! assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! assert_eq!(response.headers()["retry-after"], "30");
//! let body: serde_json::Value = serde_json::from_str(response.body())?;
//! assert_eq!(body["dependency"], "search");
//! assert_eq!(body["state"], "forced_open");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Problem types
//!
//! ## `feature-unavailable`
//!
//! [`FEATURE_UNAVAILABLE`], `503`: a feature gate shed the request
//! ([`Shed`] with a feature). `feature` names it, `required_level` is its
//! `min_level`, and `held_off` says why it is off: `"kind": "level"`, or
//! `"kind": "dependency"` for an open dependency it requires, which is also
//! named in a top-level `dependency` member.
//!
//! ## `level-too-low`
//!
//! [`LEVEL_TOO_LOW`], `503`: the effective `level` is below a level gate's
//! `required_level` ([`Shed`] without a feature); no `feature` member.
//!
//! ## `dependency-unavailable`
//!
//! [`DEPENDENCY_UNAVAILABLE`], `503`: a breaker rejected the call
//! ([`CircuitOpen`]); `dependency` names it and `state` is its breaker's
//! state (`open`, `half_open` with every trial slot taken, `forced_open`).
//!
//! ## `dependency-timeout`
//!
//! [`DEPENDENCY_TIMEOUT`], `504`: the call outlived its dependency's
//! `call_timeout` ([`CallTimedOut`]); `dependency` names it and
//! `timeout_ms` is the timeout. No `Retry-After`.

use std::fmt;
use std::time::Duration;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use serde_json::{Map, Value};

use crate::error::{CallTimedOut, CircuitOpen, Shed, retry_after_secs};

/// The media type of every answer's body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `type` of a problem for a request shed by a feature gate.
pub const FEATURE_UNAVAILABLE: &str =
    "https://docs.rs/brownout-tower/0.1/brownout_tower/problem/index.html#feature-unavailable";

/// The `type` of a problem for a request shed by a level gate.
pub const LEVEL_TOO_LOW: &str =
    "https://docs.rs/brownout-tower/0.1/brownout_tower/problem/index.html#level-too-low";

/// The `type` of a problem for a call a breaker rejected.
pub const DEPENDENCY_UNAVAILABLE: &str =
    "https://docs.rs/brownout-tower/0.1/brownout_tower/problem/index.html#dependency-unavailable";

/// The `type` of a problem for a call that outlived its `call_timeout`.
pub const DEPENDENCY_TIMEOUT: &str =
    "https://docs.rs/brownout-tower/0.1/brownout_tower/problem/index.html#dependency-timeout";

/// The four problem types.
#[derive(Clone, Copy)]
enum Kind {
    FeatureOff,
    LevelLow,
    BreakerOpen,
    TimedOut,
}

impl Kind {
    fn status(self) -> StatusCode {
        match self {
            Kind::TimedOut => StatusCode::GATEWAY_TIMEOUT,
            Kind::FeatureOff | Kind::LevelLow | Kind::BreakerOpen => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The type URI and its title.
    fn uri_and_title(self) -> (&'static str, &'static str) {
        match self {
            Kind::FeatureOff => (FEATURE_UNAVAILABLE, "Feature unavailable"),
            Kind::LevelLow => (LEVEL_TOO_LOW, "Service degraded"),
            Kind::BreakerOpen => (DEPENDENCY_UNAVAILABLE, "Dependency unavailable"),
            Kind::TimedOut => (DEPENDENCY_TIMEOUT, "Dependency timed out"),
        }
    }
}

/// What one kind of refusal puts in its answer.
trait Problem: fmt::Display + Clone + Send + Sync + 'static {
    fn kind(&self) -> Kind;

    /// The retry hint, sent as `Retry-After`.
    fn hint(&self) -> Option<Duration> {
        None
    }

    /// The extension members.
    fn members(&self, body: &mut Map<String, Value>);
}

fn body_text<P: Problem>(problem: &P) -> String {
    let kind = problem.kind();
    let (uri, title) = kind.uri_and_title();
    let mut body = Map::new();
    body.insert("type".into(), uri.into());
    body.insert("title".into(), title.into());
    body.insert("status".into(), kind.status().as_u16().into());
    body.insert("detail".into(), problem.to_string().into());
    problem.members(&mut body);
    if let Some(hint) = problem.hint() {
        body.insert("retry_after".into(), retry_after_secs(hint).into());
    }
    Value::Object(body).to_string()
}

fn to_response<P: Problem, B: From<String>>(problem: &P) -> Response<B> {
    let mut response = Response::new(B::from(body_text(problem)));
    *response.status_mut() = problem.kind().status();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(hint) = problem.hint() {
        headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(hint)));
    }
    response.extensions_mut().insert(problem.clone());
    response
}

/// The public HTTP face of one error type.
macro_rules! http_answer {
    ($error:ty) => {
        impl $error {
            /// The status of the HTTP answer.
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn status(&self) -> StatusCode {
                self.kind().status()
            }

            /// The problem type URI of the HTTP answer (see [`problem`](crate::problem)).
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn problem_type(&self) -> &'static str {
                self.kind().uri_and_title().0
            }

            /// The `application/problem+json` body of the HTTP answer.
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn body_text(&self) -> String {
                body_text(self)
            }

            /// The HTTP answer: [`status`](Self::status), problem+json
            /// [`body_text`](Self::body_text), `Retry-After` for a `503`, and
            /// this error in the response extensions (see [`problem`](crate::problem)).
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn to_response<B: From<String>>(&self) -> Response<B> {
                to_response(self)
            }
        }
    };
}

http_answer!(Shed);
http_answer!(CircuitOpen);
http_answer!(CallTimedOut);

impl Problem for Shed {
    fn kind(&self) -> Kind {
        if self.feature().is_some() {
            Kind::FeatureOff
        } else {
            Kind::LevelLow
        }
    }

    fn hint(&self) -> Option<Duration> {
        Some(self.retry_after())
    }

    fn members(&self, body: &mut Map<String, Value>) {
        if let Some(feature) = self.feature() {
            body.insert("feature".into(), feature.into());
        }
        body.insert("level".into(), self.level().as_str().into());
        body.insert(
            "required_level".into(),
            self.required_level().as_str().into(),
        );
        if let Some(dependency) = self.dependency() {
            body.insert("dependency".into(), dependency.into());
        }
        let held_off = serde_json::to_value(self.held_off()).unwrap_or_default();
        body.insert("held_off".into(), held_off);
    }
}

impl Problem for CircuitOpen {
    fn kind(&self) -> Kind {
        Kind::BreakerOpen
    }

    fn hint(&self) -> Option<Duration> {
        Some(self.retry_after())
    }

    fn members(&self, body: &mut Map<String, Value>) {
        body.insert("dependency".into(), self.dependency().into());
        body.insert("state".into(), self.state().as_str().into());
    }
}

impl Problem for CallTimedOut {
    fn kind(&self) -> Kind {
        Kind::TimedOut
    }

    fn members(&self, body: &mut Map<String, Value>) {
        body.insert("dependency".into(), self.dependency().into());
        let millis = u64::try_from(self.timeout().as_millis()).unwrap_or(u64::MAX);
        body.insert("timeout_ms".into(), millis.into());
    }
}
