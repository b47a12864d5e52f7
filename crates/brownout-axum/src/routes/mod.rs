//! Health endpoints and the status page.
//!
//! | route | answers |
//! |---|---|
//! | `GET /health` | [`health`]: `application/health+json`, `200` for `pass`/`warn`, `503` for `fail` |
//! | `GET /health/live` | [`live`]: always `200 {"status":"pass"}` (the process answers) |
//! | `GET /health/ready` | [`ready`]: `200` except at EMERGENCY, where it is `503` |
//! | `GET /status` | [`status_page`]: a self-contained HTML page, `200` at every level |
//!
//! None of them is gated: mount them outside any
//! [`require_feature`](crate::require_feature) layer and they stay up at
//! EMERGENCY. Every answer carries `cache-control: no-store`.
//!
//! # Level to health status
//!
//! | level | `status` | HTTP |
//! |---|---|---|
//! | OPTIMAL | `pass` | 200 |
//! | DEGRADED, LIMITED, MINIMAL | `warn` | 200 |
//! | EMERGENCY | `fail` | 503 |
//!
//! Each dependency is one check, `"<name>:circuit"`, whose `observedValue`
//! is the breaker state (`closed`, `open`, `half_open`, `forced_open`,
//! `disabled`) and whose status is `pass` when closed or disabled, `warn`
//! half-open, `fail` open or forced open. The body follows the draft
//! "Health Check Response Format for HTTP APIs"
//! (`draft-inadarei-api-health-check`) and adds the extension members
//! `level`, `computedLevel` and `score`.

mod health;
mod status;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use brownout::DegradationManager;

pub use self::health::{health, health_status, live, ready};
pub use self::status::status_page;

/// The health routes and the status page, for a router whose state gives a
/// [`DegradationManager`] (`DegradationManager: FromRef<S>`). Merge or nest
/// it into your app.
///
/// ```
/// use axum::{Router, extract::FromRef, routing::get};
/// use brownout::DegradationManager;
///
/// #[derive(Clone)]
/// struct AppState {
///     manager: DegradationManager,
///     greeting: &'static str,
/// }
///
/// impl FromRef<AppState> for DegradationManager {
///     fn from_ref(state: &AppState) -> Self {
///         state.manager.clone()
///     }
/// }
///
/// let state = AppState { manager: DegradationManager::builder().build()?, greeting: "hi" };
/// let app: Router = Router::new()
///     .route("/", get(|| async { "home" }))
///     .merge(brownout_axum::routes())
///     .with_state(state);
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
pub fn routes<S>() -> Router<S>
where
    DegradationManager: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/status", get(status_page))
}

/// [`routes`] with the manager as their state: a finished `Router` to merge
/// into any app.
///
/// ```
/// use axum::{Router, routing::get};
/// use brownout::DegradationManager;
///
/// let manager = DegradationManager::builder().build()?;
/// let app: Router = Router::new()
///     .route("/", get(|| async { "home" }))
///     .merge(brownout_axum::health_router(manager));
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
pub fn health_router(manager: DegradationManager) -> Router {
    routes().with_state(manager)
}
