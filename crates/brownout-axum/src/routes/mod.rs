//! Health endpoints and the status page.
//!
//! | route | answers |
//! |---|---|
//! | `GET /health` | [`health`]: `application/health+json`, `200` for `pass`/`warn`, `503` for `fail` (EMERGENCY) |
//! | `GET /health/live` | [`live`]: always `200 {"status":"pass"}` (the process answers) |
//! | `GET /health/ready` | [`ready`]: `200` at every level by default; `503` below a minimum level only with [`Readiness::MinLevel`] |
//! | `GET /status` | [`status_page`]: a self-contained HTML page, `200` at every level |
//!
//! None of them is gated: mount them outside any
//! [`GateLayer`](crate::GateLayer) and they stay up at
//! EMERGENCY. Every answer carries `cache-control: no-store`. Point a load
//! balancer at `/health/ready`, a liveness probe at `/health/live`, and
//! monitoring (not the load balancer) at `/health`.
//!
//! # Health status
//!
//! Levels and breaker states map to `pass`/`warn`/`fail` through the core's
//! [`Level::health`] and [`BreakerState::health`](brownout::BreakerState::health)
//! only; `/health` and the colours of the status page agree.
//!
//! | level | `status` | HTTP on `/health` |
//! |---|---|---|
//! | OPTIMAL | `pass` | 200 |
//! | DEGRADED, LIMITED, MINIMAL | `warn` | 200 |
//! | EMERGENCY | `fail` | 503 |
//!
//! # The `/health` body
//!
//! It follows the draft "Health Check Response Format for HTTP APIs"
//! (`draft-inadarei-api-health-check`) and adds the extension members
//! `level`, `computedLevel` and `score`:
//!
//! ```json
//! {
//!   "status": "warn",
//!   "level": "MINIMAL",
//!   "computedLevel": "MINIMAL",
//!   "score": 50.0,
//!   "output": "degradation level MINIMAL (health score 50.0)",
//!   "checks": {
//!     "brownout:level": [{
//!       "componentType": "system",
//!       "observedValue": "MINIMAL",
//!       "status": "warn",
//!       "time": "2025-01-01T12:00:00.000Z",
//!       "score": 50.0,
//!       "from": "OPTIMAL",
//!       "cause": "breaker openai closed -> open",
//!       "output": "level MINIMAL since 2025-01-01T12:00:00.000Z, from OPTIMAL (breaker openai closed -> open)"
//!     }],
//!     "openai:circuit": [{
//!       "componentId": "openai",
//!       "componentType": "component",
//!       "observedValue": "open",
//!       "status": "fail",
//!       "time": "2025-01-01T12:00:00.000Z",
//!       "weight": 50.0,
//!       "retryAfterMs": 30000,
//!       "lastTrip": {
//!         "cause": "consecutive_failures",
//!         "consecutiveFailures": 5,
//!         "time": "2025-01-01T12:00:00.000Z"
//!       },
//!       "output": "circuit breaker open, opened by 5 consecutive failures"
//!     }],
//!     "database:circuit": [{
//!       "componentId": "database",
//!       "componentType": "component",
//!       "observedValue": "closed",
//!       "status": "pass",
//!       "time": "2025-01-01T12:03:10.250Z",
//!       "weight": 30.0
//!     }]
//!   }
//! }
//! ```
//!
//! - `brownout:level`: the effective level; `time` is when it became what it
//!   is, `from` and `cause` the last change ([`ChangeCause`](brownout::ChangeCause)
//!   as text), `score` the health score now, and `override` (`level`,
//!   `source` when it says who forced it, such as `fleet`, `expiresInMs`)
//!   while a level is forced.
//! - `<name>:circuit`, one per dependency: `observedValue` is the breaker
//!   state (`closed`, `open`, `half_open`, `forced_open`, `disabled`);
//!   `time` is its last state change, or the time of the answer if it never
//!   changed; `retryAfterMs` while open; `lastTrip` (`cause`,
//!   `consecutiveFailures`, `window` for rate policies, `time`) once it has
//!   opened, kept after it closes.
//! - Times are RFC 3339 in UTC, computed as the time of the answer minus the
//!   manager's "how long ago"; `output` is present when `status` is not
//!   `pass`. Half-open trials past their timeout are expired before the
//!   answer, so it shows what the next call would see.
//!
//! # Readiness
//!
//! `/health/ready` is `200` at every level unless you opt in to
//! [`Readiness::MinLevel`] with [`RoutesConfig::readiness`]: see
//! [`Readiness`] for why that is not the default.

mod describe;
mod health;
mod status;
mod time;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::get;
use brownout::{DegradationManager, Level};

