//! Real HTTP/1.1 round trips: `axum::serve` on 127.0.0.1:0 and hyper-util's
//! client. Shed answers name the real reason with an honest `Retry-After`,
//! a breaker rejection answers problem+json, and shed requests are counted.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{BoxError, Router};
use brownout::clock::ManualClock;
use brownout::{BreakerState, DegradationManager, Level};
use brownout_axum::{GateLayer, Unavailable, health_router};
use brownout_tower::BreakerLayer;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tokio::net::TcpListener;
use tower::ServiceBuilder;

use support::{json, manager, recover, trip};

/// openai is slow to come back (300 s), so a `Retry-After` from its breaker
/// stands out from the gate's 5 s default.
const CONFIG: &str = r#"
[dependencies.openai]
weight = 50
failure_threshold = 1
recovery_timeout = "300s"
half_open_max_calls = 1

[dependencies.database]
weight = 50
failure_threshold = 1
recovery_timeout = "20s"

[features.ai_suggestions]
min_level = "OPTIMAL"
requires = ["openai"]

[features.full_text_search]
min_level = "DEGRADED"
"#;

/// Serves `app` on an ephemeral port of 127.0.0.1 until the test ends.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn retry_after(&self) -> u64 {
        self.header("retry-after")
            .expect("a Retry-After header")
            .parse()
            .unwrap()
    }
}

struct Http {
    client: Client<HttpConnector, Empty<Bytes>>,
    addr: SocketAddr,
}

impl Http {
    async fn start(app: Router) -> Http {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
            addr: serve(app).await,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        let request = Request::get(format!("http://{}{path}", self.addr))
            .body(Empty::new())
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }
}

/// The gated routes of these tests.
fn app(manager: &DegradationManager) -> Router {
    Router::new()
        .route("/suggestions", get(|| async { "try the blue one" }))
        .route_layer(GateLayer::feature(manager, "ai_suggestions").unwrap())
        .route(
            "/search",
            get(|| async { "full-text hits" })
                .route_layer(GateLayer::feature(manager, "full_text_search").unwrap()),
        )
}

/// A route behind openai's breaker, its rejections answered with `Unavailable`.
fn proxy(manager: &DegradationManager) -> Router {
    async fn answer(err: BoxError) -> Response {
        match Unavailable::try_from(err) {
            Ok(refused) => refused.into_response(),
            Err(other) => (StatusCode::BAD_GATEWAY, other.to_string()).into_response(),
        }
    }
    Router::new()
        .route("/proxy", get(|| async { "from openai" }))
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(answer))
                .layer(BreakerLayer::from_manager(manager, "openai").unwrap()),
        )
}

