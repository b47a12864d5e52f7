//! The HTTP side (feature `http`): the status classifier against real
//! `http::Response`s through the layer, and `503` answers from the gate.
#![cfg(feature = "http")]

mod support;

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{BreakerState, DegradationManager, DependencyConfig, FeatureConfig, Level, Outcome};
use brownout_tower::classify::{Classify, HttpClassifier};
use brownout_tower::error::CallTimedOut;
use brownout_tower::problem::{
    DEPENDENCY_TIMEOUT, DEPENDENCY_UNAVAILABLE, FEATURE_UNAVAILABLE, PROBLEM_JSON,
};
use brownout_tower::{BoxError, BreakerLayer, CircuitOpen, GateLayer, Shed};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use support::{Counter, breaker};
use tower::{Layer, Service, ServiceExt, service_fn};

/// Answers each request with the status in its URI path (`/503`).
fn status_server(
    counter: &Counter,
) -> impl Service<Request<()>, Response = Response<String>, Error = BoxError> + Clone + use<> {
    let counter = counter.clone();
    service_fn(move |req: Request<()>| {
        counter.hit();
        async move {
            let status: u16 = req.uri().path().trim_start_matches('/').parse()?;
            Ok::<_, BoxError>(
                Response::builder()
                    .status(status)
                    .body(format!("{status}"))?,
            )
        }
    })
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn get(status: u16) -> Request<()> {
    Request::get(format!("/{status}")).body(()).unwrap()
}

#[test]
fn classifies_real_responses() {
    let response = |status: u16| -> Result<Response<String>, BoxError> {
        Ok(Response::builder()
            .status(status)
            .body(String::new())
            .unwrap())
    };
    let default = HttpClassifier::new();
    for (status, outcome) in [
        (200, Outcome::Success),
        (204, Outcome::Success),
        (301, Outcome::Success),
        (400, Outcome::Success),
        (404, Outcome::Success),
        (429, Outcome::Success),
        (500, Outcome::Failure),
        (502, Outcome::Failure),
        (503, Outcome::Failure),
        (599, Outcome::Failure),
        (600, Outcome::Success),
    ] {
        assert_eq!(default.classify(&response(status)), outcome, "{status}");
    }
    assert_eq!(
        default.classify(&Err::<Response<String>, BoxError>("refused".into())),
        Outcome::Failure
    );

    let strict = HttpClassifier::new()
        .failure_on(StatusCode::TOO_MANY_REQUESTS)
        .failure_on(StatusCode::REQUEST_TIMEOUT)
        .success_on(StatusCode::NOT_IMPLEMENTED);
    assert_eq!(strict.classify(&response(429)), Outcome::Failure);
    assert_eq!(strict.classify(&response(408)), Outcome::Failure);
    assert_eq!(strict.classify(&response(501)), Outcome::Success);
    assert_eq!(strict.classify(&response(503)), Outcome::Failure);
    assert_eq!(strict.classify(&response(404)), Outcome::Success);

    // The last override wins; statuses outside 4xx/5xx keep the default rule.
    let ignoring = strict
        .ignore_on(StatusCode::TOO_MANY_REQUESTS)
        .failure_on(StatusCode::OK);
    assert_eq!(ignoring.classify(&response(429)), Outcome::Ignore);
    assert_eq!(ignoring.classify(&response(200)), Outcome::Success);
    assert_eq!(
        ignoring.classify_status(StatusCode::from_u16(599).unwrap()),
        Outcome::Failure
    );
}

#[tokio::test]
async fn five_hundreds_open_the_breaker_four_hundreds_do_not() {
    let (breaker, clock) = breaker(3, Duration::from_secs(20), 1);
    let counter = Counter::default();
    let mut svc = BreakerLayer::new(breaker.clone())
        .classifier(HttpClassifier::new().ignore_on(StatusCode::TOO_MANY_REQUESTS))
        .layer(status_server(&counter));

    for status in [404, 400, 429, 503, 502, 429, 200, 500, 429, 500] {
        let response = svc.ready().await.unwrap().call(get(status)).await.unwrap();
        assert_eq!(response.status().as_u16(), status);
    }
    assert_eq!(
        breaker.state(),
        BreakerState::Closed,
        "a 200 reset the count"
    );
    let response = svc.ready().await.unwrap().call(get(503)).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(counter.get(), 11);

    let err = svc.ready().await.unwrap().call(get(200)).await.unwrap_err();
    let open = err.downcast_ref::<CircuitOpen>().unwrap();
    assert_eq!(counter.get(), 11);
    let answer: Response<String> = open.to_response();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers()[RETRY_AFTER], "20");
    assert_eq!(answer.headers()[CONTENT_TYPE], PROBLEM_JSON);
    assert!(answer.extensions().get::<CircuitOpen>().is_some());
    let problem = json(answer.body());
    assert_eq!(problem["type"], DEPENDENCY_UNAVAILABLE);
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["dependency"], "inventory");
    assert_eq!(problem["state"], "open");
    assert_eq!(problem["retry_after"], 20);
    assert_eq!(
        problem["detail"],
        "dependency `inventory` is open: request rejected without calling it; retry after 20 s"
    );

    // Half-open: an ignored 429 gives the trial slot back; a 200 closes it.
    clock.advance(Duration::from_secs(20));
    let response = svc.ready().await.unwrap().call(get(429)).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
    svc.ready().await.unwrap().call(get(200)).await.unwrap();
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_gate_answers_503_problem_json_with_retry_after() {
    let clock = ManualClock::new();
    let mut openai = DependencyConfig::new(50.0);
    openai.breaker.failure_threshold = 1;
    openai.breaker.recovery_timeout = Duration::from_secs(300);
    let manager = DegradationManager::builder()
        .clock(clock.clone())
        .dependency("openai", openai)
        .dependency("database", DependencyConfig::new(50.0))
        .feature(
            "ai_suggestions",
            FeatureConfig::new(Level::Optimal).requires("openai"),
        )
        .build()
        .unwrap();
    let counter = Counter::default();
    let mut svc = GateLayer::feature(&manager, "ai_suggestions")
        .unwrap()
        .retry_after(Duration::from_millis(2_500))
        .respond_503()
        .layer(status_server(&counter));

    let ok = svc.ready().await.unwrap().call(get(200)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    // Held off by the level: the configured hint, rounded up.
    manager.force_level(Level::Degraded, None);
    let shed = svc.ready().await.unwrap().call(get(200)).await.unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()[RETRY_AFTER], "3");
    assert_eq!(shed.headers()[CONTENT_TYPE], PROBLEM_JSON);
    let why = shed.extensions().get::<Shed>().unwrap();
    assert_eq!(why.feature(), Some("ai_suggestions"));
    assert_eq!(why.level(), Level::Degraded);
    let problem = json(shed.body());
    assert_eq!(problem["type"], FEATURE_UNAVAILABLE);
    assert_eq!(problem["held_off"]["kind"], "level");
    assert_eq!(problem["required_level"], "OPTIMAL");
    assert_eq!(problem["retry_after"], 3);
    assert!(problem.get("dependency").is_none());

    // Held off by an open dependency: named, and its breaker's time left.
    manager.clear_override();
    let breaker = manager.breaker("openai").unwrap();
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    clock.advance(Duration::from_millis(1_500));
    let shed = svc.ready().await.unwrap().call(get(200)).await.unwrap();
    assert_eq!(shed.headers()[RETRY_AFTER], "299");
    let problem = json(shed.body());
    assert_eq!(problem["dependency"], "openai");
    assert_eq!(problem["held_off"]["kind"], "dependency");
    assert_eq!(problem["held_off"]["state"], "open");
    assert_eq!(problem["retry_after"], 299);
    assert_eq!(
        problem["detail"],
        "feature `ai_suggestions` is off because dependency `openai` is open; retry after 299 s"
    );

    // Its trial is due: never `Retry-After: 0`.
    clock.advance(Duration::from_millis(298_500));
    let shed = svc.ready().await.unwrap().call(get(200)).await.unwrap();
    assert_eq!(shed.headers()[RETRY_AFTER], "1");
    assert_eq!(counter.get(), 1);
}

