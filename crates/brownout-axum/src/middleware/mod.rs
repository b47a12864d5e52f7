//! Route middleware: [`GateLayer`], the `brownout-tower` gate answering
//! with [`Unavailable`].
//!
//! `GateLayer::feature(&manager, name)?` and `GateLayer::min_level(&manager,
//! level)` build a plain `tower::Layer` for
//! [`Router::route_layer`](axum::Router::route_layer) (or `layer`, or a
//! `MethodRouter`). Its service is [`brownout_tower::GateService`] with the
//! [`ShedAsRejection`] mode: it makes the gate's
//! [`Admission`](brownout_tower::gate::Admission) check per request (the
//! level, then the feature gate: a few atomic loads); while the route is
//! allowed it calls the inner service, otherwise it counts the request as
//! shed and answers at once with an [`Unavailable`] (`503`, `Retry-After`,
//! problem+json naming the real reason) without calling it. Its error type
//! is the inner service's, so it fits where axum wants infallible services;
//! `poll_ready` only delegates.
//!
//! The layer takes the manager itself rather than reading router state: a
//! `tower::Layer` cannot see the state (axum's `from_fn_with_state` takes it
//! for the same reason). In exchange a feature name is checked once, when
//! the router is built: [`GateLayer::feature`] returns
//! `Err(`[`UnknownFeature`]`)` for a name the manager does not know, so a
//! typo fails at startup instead of shedding a route forever.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use brownout::{DegradationManager, Level, UnknownFeature};
use brownout_tower::Shed;
use brownout_tower::gate::ShedMode;
use tower_layer::Layer;

use crate::rejection::Unavailable;

/// Sheds a route's requests while a feature is off or the level is below a
/// minimum, answering [`Unavailable`]: the same layer as
/// [`brownout_tower::GateLayer`], with an HTTP answer.
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use brownout::{DegradationManager, Level};
/// use brownout_axum::GateLayer;
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
///     .route_layer(GateLayer::feature(&manager, "ai_suggestions")?)
///     .route("/orders", post(|| async { "created" }).route_layer(GateLayer::min_level(&manager, Level::Limited)));
///
/// // A typo is caught when the router is built.
/// assert!(GateLayer::feature(&manager, "ai_sugestions").is_err());
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct GateLayer(brownout_tower::GateLayer<ShedAsRejection>);

impl GateLayer {
    /// Passes requests while `feature` is on (its `min_level` is met and
    /// none of the dependencies it requires is open).
    ///
    /// # Errors
    /// [`UnknownFeature`] if the manager has no such feature, so a typo fails at startup.
    pub fn feature(manager: &DegradationManager, feature: &str) -> Result<Self, UnknownFeature> {
        brownout_tower::GateLayer::feature(manager, feature)
            .map(|gate| GateLayer(gate.respond_with()))
    }

    /// Passes requests while the effective level is at least `level`.
    #[must_use]
    pub fn min_level(manager: &DegradationManager, level: Level) -> Self {
        GateLayer(brownout_tower::GateLayer::min_level(manager, level).respond_with())
    }

    /// The `Retry-After` hint of a refused request when no open breaker
    /// gives an estimate (default
    /// [`DEFAULT_RETRY_AFTER`](brownout_tower::gate::DEFAULT_RETRY_AFTER),
    /// 5 s; sent in whole seconds, rounded up).
    #[must_use]
    pub fn retry_after(self, hint: Duration) -> Self {
        GateLayer(self.0.retry_after(hint))
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = GateService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        self.0.layer(inner)
    }
}

/// The service [`GateLayer`] builds: `brownout-tower`'s gate service in
/// the [`ShedAsRejection`] mode.
pub type GateService<S> = brownout_tower::GateService<S, ShedAsRejection>;

/// The [`ShedMode`] of the axum middleware: the inner service's answers
/// become [`Response`]s, a shed request is answered with [`Unavailable`],
/// and the inner service's error type is kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShedAsRejection;

impl<T: IntoResponse, E> ShedMode<T, E> for ShedAsRejection {
    type Response = Response;
    type Error = E;

    #[inline]
    fn response(response: T) -> Response {
        response.into_response()
    }

    #[inline]
    fn error(error: E) -> E {
        error
    }

    fn shed(shed: Box<Shed>) -> Result<Response, E> {
        Ok(Unavailable::from(*shed).into_response())
    }
}
