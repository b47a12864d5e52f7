//! tower layers over [`brownout`]: a circuit breaker in front of a client
//! service, and feature or level gates in front of any service.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::Duration;
//!
//! use brownout::{Breaker, BreakerConfig, BreakerState, clock::ManualClock};
//! use brownout_tower::{BreakerLayer, CircuitOpen};
//! use tower::{Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), brownout_tower::BoxError> {
//! let clock = ManualClock::new();
//! let config = BreakerConfig {
//!     failure_threshold: 2,
//!     recovery_timeout: Duration::from_secs(30),
//!     ..BreakerConfig::default()
//! };
//! let breaker = Breaker::with_clock("inventory", config, clock.clone())?;
//!
//! let calls = Arc::new(AtomicUsize::new(0));
//! let seen = Arc::clone(&calls);
//! let mut client = ServiceBuilder::new()
//!     .layer(BreakerLayer::new(breaker.clone()))
//!     .timeout(Duration::from_secs(2)) // inside the breaker: a timeout is a failure
//!     .service_fn(move |healthy: bool| {
//!         seen.fetch_add(1, Ordering::Relaxed);
//!         async move { if healthy { Ok("stock: 12") } else { Err("502 bad gateway") } }
//!     });
//!
//! // Two failures open the breaker...
//! for _ in 0..2 {
//!     assert!(client.ready().await?.call(false).await.is_err());
//! }
//! assert_eq!(breaker.state(), BreakerState::Open);
//!
//! // ...and the next request fails fast, without reaching the service.
//! let err = client.ready().await?.call(true).await.unwrap_err();
//! let open = err.downcast_ref::<CircuitOpen>().expect("rejected by the breaker");
//! assert_eq!(open.dependency(), "inventory");
//! assert_eq!(open.retry_after(), Duration::from_secs(30));
//! assert_eq!(calls.load(Ordering::Relaxed), 2);
//!
//! // After the recovery timeout one trial request goes through and closes it.
//! clock.advance(Duration::from_secs(30));
//! assert_eq!(client.ready().await?.call(true).await?, "stock: 12");
//! assert_eq!(breaker.state(), BreakerState::Closed);
//! # Ok(())
//! # }
//! ```
//!
//! # Layers
//!
//! | layer | decides with | when it refuses |
//! |---|---|---|
//! | [`BreakerLayer`] | one dependency's [`Breaker`](brownout::Breaker), outcomes from a [`Classify`] | [`CircuitOpen`] error, inner service not called; [`CallTimedOut`] past the dependency's `call_timeout` |
//! | [`GateLayer`] | a feature's [`FeatureGate`](brownout::FeatureGate) or a minimum [`Level`](brownout::Level) | [`Shed`] error naming the reason, or a `503` problem+json answer (feature `http`) |
//!
//! Both services answer errors as a [`BoxError`] (the same type as
//! `tower::BoxError`) holding [`CircuitOpen`], [`CallTimedOut`], [`Shed`] or
//! the inner error, so they compose with `tower::timeout`, `tower::limit`,
//! `tower::buffer` and axum's `HandleErrorLayer`; find the typed error with
//! `downcast_ref`. With the `http` feature each of them also answers over
//! HTTP (`to_response()`, RFC 9457 problem+json: the `problem` module).
//! A breaker built by a [`DegradationManager`](brownout::DegradationManager)
//! ([`BreakerLayer::from_manager`]) moves the manager's health score, level
//! and feature gates; every request a gate sheds is counted in the core's
//! `brownout_requests_shed_total` (core feature `metrics`).
//!
//! # Readiness and permits
//!
//! `poll_ready` delegates to the inner service; the breaker and the gate
//! decide in `call`. So no breaker permit is held between `poll_ready` and
//! `call` (a caller that polls ready and walks away holds no half-open
//! slot), and an open breaker or a closed gate never keeps `poll_ready`
//! pending: the request fails fast instead. An `Err` from the inner
//! `poll_ready` (a `tower::buffer` whose client lost its connection) counts
//! as a failed call, so a dependency that fails only there still opens its
//! breaker.
//!
//! The permit taken in `call` lives in the response future. When the future
//! completes, its result is classified and recorded; if the future is
//! dropped first (a cancelled request, an outer timeout), the permit's drop
//! records nothing and gives back its half-open trial slot. The futures are
//! `pin-project-lite` enums (the inner call, or a ready refusal): no boxing
//! and no allocation per call on the admitted path, except the boxed timer
//! of a dependency with a `call_timeout` (boxed so that requests without one
//! carry a null pointer, not a whole `Sleep`). A refused request allocates
//! only the `BoxError` it returns.
//!
//! # Timeouts
//!
//! A dependency whose configuration sets `call_timeout` has it applied by
//! its [`BreakerLayer`]: the call is dropped at the deadline (feature
//! `tokio`, inside a tokio runtime with its timer enabled, as
//! `#[tokio::main]` does), counted as a timeout failure, and answered
//! [`CallTimedOut`]; without a timer, an answer after the deadline is
//! counted and answered the same way. For a per-layer timeout instead, put
//! `tower::timeout` *inside* the breaker (below it in a `ServiceBuilder`) so
//! a timed-out call counts as a failure; a timeout outside it drops the
//! response future, which records nothing.
//!
//! Put `tower::limit` or `tower::buffer` on either side: above the breaker,
//! rejected requests still take a concurrency slot for the instant they
//! need; below it, they take none.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tokio` | yes | a tokio timer that cuts a [`BreakerLayer`] call off at its dependency's `call_timeout` (without it, a late answer still counts as a timeout) |
//! | `http` | no | `HttpClassifier` (`5xx` is a failure, any `4xx`/`5xx` overridable, e.g. `429`), `GateLayer::respond_503`, and RFC 9457 problem+json answers (`to_response()`) for [`Shed`], [`CircuitOpen`] and [`CallTimedOut`] |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod breaker;
pub mod classify;
pub mod error;
pub mod gate;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod problem;

pub use self::breaker::{BreakerLayer, BreakerService};
pub use self::classify::{Classify, DefaultClassifier};
pub use self::error::{CallTimedOut, CircuitOpen, Shed};
pub use self::gate::{GateLayer, GateService};

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use self::classify::HttpClassifier;

/// A type-erased error, the same type as `tower::BoxError`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