fn manager_on(clock: &ManualClock) -> DegradationManager {
    DegradationManager::builder()
        .config(brownout::Config::from_toml_str(CONFIG).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn open(manager: &DegradationManager, dependency: &str) {
    let breaker = manager.breaker(dependency).unwrap();
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test]
async fn a_feature_held_off_by_an_open_dependency_names_it_and_its_retry() {
    // The system clock: the header is the breaker's remaining open time, rounded up.
    let manager = DegradationManager::from_toml_str(CONFIG).unwrap();
    let http = Http::start(app(&manager)).await;
    assert_eq!(http.get("/suggestions").await.status, StatusCode::OK);

    open(&manager, "openai");
    let answer = http.get("/suggestions").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let retry = answer.retry_after();
    assert!((299..=300).contains(&retry), "Retry-After: {retry}");
    let problem = json(&answer.body);
    assert_eq!(problem["feature"], "ai_suggestions");
    assert_eq!(problem["dependency"], "openai");
    assert_eq!(problem["held_off"]["kind"], "dependency");
    assert_eq!(problem["held_off"]["state"], "open");
    assert_eq!(problem["retry_after"], retry);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("feature `ai_suggestions` is off because dependency `openai` is open"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_feature_held_off_by_the_level_names_the_level() {
    let clock = ManualClock::new();
    let manager = manager_on(&clock);
    let http = Http::start(app(&manager)).await;
    manager.force_level(Level::Limited, None);

    let answer = http.get("/search").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.retry_after(), 5, "no breaker open: the default hint");
    let problem = json(&answer.body);
    assert_eq!(problem["feature"], "full_text_search");
    assert_eq!(problem["held_off"]["kind"], "level");
    assert_eq!(problem["level"], "LIMITED");
    assert_eq!(problem["required_level"], "DEGRADED");
    assert!(problem.get("dependency").is_none());
    assert_eq!(
        problem["detail"],
        "feature `full_text_search` is off at level LIMITED (it needs DEGRADED); retry after 5 s"
    );

    // With a breaker open, the level's hint is its soonest trial.
    manager.clear_override();
    open(&manager, "database");
    clock.advance(Duration::from_millis(2_500));
    assert_eq!(manager.level(), Level::Minimal);
    let answer = http.get("/search").await;
    assert_eq!(answer.retry_after(), 18);
    assert_eq!(json(&answer.body)["held_off"]["kind"], "level");
}

#[tokio::test]
async fn retry_after_is_never_zero() {
    let clock = ManualClock::new();
    let manager = manager_on(&clock);
    let http = Http::start(app(&manager).merge(proxy(&manager))).await;
    open(&manager, "openai");

    // openai's trial is due: no time left on its breaker, yet `1`.
    clock.advance(Duration::from_secs(300));
    let answer = http.get("/suggestions").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(json(&answer.body)["retry_after"], 1);

    // Half-open with its one trial slot taken, a nanosecond before the
    // trial's deadline: the breaker rejection says `1`, not `0`.
    let openai = manager.breaker("openai").unwrap();
    let trial = openai.try_acquire().unwrap();
    assert_eq!(openai.state(), BreakerState::HalfOpen);
    clock.advance(Duration::from_secs(300) - Duration::from_nanos(1));
    let answer = http.get("/proxy").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(json(&answer.body)["state"], "half_open");
    trial.success();
}

#[tokio::test]
async fn a_breaker_rejection_answers_problem_json() {
    let clock = ManualClock::new();
    let manager = manager_on(&clock);
    let http = Http::start(proxy(&manager)).await;
    assert_eq!(http.get("/proxy").await.body, "from openai");

    open(&manager, "openai");
    clock.advance(Duration::from_millis(100_250));
    let answer = http.get("/proxy").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.header("retry-after"), Some("200"));
    let problem = json(&answer.body);
    assert_eq!(
        problem["type"],
        brownout_axum::rejection::DEPENDENCY_UNAVAILABLE
    );
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["dependency"], "openai");
    assert_eq!(problem["state"], "open");
    assert_eq!(problem["retry_after"], 200);
    assert!(
        problem["detail"].as_str().unwrap().contains("openai"),
        "{problem}"
    );
}

#[tokio::test]
async fn shed_requests_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let clock = ManualClock::new();
    let manager = metrics::with_local_recorder(&recorder, || manager_on(&clock));
    let level_gated = Router::new().route(
        "/orders",
        get(|| async { "created" }).route_layer(GateLayer::min_level(&manager, Level::Limited)),
    );
    let http = Http::start(app(&manager).merge(level_gated)).await;

    assert_eq!(http.get("/suggestions").await.status, StatusCode::OK);
    open(&manager, "openai");
    open(&manager, "database");
    assert_eq!(manager.level(), Level::Emergency);
    for _ in 0..3 {
        assert_eq!(
            http.get("/suggestions").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(
        http.get("/search").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    for _ in 0..2 {
        assert_eq!(
            http.get("/orders").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    let shed: BTreeMap<String, u64> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == brownout::metric_names::REQUESTS_SHED_TOTAL)
        .filter_map(|(key, _, _, value)| {
            let label = key.key().labels().next()?;
            match value {
                DebugValue::Counter(n) if n > 0 => {
                    Some((format!("{}={}", label.key(), label.value()), n))
                }
                _ => None,
            }
        })
        .collect();
    assert_eq!(
        shed,
        BTreeMap::from([
            ("feature=ai_suggestions".to_owned(), 3),
            ("feature=full_text_search".to_owned(), 1),
            ("level=LIMITED".to_owned(), 2),
        ])
    );
}

/// The reference deployment end to end: gated route, health, recovery.
#[tokio::test]
async fn feature_gate_and_health_over_a_real_socket() {
    let (manager, clock) = manager();
    let app = Router::new()
        .route("/suggestions", get(|| async { "try the blue one" }))
        .route_layer(GateLayer::feature(&manager, "ai_suggestions").unwrap())
        .merge(health_router(manager.clone()));
    let http = Http::start(app).await;

    let answer = http.get("/suggestions").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "try the blue one");

    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);
    let answer = http.get("/suggestions").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header("retry-after"), Some("30"));
    let problem = json(&answer.body);
    assert_eq!(problem["feature"], "ai_suggestions");
    assert_eq!(problem["dependency"], "openai");
    assert_eq!(problem["level"], "MINIMAL");

    let health = http.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        json(&health.body)["checks"]["openai:circuit"][0]["status"],
        "fail"
    );

    recover(&manager, &clock, "openai");
    assert_eq!(manager.level(), Level::Optimal);
    assert_eq!(http.get("/suggestions").await.status, StatusCode::OK);
}
