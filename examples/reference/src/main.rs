//! The reference inventory service on real dependencies.
//!
//! The reference deployment (`brownout.toml` beside this package: openai 50,
//! database 30, redis 15, s3 5; sixteen features) in front of PostgreSQL
//! (tokio-postgres + deadpool), Redis (the `redis` crate), an LLM-style HTTP
//! upstream and an object-store-style HTTP upstream (hyper-util's client
//! through brownout-tower's `BreakerLayer`). Every dependency has a
//! `call_timeout` and a probe (`SELECT 1`, `PING`, `GET /health`) run by the
//! background task, so the service climbs back to OPTIMAL on its own.
//!
//! `--no-brownout` serves the same routes with the same timeouts (plain
//! `tokio::time::timeout`), without breakers or gates.
//!
//! With `--config FILE`, the file is watched: a save (a weight, a
//! threshold, a feature's level) applies live and keeps every breaker's
//! state, a bad edit is logged and the last good configuration stays, and
//! `kill -HUP` reloads it at once.
//!
//! ```text
//! reference-service --listen 127.0.0.1:8080 \
//!     --pg 'host=127.0.0.1 port=5432 user=postgres dbname=postgres' \
//!     --redis redis://127.0.0.1:6379/ \
//!     --llm-url http://127.0.0.1:8181 --objects-url http://127.0.0.1:8182
//! ```
//!
//! Every flag has an environment variable (`REFERENCE_LISTEN`, `REFERENCE_PG`,
//! ...); `--help` lists them.

// Wall-clock time is what a service and a load harness measure; there is
// no ManualClock to inject here.
#![allow(clippy::disallowed_methods)]

mod app;
mod deps;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use brownout::{Config, DegradationManager};
use clap::Parser;
use metrics_exporter_prometheus::PrometheusBuilder;
use tracing_subscriber::EnvFilter;

use crate::app::App;
use crate::deps::{Cache, Db, Guard, Upstream};

/// The reference deployment, bundled.
const REFERENCE: &str = include_str!("../brownout.toml");

