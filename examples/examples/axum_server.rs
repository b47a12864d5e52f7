//! The reference inventory service behind axum, degrading live.
//!
//! Loads the reference deployment (`examples/brownout.toml`), gates a few routes by feature,
//! serves `/health`, `/health/live`, `/health/ready` and the `/status` page,
//! and offers admin routes that take a simulated dependency down or bring it
//! back, so you can watch the level move. Every dependency has a health
//! probe (here: "is the simulated dependency up?") run by the background
//! task, so a recovered dependency closes its breaker on its own once its
//! recovery timeout has passed, with no user traffic (openai: 30 s).
//!
//! The configuration is read from `examples/brownout.toml` (or the file
//! `BROWNOUT_CONFIG` names) and watched: save a change (a weight, a
//! threshold, a feature's level) and it applies live, keeping every
//! breaker's state; a bad edit is logged and the last good config stays.
//! `kill -HUP <pid>` reloads it too.
//!
//! `examples/load.sh` drives this service with `wrk` through an outage.
//!
//! Run: `cargo run -p brownout-examples --example axum_server`
//! (listens on 127.0.0.1:3000; set `PORT` for another port), then:
//!
//! ```text
//! curl -i localhost:3000/suggestions            # 200 at OPTIMAL
//! curl -X POST localhost:3000/admin/fail/openai # openai open: MINIMAL
//! curl -i localhost:3000/suggestions            # 503 problem+json naming openai, Retry-After
//! curl -i localhost:3000/search                 # 200, cached results
//! curl localhost:3000/health                    # application/health+json, "warn"
//! open http://localhost:3000/status             # refreshes every 5 s
//! curl -X POST localhost:3000/admin/recover/openai # the probe closes it within 30 s
//! ```

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use brownout::{Breaker, BreakerState, Config, DegradationManager};
use brownout_axum::{CurrentLevel, FeatureName, GateLayer, RequireFeature, health_router};

/// The reference deployment, read at start and watched for changes.
const REFERENCE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/brownout.toml");

/// The feature behind `/search`'s full-text results.
struct FullTextSearch;
impl FeatureName for FullTextSearch {
    const NAME: &'static str = "full_text_search";
}

async fn index(CurrentLevel(level): CurrentLevel) -> String {
    format!(
        "inventory service at {level}\n\n\
         GET  /stock                  stock_lookup (MINIMAL)\n\
         POST /checkout               checkout (LIMITED)\n\
         GET  /search                 full-text at DEGRADED, cached below\n\
         GET  /suggestions            ai_suggestions (OPTIMAL, needs openai)\n\
         POST /admin/fail/{{dep}}       open a dependency's breaker\n\
         POST /admin/recover/{{dep}}    close it again\n\
         GET  /health /health/live /health/ready /status\n"
    )
}

async fn search(full_text: Option<RequireFeature<FullTextSearch>>) -> &'static str {
    match full_text {
        Some(_) => "full-text results: 3 hits",
        None => "cached results: 2 hits (full-text search is off)",
    }
}

/// The simulated dependencies that are down.
#[derive(Clone, Default)]
struct Outages(Arc<Mutex<BTreeSet<String>>>);

impl Outages {
    fn set(&self, dependency: &str, down: bool) {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if down {
            set.insert(dependency.to_owned());
        } else {
            set.remove(dependency);
        }
    }

    fn is_down(&self, dependency: &str) -> bool {
        let set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        set.contains(dependency)
    }
}

/// The breaker of `dependency`, or a 404 naming it.
fn breaker_of(
    manager: &DegradationManager,
    dependency: &str,
) -> Result<Breaker, (StatusCode, String)> {
    manager.breaker(dependency).map_err(|_| {
        (
            StatusCode::NOT_FOUND,
            format!("no dependency {dependency}\n"),
        )
    })
}

