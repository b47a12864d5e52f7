//! axum integration for [`brownout`]: route middleware that sheds requests
//! by feature or level, extractors for the level and for a feature, `503`
//! problem+json rejections, health endpoints and a status page.
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::get};
//! use brownout::{DegradationManager, Level};
//! use brownout_axum::require_feature;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = DegradationManager::from_toml_str(r#"
//!     [dependencies.openai]
//!     weight = 50
//!     failure_threshold = 5
//!     [dependencies.database]
//!     weight = 50
//!     [features.ai_suggestions]
//!     min_level = "OPTIMAL"
//!     requires = ["openai"]
//! "#)?;
//!
//! let app = Router::new()
//!     .route("/suggestions", get(|| async { "try the blue one" }))
//!     .route_layer(require_feature(&manager, "ai_suggestions")?)
//!     .merge(brownout_axum::health_router(manager.clone()));
//!
//! let get = || Request::get("/suggestions").body(Body::empty()).unwrap();
//! assert_eq!(app.clone().oneshot(get()).await?.status(), StatusCode::OK);
//!
//! // Five failures open the `openai` breaker: the score falls to 50, the
//! // level to MINIMAL, and the AI feature goes off.
//! let openai = manager.breaker("openai").expect("configured above");
//! for _ in 0..5 {
//!     let _ = openai.call_sync(|| Err::<(), _>("503 from upstream"));
//! }
//! assert_eq!(manager.level(), Level::Minimal);
//!
//! let response = app.oneshot(get()).await?;
//! assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! assert_eq!(response.headers()["retry-after"], "5");
//! # Ok(())
//! # }
//! ```
//!
//! # What it offers
//!
//! | item | does |
//! |---|---|
//! | [`require_feature`], [`require_level`] | a [`RequireLayer`] for `Router::route_layer`: the route answers [`Unavailable`] while the feature is off / the level is too low |
//! | [`CurrentLevel`] | extractor: the effective [`Level`](brownout::Level), never rejects |
//! | [`RequireFeature<F>`] | extractor: rejects with [`Unavailable`] while feature [`F::NAME`](FeatureName::NAME) is off; `Option<RequireFeature<F>>` never rejects |
//! | [`Unavailable`] | the rejection: `503`, `Retry-After`, `application/problem+json` naming the feature and level ([`rejection`]) |
//! | [`routes()`], [`health_router`] | `/health` (`application/health+json`), `/health/live`, `/health/ready`, `/status` (HTML) ([`mod@routes`]) |
//! | [`HttpClassifier`] | re-exported from [`brownout_tower`]: `5xx` is a failure, for a `BreakerLayer` in front of an HTTP client |
//!
//! # Sharing the manager
//!
//! The extractors and the routes take the [`DegradationManager`](brownout::DegradationManager)
//! from **router state**: they work whenever `DegradationManager: FromRef<S>`
//! for the router's state `S` — the manager itself (`.with_state(manager)`)
//! or an app state with a `FromRef` impl. [`health_router`] comes with its
//! state already applied. The middleware is a `tower::Layer`, which cannot see
//! router state, so [`require_feature`] and [`require_level`] take the manager
//! as an argument (as axum's `from_fn_with_state` does); the manager is a
//! cheap `Arc` clone.
//!
//! # Unknown feature names
//!
//! Never a panic. [`require_feature`] returns `Err(UnknownFeature)` when the
//! router is built, so a typo fails at startup. [`RequireFeature<F>`] names
//! its feature in a type, checked per request: an unknown name is refused
//! with a `503` (fail closed) and the manager logs a warning once per name.
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
pub use self::middleware::{RequireLayer, RequireService, require_feature, require_level};
pub use self::rejection::Unavailable;
pub use self::routes::{health_router, routes};
