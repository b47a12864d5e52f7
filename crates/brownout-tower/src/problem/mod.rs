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
//! Refusing is meant to cost less than serving. The body is written straight
//! into one buffer, and each thread keeps the last few answers it wrote: while
//! nothing an answer shows has changed (the feature, the level, the reason,
//! the retry time to the millisecond), the next refusal gets a copy of it
//! instead of being encoded again.
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

use brownout::HeldOff;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

mod cache;
mod facts;
mod json;
#[cfg(test)]
mod tests;

use self::cache::{Entry, with_answer};
use self::facts::{Facts, Held, Scalars, millis};

/// What one kind of refusal puts in its answer.
trait Problem: fmt::Display + Clone + Send + Sync + 'static {
    fn kind(&self) -> Kind;

    fn facts(&self) -> Facts<'_>;
}

impl Problem for Shed {
    fn kind(&self) -> Kind {
        if self.feature().is_some() {
            Kind::FeatureOff
        } else {
            Kind::LevelLow
        }
    }

    fn facts(&self) -> Facts<'_> {
        let (dependency, other, held_off) = match self.held_off() {
            HeldOff::Level {
                level,
                required,
                retry_after,
            } => (
                None,
                None,
                Held::Level {
                    level: *level,
                    required: *required,
                    retry_after_ms: retry_after.map(millis),
                },
            ),
            HeldOff::Dependency {
                dependency,
                state,
                retry_after,
            } => (
                Some(dependency.as_str()),
                None,
                Held::Dependency {
                    state: *state,
                    retry_after_ms: retry_after.map(millis),
                },
            ),
            other => (self.dependency(), Some(other), Held::Other),
        };
        let feature = self.feature();
        Facts {
            feature,
            dependency,
            other,
            scalars: Scalars {
                kind: self.kind(),
                levels: Some((self.level(), self.required_level())),
                held_off: Some(held_off),
                state: None,
                retry_after: Some(retry_after_secs(self.retry_after())),
                timeout: None,
            },
        }
    }
}

impl Problem for CircuitOpen {
    fn kind(&self) -> Kind {
        Kind::BreakerOpen
    }

    fn facts(&self) -> Facts<'_> {
        let mut facts = Facts::of_dependency(self.kind(), self.dependency());
        facts.scalars.state = Some(self.state());
        facts.scalars.retry_after = Some(retry_after_secs(self.retry_after()));
        facts
    }
}

impl Problem for CallTimedOut {
    fn kind(&self) -> Kind {
        Kind::TimedOut
    }

    fn facts(&self) -> Facts<'_> {
        let mut facts = Facts::of_dependency(self.kind(), self.dependency());
        facts.scalars.timeout = Some(self.timeout());
        facts
    }
}

/// The answer to `problem`, its body made by `body` from the answer.
fn respond<P: Problem, B>(problem: P, body: impl FnOnce(&mut Entry) -> B) -> Response<B> {
    let (body, retry_after) = with_answer(&problem, |entry| {
        (body(&mut *entry), entry.retry_after.clone())
    });
    let mut response = Response::new(body);
    *response.status_mut() = problem.kind().status();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(retry_after) = retry_after {
        headers.insert(RETRY_AFTER, retry_after);
    }
    response.extensions_mut().insert(problem);
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
                with_answer(self, |answer| answer.body.clone())
            }

            /// The HTTP answer: [`status`](Self::status), problem+json
            /// [`body_text`](Self::body_text), `Retry-After` for a `503`, and
            /// a clone of this error in the response extensions (see
            /// [`problem`](crate::problem)).
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn to_response<B: From<String>>(&self) -> Response<B> {
                respond(self.clone(), |answer| B::from(answer.body.clone()))
            }

            /// The HTTP answer, as [`to_response`](Self::to_response), with
            /// this error moved into the response extensions rather than cloned.
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn into_response<B: From<String>>(self) -> Response<B> {
                respond(self, |answer| B::from(answer.body.clone()))
            }

            /// The HTTP answer, as [`into_response`](Self::into_response),
            /// with the body `make` makes of the body text. Each thread
            /// keeps what `make` made with the answer it last wrote (for
            /// each of a few features or dependencies) and clones it while
            /// the text stays the same, so a body that shares its buffer
            /// (such as `Bytes`) is made once per change, not per request.
            #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
            #[must_use]
            pub fn into_response_with<B: Clone + 'static>(
                self,
                make: impl FnOnce(&str) -> B,
            ) -> Response<B> {
                respond(self, |answer| answer.made(make))
            }
        }
    };
}

http_answer!(Shed);
http_answer!(CircuitOpen);
http_answer!(CallTimedOut);
