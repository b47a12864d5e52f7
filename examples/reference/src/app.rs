//! The routes of the inventory API.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use brownout::{DegradationManager, FeatureGate, Level};
use brownout_axum::{GateLayer, Unavailable};
use brownout_tower::{BoxError, CircuitOpen};
use bytes::Bytes;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;
use serde_json::json;

use crate::deps::{Cache, Checkout, Db, DepError, PlainTimeout, Upstream};

/// Everything a handler needs.
#[derive(Clone, Debug)]
pub(crate) struct App {
    /// `None` with `--no-brownout`.
    pub(crate) manager: Option<DegradationManager>,
    pub(crate) db: Db,
    pub(crate) cache: Cache,
    pub(crate) llm: Upstream,
    pub(crate) objects: Upstream,
    /// `full_text_search` and `cached_search`, resolved once.
    pub(crate) search_gates: Option<(FeatureGate, FeatureGate)>,
}

/// Where stock reads may go at the current level: the cache ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadMode {
    /// Redis, then PostgreSQL on a miss or a Redis failure (OPTIMAL, DEGRADED).
    CacheThenDatabase,
    /// Redis only (LIMITED; MINIMAL, which is also read-only).
    CacheOnly,
    /// Nothing but the status page (EMERGENCY).
    Off,
}

impl App {
    fn level(&self) -> Option<Level> {
        self.manager.as_ref().map(DegradationManager::level)
    }

    fn read_mode(&self) -> ReadMode {
        match self.level() {
            None | Some(Level::Optimal | Level::Degraded) => ReadMode::CacheThenDatabase,
            Some(Level::Limited | Level::Minimal) => ReadMode::CacheOnly,
            Some(Level::Emergency) => ReadMode::Off,
        }
    }
}

/// An RFC 9457 `application/problem+json` answer.
pub(crate) fn problem(
    status: StatusCode,
    title: &str,
    detail: &str,
    retry_after: Option<u64>,
) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    response
}

/// The answer to a failed dependency call: 503 + Retry-After for an open
/// breaker, 504 for a timeout, 502 for an error.
fn dependency_failed(error: DepError) -> Response {
    match error {
        DepError::Open(rejected) => Unavailable::from(CircuitOpen::from(rejected)).into_response(),
        DepError::Timeout { .. } => problem(
            StatusCode::GATEWAY_TIMEOUT,
            "Dependency timed out",
            &error.to_string(),
            None,
        ),
        DepError::Failed { .. } => problem(
            StatusCode::BAD_GATEWAY,
            "Dependency failed",
            &error.to_string(),
            None,
        ),
    }
}

/// The answer to a failed upstream call through the tower stack.
fn upstream_failed(name: &str, error: BoxError) -> Response {
    if error.is::<PlainTimeout>() {
        return problem(
            StatusCode::GATEWAY_TIMEOUT,
            "Dependency timed out",
            &format!("{name}: {error}"),
            None,
        );
    }
    match Unavailable::try_from(error) {
        Ok(unavailable) => unavailable.into_response(),
        Err(error) => problem(
            StatusCode::BAD_GATEWAY,
            "Dependency failed",
            &format!("{name}: {error}"),
            None,
        ),
    }
}

fn level_refusal(level: Option<Level>, what: &str) -> Response {
    let level = level.map_or_else(|| "-".to_owned(), |l| l.to_string());
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service degraded",
        &format!("{what} at level {level}"),
        Some(5),
    )
}

async fn index() -> &'static str {
    "reference inventory service\n\n\
     GET  /stock/{sku}         stock read: Redis, then PostgreSQL (cache-only at LIMITED and MINIMAL)\n\
     GET  /stores              store locator (static)\n\
     GET  /search?q=           full-text (DEGRADED), cached results at LIMITED\n\
     POST /orders              checkout (LIMITED), one transaction, Idempotency-Key header\n\
     GET  /suggestions/{sku}   ai_suggestions (OPTIMAL, needs openai)\n\
     GET  /images/{sku}        product_images (DEGRADED, needs s3)\n\
     GET  /dashboard           live_sales_dashboard (OPTIMAL)\n\
     GET  /health /health/live /health/ready /status /metrics\n"
}

fn stock_key(sku: i32) -> String {
    format!("stock:{sku}")
}