#[tokio::test]
async fn a_half_open_breaker_with_every_slot_taken_never_says_retry_after_zero() {
    let (breaker, clock) = breaker(1, Duration::from_secs(20), 1);
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    clock.advance(Duration::from_secs(20));
    let trial = breaker.try_acquire().unwrap();
    assert_eq!(breaker.state(), BreakerState::HalfOpen);

    let open = CircuitOpen::from(breaker.try_acquire().unwrap_err());
    assert_eq!(open.state(), BreakerState::HalfOpen);
    let answer: Response<String> = open.to_response();
    assert_eq!(answer.headers()[RETRY_AFTER], "20");
    assert_eq!(json(answer.body())["state"], "half_open");

    // A nanosecond before the trials' deadline: rounded up, never `0`.
    clock.advance(Duration::from_secs(20) - Duration::from_nanos(1));
    let open = CircuitOpen::from(breaker.try_acquire().unwrap_err());
    assert_eq!(open.retry_after(), Duration::from_nanos(1));
    let answer: Response<String> = open.to_response();
    assert_eq!(answer.headers()[RETRY_AFTER], "1");
    assert_eq!(json(answer.body())["retry_after"], 1);
    drop(trial);

    // Forced open: the recovery timeout as the hint.
    breaker.force_open();
    let answer: Response<String> =
        CircuitOpen::from(breaker.try_acquire().unwrap_err()).to_response();
    assert_eq!(answer.headers()[RETRY_AFTER], "20");
    assert_eq!(json(answer.body())["state"], "forced_open");
}