/// How long startup waits for PostgreSQL and Redis.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The reference inventory service.
#[derive(Debug, Parser)]
#[command(name = "reference-service", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "REFERENCE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// PostgreSQL connection string (libpq `key=value` or a postgresql:// URL).
    #[arg(
        long,
        env = "REFERENCE_PG",
        default_value = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    )]
    pg: String,
    /// Redis URL.
    #[arg(
        long,
        env = "REFERENCE_REDIS",
        default_value = "redis://127.0.0.1:6379/"
    )]
    redis: String,
    /// Base URL of the LLM upstream (dependency `openai`).
    #[arg(
        long,
        env = "REFERENCE_LLM_URL",
        default_value = "http://127.0.0.1:8181"
    )]
    llm_url: String,
    /// Base URL of the object store (dependency `s3`).
    #[arg(
        long,
        env = "REFERENCE_OBJECTS_URL",
        default_value = "http://127.0.0.1:8182"
    )]
    objects_url: String,
    /// A brownout TOML file instead of the bundled reference deployment.
    #[arg(long, env = "REFERENCE_CONFIG")]
    config: Option<PathBuf>,
    /// The same routes and timeouts without breakers, gates or levels.
    #[arg(long, env = "REFERENCE_NO_BROWNOUT")]
    no_brownout: bool,
    /// Empty the orders and re-seed the stock at startup.
    #[arg(long)]
    reset: bool,
    /// How many products to seed.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i32).range(1..=1_000_000))]
    skus: i32,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("reference-service: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The call timeout of `dependency`, or an error naming it.
fn call_timeout(config: &Config, dependency: &str) -> Result<Duration, String> {
    config
        .dependencies
        .get(dependency)
        .ok_or_else(|| format!("the configuration has no dependency `{dependency}`"))?
        .breaker
        .call_timeout
        .ok_or_else(|| format!("dependency `{dependency}` has no call_timeout"))
}

async fn run(args: Args) -> Result<(), String> {
    let source = match &args.config {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?,
        None => REFERENCE.to_owned(),
    };
    let origin = args.config.as_ref().map_or_else(
        || "bundled brownout.toml".to_owned(),
        |p| p.display().to_string(),
    );
    let config =
        Config::from_toml_str(&source).map_err(|e| format!("bad config ({origin}): {e}"))?;
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| format!("bad listen address {:?}: {e}", args.listen))?;
    let timeouts = [
        call_timeout(&config, "database")?,
        call_timeout(&config, "redis")?,
        call_timeout(&config, "openai")?,
        call_timeout(&config, "s3")?,
    ];
    let [db_timeout, redis_timeout, llm_timeout, s3_timeout] = timeouts;

    // Every address is checked before anything connects.
    redis::Client::open(args.redis.as_str())
        .map_err(|e| format!("bad Redis address {:?}: {e}", args.redis))?;
    Upstream::new("openai", &args.llm_url, llm_timeout, None)?;
    Upstream::new("s3", &args.objects_url, s3_timeout, None)?;

    // The dependencies, first without breakers: startup checks and seeding.
    let db = Db::new(&args.pg, Guard::new("database", db_timeout, None)?)?;
    match tokio::time::timeout(CONNECT_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(format!(
                "PostgreSQL is not reachable ({}): {e}\n  start it, or point --pg / REFERENCE_PG at it",
                args.pg
            ));
        }
        Err(_) => {
            return Err(format!(
                "PostgreSQL did not answer within {CONNECT_TIMEOUT:?} ({})",
                args.pg
            ));
        }
    }
    db.prepare(args.skus, args.reset)
        .await
        .map_err(|e| format!("PostgreSQL: {e}"))?;
    let cache = Cache::connect(
        &args.redis,
        Guard::new("redis", redis_timeout, None)?,
        CONNECT_TIMEOUT,
    )
    .await
    .map_err(|e| {
        format!(
            "Redis is not reachable ({}): {e}\n  start it, or point --redis / REFERENCE_REDIS at it",
            args.redis
        )
    })?;
    cache.ping().await.map_err(|e| {
        format!(
            "Redis is not answering PING ({}): {e}\n  start it, or point --redis / REFERENCE_REDIS at it",
            args.redis
        )
    })?;
    // Warm the cache: every SKU, so that reads survive a database outage.
    let stock = db
        .all_stock()
        .await
        .map_err(|e| format!("PostgreSQL: {e}"))?;
    let pairs: Vec<(String, String)> = stock
        .iter()
        .map(|(sku, qty)| (format!("stock:{sku}"), qty.to_string()))
        .collect();
    cache
        .set_many(&pairs, CONNECT_TIMEOUT)
        .await
        .map_err(|e| format!("Redis: cannot warm the cache: {e}"))?;
    tracing::info!(skus = pairs.len(), "cache warmed");

    let prometheus = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;

    let probe_db = db.clone();
    let probe_cache = cache.clone();
    let manager = if args.no_brownout {
        tracing::warn!("--no-brownout: no breakers, no gates, plain timeouts");
        None
    } else {
        let probe_llm = Upstream::new("openai", &args.llm_url, llm_timeout, None)?;
        let probe_objects = Upstream::new("s3", &args.objects_url, s3_timeout, None)?;
        let manager = DegradationManager::builder()
            .config(config)
            .probe("database", move || {
                let db = probe_db.clone();
                async move { db.ping().await }
            })
            .probe("redis", move || {
                let cache = probe_cache.clone();
                async move { cache.ping().await }
            })
            .probe("openai", move || {
                let llm = probe_llm.clone();
                async move { llm.probe().await }
            })
            .probe("s3", move || {
                let objects = probe_objects.clone();
                async move { objects.probe().await }
            })
            .build()
            .map_err(|e| format!("bad config ({origin}): {e}"))?;
        Some(manager)
    };
    let m = manager.as_ref();
    let db = Db::new(&args.pg, Guard::new("database", db_timeout, m)?)?;
    let cache = cache.with_guard(Guard::new("redis", redis_timeout, m)?);
    let app = App {
        db,
        cache,
        llm: Upstream::new("openai", &args.llm_url, llm_timeout, m)?,
        objects: Upstream::new("s3", &args.objects_url, s3_timeout, m)?,
        search_gates: match m {
            Some(manager) => Some((
                manager
                    .gate("full_text_search")
                    .map_err(|e| e.to_string())?,
                manager.gate("cached_search").map_err(|e| e.to_string())?,
            )),
            None => None,
        },
        manager: manager.clone(),
    };
    let router = app::router(app, prometheus)?;

    // Runs the probes; stops when dropped at the end of `run`.
    let background = match &manager {
        Some(manager) => {
            let background = manager
                .spawn_background()
                .map_err(|e| format!("cannot start the background task: {e}"))?;
            let mut changes = manager.subscribe();
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let change = changes.borrow_and_update().clone();
                    tracing::info!(
                        target: "reference::level",
                        from = %change.from,
                        to = %change.to,
                        score = change.score,
                        cause = %change.cause,
                        "level changed"
                    );
                }
            });
            Some(background)
        }
        None => None,
    };
    // Reloads the config file on every save and on SIGHUP; stops when dropped.
    let _watcher = match (&manager, &args.config) {
        (Some(manager), Some(path)) => {
            let watcher = std::sync::Arc::new(
                manager
                    .watch_config(path)
                    .map_err(|e| format!("cannot watch the config file: {e}"))?,
            );
            reload_on_sighup(std::sync::Arc::clone(&watcher));
            Some(watcher)
        }
        _ => None,
    };

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    tracing::info!(
        address = %listen,
        mode = if manager.is_some() { "brownout" } else { "no-brownout" },
        "listening (status page: /status)"
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| format!("server: {e}"))?;
    if let Some(background) = background {
        background.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// `kill -HUP` reloads the config file now; the outcome is logged.
fn reload_on_sighup(watcher: std::sync::Arc<brownout::ConfigWatcher>) {
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hangups) => {
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    match watcher.reload_now() {
                        Ok(()) => {
                            tracing::info!(path = %watcher.path().display(), "SIGHUP: configuration reloaded")
                        }
                        Err(error) => {
                            tracing::warn!(%error, "SIGHUP: reload refused; keeping the last good configuration")
                        }
                    }
                }
            });
        }
        Err(error) => tracing::warn!(%error, "SIGHUP reloads unavailable"),
    }
    #[cfg(not(unix))]
    let _ = watcher;
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
