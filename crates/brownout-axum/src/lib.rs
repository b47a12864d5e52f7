//! axum integration for [`brownout`]: route middleware that sheds requests
//! by feature or level, extractors for the level and for a feature,
//! problem+json answers for refused requests, health endpoints and a status
//! page.
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::get};
//! use brownout::{DegradationManager, Level};
//! use brownout_axum::GateLayer;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = DegradationManager::from_toml_str(r#"
//!     [dependencies.openai]
//!     weight = 50
//!     failure_threshold = 5
//!     recovery_timeout = "30s"
//!     [dependencies.database]
//!     weight = 50
//!     [features.ai_suggestions]
//!     min_level = "OPTIMAL"
//!     requires = ["openai"]
//! "#)?;
//!
//! let app = Router::new()
//!     .route("/suggestions", get(|| async { "try the blue one" }))
//!     .route_layer(GateLayer::feature(&manager, "ai_suggestions")?)
//!     .merge(brownout_axum::health_router(manager.clone()));
//!
//! let get = || Request::get("/suggestions").body(Body::empty()).unwrap();
//! assert_eq!(app.clone().oneshot(get()).await?.status(), StatusCode::OK);
//!
//! // Five failures open the `openai` breaker: the AI feature goes off.
//! let openai = manager.breaker("openai")?;
//! for _ in 0..5 {
//!     let _ = openai.call_sync(|| Err::<(), _>("503 from upstream"));
//! }
//! assert_eq!(manager.level(), Level::Minimal);
//!
//! // The answer names the open dependency and when its breaker tries again.
//! let response = app.oneshot(get()).await?;
//! assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! assert_eq!(response.headers()["retry-after"], "30");
//! # Ok(())
//! # }
//! ```
//!
//! # What it offers
//!
//! | item | does |
//! |---|---|
//! | [`GateLayer`] | middleware for `Router::route_layer`: `GateLayer::feature(&manager, name)?` / `GateLayer::min_level(&manager, level)`, answering [`Unavailable`] while the feature is off / the level is too low; `brownout-tower`'s gate with an HTTP answer |
//! | [`CurrentLevel`] | extractor: the effective [`Level`](brownout::Level), never rejects |
//! | [`RequireFeature<F>`] | extractor: the same check as [`GateLayer`], rejecting with [`Unavailable`] while feature [`F::NAME`](FeatureName::NAME) is off; `Option<RequireFeature<F>>` is `None` instead |
//! | [`Unavailable`] | the answer to a refused request: `503` + `Retry-After` (or `504` for a call timeout), `application/problem+json` naming the feature, the level or the dependency ([`rejection`]) |
//! | [`routes()`], [`health_router`] | `/health` (`application/health+json`), `/health/live`, `/health/ready`, `/status` (HTML) ([`mod@routes`]) |
//! | [`HttpClassifier`] | re-exported from [`brownout_tower`]: `5xx` is a failure, for a `BreakerLayer` in front of an HTTP client |
//!
//! A shed request's `Retry-After` follows the breaker that holds the feature
//! off (its time to the next trial, rounded up, never below one second), or
//! the layer's configured hint when no breaker gives an estimate. Every
//! request the middleware or the extractor refuses is counted in
//! `brownout_requests_shed_total` (core feature `metrics`).
//!
//! # Sharing the manager
//!
//! The extractors and the routes take the [`DegradationManager`](brownout::DegradationManager)
//! from **router state**: they work whenever `DegradationManager: FromRef<S>`
//! for the router's state `S` — the manager itself (`.with_state(manager)`)
//! or an app state with a `FromRef` impl. [`health_router`] comes with its
//! state already applied. The middleware is a `tower::Layer`, which cannot see
//! router state, so [`GateLayer`] takes the manager as an argument (as axum's
//! `from_fn_with_state` does); the manager is a cheap `Arc` clone.
//!
//! # Unknown feature names
//!
//! Never a panic, never silently off. [`GateLayer::feature`] returns
//! `Err(UnknownFeature)` when the router is built, so a typo fails at
//! startup. [`RequireFeature<F>`] names its feature in a type, resolved per
//! request: an unknown name is refused (fail closed) with a `500`
//! ([`FeatureRejection::UnknownFeature`]); [`RequireFeature::check`] catches
//! it at startup.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tracing` | yes | rejections logged at TRACE (target `brownout_axum::rejection`), as axum logs its own |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod extract;
pub mod middleware;
pub mod rejection;
pub mod routes;

pub use brownout_tower::HttpClassifier;

pub use self::extract::{CurrentLevel, FeatureName, RequireFeature};
pub use self::middleware::{GateLayer, GateService, ShedAsRejection};
pub use self::rejection::{FeatureRejection, Unavailable};
pub use self::routes::{
    Readiness, RoutesConfig, health_router, health_router_with, routes, routes_with,
};