/// Takes `dependency` down: its calls fail until its breaker opens, and its
/// probe fails until it is brought back.
async fn fail(
    State(manager): State<DegradationManager>,
    Extension(outages): Extension<Outages>,
    Path(dependency): Path<String>,
) -> Result<String, (StatusCode, String)> {
    let breaker = breaker_of(&manager, &dependency)?;
    outages.set(&dependency, true);
    while !breaker.state().is_open() && breaker.state() != BreakerState::Disabled {
        let _ = breaker.call_sync(|| Err::<(), _>("simulated outage"));
    }
    Ok(format!(
        "{dependency} is {}; score {:.1}, level {}\n",
        breaker.state(),
        manager.health_score(),
        manager.level()
    ))
}

/// Brings `dependency` back: its probe passes from now on, and the
/// background task closes the breaker once the recovery timeout has passed.
async fn recover(
    State(manager): State<DegradationManager>,
    Extension(outages): Extension<Outages>,
    Path(dependency): Path<String>,
) -> Result<String, (StatusCode, String)> {
    let breaker = breaker_of(&manager, &dependency)?;
    outages.set(&dependency, false);
    let wait = breaker.snapshot().retry_after.unwrap_or_default();
    Ok(format!(
        "{dependency} is up; its breaker is {} and its probe closes it in {wait:.1?}\n",
        breaker.state(),
    ))
}

fn app(
    manager: &DegradationManager,
    outages: Outages,
) -> Result<Router, Box<dyn std::error::Error>> {
    // A feature name the manager does not know fails here, at startup.
    RequireFeature::<FullTextSearch>::check(manager)?;
    let gated = |route: Router<DegradationManager>, feature: &str| {
        GateLayer::feature(manager, feature).map(|layer| route.route_layer(layer))
    };
    let stock = gated(
        Router::new().route("/stock", get(|| async { "sku 42: 12 in stock\n" })),
        "stock_lookup",
    )?;
    let checkout = gated(
        Router::new().route("/checkout", post(|| async { "order 1001 placed\n" })),
        "checkout",
    )?;
    let suggestions = gated(
        Router::new().route("/suggestions", get(|| async { "try the blue one\n" })),
        "ai_suggestions",
    )?;
    let admin = Router::new()
        .route("/admin/fail/{dependency}", post(fail))
        .route("/admin/recover/{dependency}", post(recover))
        .layer(Extension(outages));

    Ok(Router::new()
        .route("/", get(index))
        // Searching needs at least LIMITED; the handler picks full-text or cached.
        .route(
            "/search",
            get(search).route_layer(GateLayer::min_level(manager, brownout::Level::Limited)),
        )
        .merge(stock)
        .merge(checkout)
        .merge(suggestions)
        .merge(admin)
        .with_state(manager.clone())
        .merge(health_router(manager.clone())))
}

/// `kill -HUP` reloads the config file now (the watcher logs the outcome).
#[cfg(unix)]
fn reload_on_sighup(watcher: Arc<brownout::ConfigWatcher>) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hangups) => {
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    match watcher.reload_now() {
                        Ok(()) => println!("SIGHUP: reloaded {}", watcher.path().display()),
                        Err(error) => eprintln!("SIGHUP: {error}; keeping the last good config"),
                    }
                }
            });
        }
        Err(error) => eprintln!("SIGHUP reloads unavailable: {error}"),
    }
}

#[cfg(not(unix))]
fn reload_on_sighup(_watcher: Arc<brownout::ConfigWatcher>) {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var("BROWNOUT_CONFIG").unwrap_or_else(|_| REFERENCE_PATH.to_owned());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let config = Config::from_toml_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let outages = Outages::default();
    let mut builder = DegradationManager::builder();
    for dependency in config.dependencies.keys() {
        let (outages, dependency) = (outages.clone(), dependency.clone());
        builder = builder.probe(dependency.clone(), move || {
            let up = !outages.is_down(&dependency);
            async move { if up { Ok(()) } else { Err("simulated outage") } }
        });
    }
    let manager = builder.config(config).build()?;
    // Runs the probes; stops when `_background` is dropped at the end of main.
    let _background = manager.spawn_background()?;
    // Reloads the file on every save; stops when `watcher` is dropped.
    let watcher = Arc::new(manager.watch_config(&path)?);
    reload_on_sighup(Arc::clone(&watcher));
    let app = app(&manager, outages)?;

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "listening on http://{}  (status page: /status)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
