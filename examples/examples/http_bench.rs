//! What brownout costs per request over HTTP: one server whose routes pair
//! each brownout path with its bare counterpart, for one load generator run
//! to compare in the same process and the same conditions.
//!
//! | route             | what it does                                                   |
//! |-------------------|----------------------------------------------------------------|
//! | `/bare`           | a trivial handler (`ok`)                                       |
//! | `/gated`          | the same handler behind a feature gate whose feature is on     |
//! | `/shed`           | the same handler behind a gate whose feature is off: `503` problem+json naming the open dependency, `Retry-After` |
//! | `/shed-static`    | no brownout: a handler answering the bytes `/shed` answers (status, headers, body), copied at startup |
//! | `/client/bare`    | a handler that calls an in-process tower client                |
//! | `/client/breaker` | the same client behind a `BreakerLayer` (closed)               |
//! | `/full`           | `/client/breaker` behind a gate whose feature is on: both brownout layers |
//!
//! The feature behind `/shed` requires the dependency `down`, whose breaker
//! is opened at startup with a one-hour recovery timeout: its retry time
//! counts down as a real outage's does (no background task, so it stays
//! open). `down` weighs little, so the level stays OPTIMAL and the feature
//! behind `/gated` stays on.
//!
//! `benches/http.sh` builds this in release, drives every route with `wrk`
//! and prints requests/s, p50 and p99 per route, and each brownout route
//! against its bare counterpart.
//!
//! Run: `cargo run --release -p brownout-examples --example http_bench [ADDR]`
//! (or `HTTP_BENCH_ADDR=ADDR`; default `127.0.0.1:0`, a free port). It prints
//! `listening on http://ADDR` once it accepts connections.

use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use brownout::DegradationManager;
use brownout_axum::{GateLayer, Unavailable};
use brownout_tower::{BoxError, BreakerLayer};
use tower::{Service, ServiceExt, service_fn};

/// `upstream` stays closed, `down` is opened at startup (shared with the
/// `axum_overhead` bench group).
const CONFIG: &str = include_str!("http_bench.toml");

/// The trivial handler every route shares.
async fn ok() -> &'static str {
    "ok\n"
}

/// A handler that asks `client` (an in-process tower service) for an answer.
fn calls<S>(client: S) -> axum::routing::MethodRouter
where
    S: Service<u64, Response = u64> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    get(move || {
        let client = client.clone();
        async move {
            match client.oneshot(41).await.map_err(Into::into) {
                Ok(answer) => format!("{answer}\n").into_response(),
                Err(err) => refused(err),
            }
        }
    })
}

/// A brownout refusal as problem+json, anything else as `502`.
fn refused(err: BoxError) -> Response {
    match Unavailable::try_from(err) {
        Ok(refused) => refused.into_response(),
        Err(other) => (StatusCode::BAD_GATEWAY, other.to_string()).into_response(),
    }
}

/// The answer `/shed` gives now, as a static handler would give it: the
/// cost of the same bytes on the wire with no brownout work.
async fn shed_copy(
    router: &Router,
) -> Result<(StatusCode, HeaderMap, Bytes), Box<dyn std::error::Error>> {
    use tower::ServiceExt as _;
    let request = axum::http::Request::get("/shed").body(axum::body::Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = axum::body::to_bytes(body, usize::MAX).await?;
    Ok((parts.status, headers, body))
}

async fn app(manager: &DegradationManager) -> Result<Router, Box<dyn std::error::Error>> {
    let client = service_fn(|n: u64| async move { Ok::<_, Infallible>(n + 1) });
    let breaker = BreakerLayer::from_manager(manager, "upstream")?;
    let router = Router::new()
        .route("/bare", get(ok))
        .route(
            "/gated",
            get(ok).route_layer(GateLayer::feature(manager, "on")?),
        )
        .route(
            "/shed",
            get(ok).route_layer(GateLayer::feature(manager, "off")?),
        )
        .route("/client/bare", calls(client))
        .route(
            "/client/breaker",
            calls(tower::Layer::layer(&breaker, client)),
        )
        .route(
            "/full",
            calls(tower::Layer::layer(&breaker, client))
                .route_layer(GateLayer::feature(manager, "on")?),
        );
    let (status, headers, body) = shed_copy(&router).await?;
    Ok(router.route(
        "/shed-static",
        get(move || {
            let answer = (status, headers.clone(), body.clone());
            async move { answer }
        }),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manager = DegradationManager::from_toml_str(CONFIG)?;
    let down = manager.breaker("down")?;
    while !down.state().is_open() {
        let _ = down.call_sync(|| Err::<(), _>("down for the benchmark"));
    }
    assert!(manager.is_enabled("on") && !manager.is_enabled("off"));

    let addr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("HTTP_BENCH_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(&manager).await?)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