async fn stock(State(app): State<App>, Path(sku): Path<i32>) -> Response {
    let mode = app.read_mode();
    if mode == ReadMode::Off {
        return level_refusal(app.level(), "only the status page is served");
    }
    let cached = app.cache.get(stock_key(sku)).await;
    let hit = cached
        .as_ref()
        .ok()
        .and_then(Option::as_deref)
        .and_then(|qty| qty.parse::<i64>().ok());
    if let Some(qty) = hit {
        return Json(json!({"sku": sku, "qty": qty, "source": "cache"})).into_response();
    }
    if mode == ReadMode::CacheOnly {
        let why = match cached {
            Err(e) => format!("the cache failed ({e}); reads are cache-only"),
            Ok(_) => "cache miss; reads are cache-only".to_owned(),
        };
        return level_refusal(app.level(), &why);
    }
    match app.db.stock(sku).await {
        Ok(Some(qty)) => {
            if cached.is_ok() {
                // Fill the cache in the background: the answer does not wait for it.
                let cache = app.cache.clone();
                tokio::spawn(async move { cache.set(stock_key(sku), qty.to_string()).await });
            }
            Json(json!({"sku": sku, "qty": qty, "source": "database"})).into_response()
        }
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            "No such SKU",
            &format!("sku {sku}"),
            None,
        ),
        Err(e) => dependency_failed(e),
    }
}

async fn stores() -> Json<serde_json::Value> {
    Json(json!([
        {"id": 1, "city": "Lyon", "open": "08:00-20:00"},
        {"id": 2, "city": "Porto", "open": "09:00-21:00"},
        {"id": 3, "city": "Leeds", "open": "08:00-22:00"},
    ]))
}

/// `?q=`
#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn search_key(q: &str) -> String {
    format!("search:{}", q.to_lowercase())
}

async fn search(State(app): State<App>, Query(query): Query<SearchQuery>) -> Response {
    let (full_text, cached) = match &app.search_gates {
        Some((full, cached)) => (full.is_enabled(), cached.is_enabled()),
        None => (true, true),
    };
    let q = query.q.chars().take(64).collect::<String>();
    let mut failure = None;
    if full_text {
        match app.db.search(&q).await {
            Ok(hits) => {
                let results = json!(
                    hits.iter()
                        .map(|(sku, name)| json!({"sku": sku, "name": name}))
                        .collect::<Vec<_>>()
                );
                let cache = app.cache.clone();
                let key = search_key(&q);
                let value = results.to_string();
                tokio::spawn(async move { cache.set(key, value).await });
                return Json(json!({"q": q, "source": "full_text", "results": results}))
                    .into_response();
            }
            Err(e) => failure = Some(e),
        }
    }
    if cached {
        match app.cache.get(search_key(&q)).await {
            Ok(hit) => {
                let results: serde_json::Value = hit
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_else(|| json!([]));
                return Json(json!({"q": q, "source": "cache", "results": results}))
                    .into_response();
            }
            Err(e) => failure = Some(e),
        }
    }
    match failure {
        Some(e) => dependency_failed(e),
        None => level_refusal(app.level(), "search is off"),
    }
}

/// `POST /orders` body.
#[derive(Debug, Deserialize)]
struct OrderRequest {
    sku: i32,
    qty: i64,
}

async fn place_order(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<OrderRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(order)) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad order",
            "expected {\"sku\": int, \"qty\": int}",
            None,
        );
    };
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 128)
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad order",
            "an Idempotency-Key header (1 to 128 characters) is required",
            None,
        );
    };
    if !(1..=100).contains(&order.qty) {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad order",
            "qty must be 1 to 100",
            None,
        );
    }
    match app.db.checkout(key.to_owned(), order.sku, order.qty).await {
        Ok(Checkout::Placed { order: id, left }) => {
            let cache = app.cache.clone();
            let sku = order.sku;
            tokio::spawn(async move { cache.set(stock_key(sku), left.to_string()).await });
            (
                StatusCode::CREATED,
                Json(json!({"order": id, "sku": sku, "qty": order.qty, "left": left})),
            )
                .into_response()
        }
        Ok(Checkout::Replayed { order: id }) => {
            (StatusCode::OK, Json(json!({"order": id, "replayed": true}))).into_response()
        }
        Ok(Checkout::Refused) => problem(
            StatusCode::CONFLICT,
            "Not enough stock",
            &format!("sku {}", order.sku),
            None,
        ),
        Err(e) => dependency_failed(e),
    }
}