#[test]
fn a_timed_out_call_answers_504_problem_json() {
    let clock = ManualClock::new();
    let config = brownout::BreakerConfig {
        call_timeout: Some(Duration::from_millis(1_500)),
        ..brownout::BreakerConfig::default()
    };
    let breaker = brownout::Breaker::with_clock("payments", config, clock.clone()).unwrap();
    let mut svc = BreakerLayer::new(breaker).layer(service_fn(move |(): ()| {
        clock.advance(Duration::from_secs(2));
        async { Ok::<_, BoxError>(()) }
    }));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let err = rt
        .block_on(async { svc.ready().await?.call(()).await })
        .unwrap_err();
    let late = err.downcast_ref::<CallTimedOut>().expect("a CallTimedOut");
    let answer: Response<String> = late.to_response();
    assert_eq!(answer.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(answer.headers()[CONTENT_TYPE], PROBLEM_JSON);
    assert!(!answer.headers().contains_key(RETRY_AFTER));
    let problem = json(answer.body());
    assert_eq!(problem["type"], DEPENDENCY_TIMEOUT);
    assert_eq!(problem["dependency"], "payments");
    assert_eq!(problem["timeout_ms"], 1_500);
}

/// With `respond_503` the gate keeps the inner error type: here `Infallible`,
/// as axum requires of route services.
#[tokio::test]
async fn a_503_gate_keeps_an_infallible_error_type() {
    let manager = DegradationManager::builder()
        .dependency("database", DependencyConfig::new(1.0))
        .build()
        .unwrap();
    let inner = service_fn(|_req: Request<()>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::from("hi")))
    });
    let svc = GateLayer::min_level(&manager, Level::Optimal)
        .respond_503()
        .layer(inner);
    let response: Result<Response<String>, std::convert::Infallible> =
        svc.clone().oneshot(get(200)).await;
    assert_eq!(response.unwrap().body(), "hi");
    manager.force_level(Level::Emergency, None);
    let response = svc.oneshot(get(200)).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[RETRY_AFTER], "5");
}
