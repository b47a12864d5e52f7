//! Route middleware: [`require_feature`] and [`require_level`].
//!
//! Both return a [`RequireLayer`], a plain `tower::Layer` for
//! [`Router::route_layer`](axum::Router::route_layer) (or `layer`, or a
//! `MethodRouter`). The service it builds reads the level, then the feature
//! gate (one atomic load), per request: while the route is allowed it calls
//! the inner service, otherwise it answers at once with an
//! [`Unavailable`] (`503`, `Retry-After`, problem+json) without calling it.
//! Its error type is the inner service's, so it fits where axum wants
//! infallible services; `poll_ready` only delegates.
//!
//! The layer takes the manager itself rather than reading router state: a
//! `tower::Layer` cannot see the state (axum's `from_fn_with_state` takes it
//! for the same reason). In exchange a feature name is checked once, when
//! the router is built: [`require_feature`] returns
//! `Err(`[`UnknownFeature`]`)` for a name the manager does not know, so a
//! typo fails at startup instead of shedding a route forever.

mod future;
mod layer;

use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use brownout::{DegradationManager, Level, UnknownFeature};
use brownout_tower::gate::{Admission, DEFAULT_RETRY_AFTER};
use tower_service::Service;

pub use self::future::ResponseFuture;
pub use self::layer::RequireLayer;
use crate::rejection::Unavailable;

/// Passes requests while `feature` is on; sheds them with [`Unavailable`] otherwise.
///
/// ```
/// use axum::{Router, routing::get};
/// use brownout::DegradationManager;
/// use brownout_axum::require_feature;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = DegradationManager::from_toml_str(r#"
///     [dependencies.openai]
///     weight = 1
///     [features.ai_suggestions]
///     min_level = "OPTIMAL"
///     requires = ["openai"]
/// "#)?;
/// let app: Router = Router::new()
///     .route("/suggestions", get(|| async { "try the blue one" }))
///     .route_layer(require_feature(&manager, "ai_suggestions")?);
///
/// // A typo is caught when the router is built.
/// assert!(require_feature(&manager, "ai_sugestions").is_err());
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`UnknownFeature`] if the manager has no feature by that name.
pub fn require_feature(
    manager: &DegradationManager,
    feature: &str,
) -> Result<RequireLayer, UnknownFeature> {
    let gate = manager.gate(feature)?;
    Ok(RequireLayer::new(Admission::feature(
        manager.clone(),
        gate,
        DEFAULT_RETRY_AFTER,
    )))
}

/// Passes requests while the effective level is at least `level`; sheds
/// them with [`Unavailable`] otherwise.
///
/// ```
/// use axum::{Router, routing::post};
/// use brownout::{DegradationManager, Level};
/// use brownout_axum::require_level;
///
/// let manager = DegradationManager::builder().build()?;
/// let app: Router = Router::new()
///     .route("/orders", post(|| async { "created" }))
///     .route_layer(require_level(&manager, Level::Limited));
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[must_use]
pub fn require_level(manager: &DegradationManager, level: Level) -> RequireLayer {
    RequireLayer::new(Admission::min_level(
        manager.clone(),
        level,
        DEFAULT_RETRY_AFTER,
    ))
}

/// Calls the inner service only while its feature is on or its level is
/// met. Built by [`RequireLayer`].
#[derive(Debug, Clone)]
pub struct RequireService<S> {
    inner: S,
    check: Admission,
}

impl<S> RequireService<S> {
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

impl<S, Request> Service<Request> for RequireService<S>
where
    S: Service<Request>,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        // The same decision as brownout-tower's `GateLayer`, answered as
        // problem+json.
        match self.check.admit() {
            Ok(()) => ResponseFuture::called(self.inner.call(request)),
            Err(shed) => ResponseFuture::rejected(Unavailable::from(&shed).into_response()),
        }
    }
}