async fn suggestions(State(app): State<App>, Path(sku): Path<i32>) -> Response {
    let body =
        json!({"prompt": format!("suggest products to go with sku {sku}"), "max_tokens": 32});
    let request = match app.llm.request(
        http::Method::POST,
        "/v1/completions",
        body.to_string().into(),
    ) {
        Ok(request) => request,
        Err(e) => return upstream_failed(app.llm.name(), e),
    };
    match app.llm.send(request).await {
        Ok((status, body)) if status.is_success() => {
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Ok((status, _)) => problem(
            StatusCode::BAD_GATEWAY,
            "Dependency failed",
            &format!("{} answered {status}", app.llm.name()),
            None,
        ),
        Err(e) => upstream_failed(app.llm.name(), e),
    }
}

async fn images(State(app): State<App>, Path(sku): Path<i32>) -> Response {
    let request = match app.objects.request(
        http::Method::GET,
        &format!("/objects/products/{sku}.png"),
        Bytes::new(),
    ) {
        Ok(request) => request,
        Err(e) => return upstream_failed(app.objects.name(), e),
    };
    match app.objects.send(request).await {
        Ok((status, body)) if status.is_success() => {
            ([(header::CONTENT_TYPE, "image/png")], body).into_response()
        }
        Ok((status, _)) => problem(
            StatusCode::BAD_GATEWAY,
            "Dependency failed",
            &format!("{} answered {status}", app.objects.name()),
            None,
        ),
        Err(e) => upstream_failed(app.objects.name(), e),
    }
}

async fn dashboard(State(app): State<App>) -> Response {
    match app.db.sales().await {
        Ok((orders, units)) => Json(json!({"orders": orders, "units": units})).into_response(),
        Err(e) => dependency_failed(e),
    }
}

/// Counts requests per route and status, and their latency.
async fn record(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let started = Instant::now();
    metrics::gauge!("reference_http_in_flight").increment(1.0);
    let response = next.run(request).await;
    metrics::gauge!("reference_http_in_flight").decrement(1.0);
    let status = response.status().as_u16().to_string();
    metrics::counter!("reference_http_requests_total", "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("reference_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The no-brownout `/health`: the process answers; there is no level.
async fn plain_health() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"status": "pass", "level": null, "score": null, "mode": "no-brownout"})),
    )
        .into_response()
}

/// Gates `route` by `feature` in brownout mode; leaves it alone otherwise.
fn gated(
    manager: Option<&DegradationManager>,
    route: Router<App>,
    feature: &str,
) -> Result<Router<App>, String> {
    match manager {
        Some(manager) => GateLayer::feature(manager, feature)
            .map(|layer| route.route_layer(layer.retry_after(Duration::from_secs(5))))
            .map_err(|e| format!("gating a route: {e}")),
        None => Ok(route),
    }
}

/// The whole router: the API, the health routes, the status page and `/metrics`.
pub(crate) fn router(app: App, prometheus: PrometheusHandle) -> Result<Router, String> {
    let manager = app.manager.clone();
    let m = manager.as_ref();
    let search_route = Router::new().route("/search", get(search));
    let search_route = match m {
        Some(manager) => search_route.route_layer(GateLayer::min_level(manager, Level::Limited)),
        None => search_route,
    };
    let api = Router::new()
        .route("/", get(index))
        .route("/stock/{sku}", get(stock))
        .route("/stores", get(stores))
        .merge(search_route)
        .merge(gated(
            m,
            Router::new().route("/orders", post(place_order)),
            "checkout",
        )?)
        .merge(gated(
            m,
            Router::new().route("/suggestions/{sku}", get(suggestions)),
            "ai_suggestions",
        )?)
        .merge(gated(
            m,
            Router::new().route("/images/{sku}", get(images)),
            "product_images",
        )?)
        .merge(gated(
            m,
            Router::new().route("/dashboard", get(dashboard)),
            "live_sales_dashboard",
        )?)
        .with_state(app)
        .route_layer(axum::middleware::from_fn(record));
    let health = match manager {
        Some(manager) => brownout_axum::health_router(manager),
        None => Router::new()
            .route("/health", get(plain_health))
            .route("/health/live", get(plain_health))
            .route("/health/ready", get(plain_health))
            .route(
                "/status",
                get(|| async { "no-brownout mode: no breakers, no gates, no level\n" }),
            ),
    };
    Ok(api
        .merge(health)
        .route("/metrics", get(move || async move { prometheus.render() })))
}