pub use self::health::{health, health_status, live, ready};
pub use self::status::status_page;

/// When `/health/ready` takes the instance out of the load balancer.
///
/// Every replica of a service shares the same dependencies, so every replica
/// sees the same level at the same time. A readiness that fails on the level
/// fails on all of them at once: the load balancer pulls the whole fleet,
/// the status page and the still-working features go dark with it, and with
/// no traffic (and, behind some load balancers, no probes) nothing is left to
/// notice the dependency coming back. Hence the default,
/// [`Readiness::Always`]: ready at every level, and the gated routes answer
/// `503` with `Retry-After` for what is off.
///
/// [`Readiness::MinLevel`] is for deployments where something else can take
/// the traffic: another region or cluster behind the same load balancer, a
/// static fallback, a failover that must see the service as down. Then an
/// instance is ready only while the effective level is at least the given
/// level, e.g. `Readiness::MinLevel(Level::Minimal)` answers `503` at
/// EMERGENCY.
///
/// ```
/// use brownout::Level;
/// use brownout_axum::routes::Readiness;
///
/// assert!(Readiness::Always.is_ready(Level::Emergency));
/// assert!(Readiness::MinLevel(Level::Minimal).is_ready(Level::Minimal));
/// assert!(!Readiness::MinLevel(Level::Minimal).is_ready(Level::Emergency));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Readiness {
    /// Ready at every level (the default): `/health/ready` is always `200`,
    /// `pass` at OPTIMAL and `warn` below it.
    #[default]
    Always,
    /// Ready while the effective level is at least this one; below it
    /// `/health/ready` answers `503` with `fail`. Opt-in: see [`Readiness`]
    /// for the trade-off.
    MinLevel(Level),
}

impl Readiness {
    /// Whether an instance at `level` is ready.
    #[must_use]
    pub const fn is_ready(self, level: Level) -> bool {
        match self {
            Readiness::Always => true,
            Readiness::MinLevel(min) => level.as_u8() >= min.as_u8(),
        }
    }
}

/// Options for [`routes_with`] and [`health_router_with`]. The default is
/// what [`routes`] and [`health_router`] serve.
///
/// ```
/// use brownout::Level;
/// use brownout_axum::routes::{Readiness, RoutesConfig};
///
/// let config = RoutesConfig::new().readiness(Readiness::MinLevel(Level::Minimal));
/// assert_eq!(config.readiness, Readiness::MinLevel(Level::Minimal));
/// assert_eq!(RoutesConfig::default().readiness, Readiness::Always);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RoutesConfig {
    /// When `/health/ready` answers `503`; [`Readiness::Always`] by default.
    pub readiness: Readiness,
}

impl RoutesConfig {
    /// The defaults: ready at every level.
    #[must_use]
    pub const fn new() -> Self {
        RoutesConfig {
            readiness: Readiness::Always,
        }
    }

    /// Sets when `/health/ready` answers `503` (see [`Readiness`] for the
    /// trade-off of a level-based readiness).
    #[must_use]
    pub const fn readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }
}

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
    routes_with(RoutesConfig::new())
}

/// [`routes`] with options: today, when `/health/ready` answers `503`.
///
/// ```
/// use axum::Router;
/// use brownout::{DegradationManager, Level};
/// use brownout_axum::routes::{Readiness, RoutesConfig, routes_with};
///
/// let manager = DegradationManager::builder().build()?;
/// // Not ready at EMERGENCY: only where another cluster can take the traffic.
/// let config = RoutesConfig::new().readiness(Readiness::MinLevel(Level::Minimal));
/// let app: Router = Router::new().merge(routes_with(config)).with_state(manager);
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
pub fn routes_with<S>(config: RoutesConfig) -> Router<S>
where
    DegradationManager: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    let readiness = config.readiness;
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route(
            "/health/ready",
            get(
                move |State(manager): State<DegradationManager>| async move {
                    health::readiness_response(&manager, readiness)
                },
            ),
        )
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

/// [`routes_with`] with the manager as their state.
///
/// ```
/// use axum::Router;
/// use brownout::{DegradationManager, Level};
/// use brownout_axum::routes::{Readiness, RoutesConfig, health_router_with};
///
/// let manager = DegradationManager::builder().build()?;
/// let config = RoutesConfig::new().readiness(Readiness::MinLevel(Level::Minimal));
/// let app: Router = Router::new().merge(health_router_with(manager, config));
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
pub fn health_router_with(manager: DegradationManager, config: RoutesConfig) -> Router {
    routes_with(config).with_state(manager)
}
