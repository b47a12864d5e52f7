//! The HTTP side (feature `http`): the status classifier against real
//! `http::Response`s through the layer, and `503` answers from the gate.
#![cfg(feature = "http")]

mod support;

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{BreakerState, DegradationManager, DependencyConfig, FeatureConfig, Level, Outcome};
use brownout_tower::classify::{Classify, HttpClassifier};
use brownout_tower::{BoxError, BreakerLayer, CircuitOpen, GateLayer, Shed};
use http::header::RETRY_AFTER;
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
    assert!(answer.extensions().get::<CircuitOpen>().is_some());

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
async fn a_gate_answers_503_with_retry_after() {
    let clock = ManualClock::new();
    let manager = DegradationManager::builder()
        .clock(clock)
        .dependency("openai", DependencyConfig::new(50.0))
        .dependency("database", DependencyConfig::new(50.0))
        .feature("ai_suggestions", FeatureConfig::new(Level::Optimal))
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

    manager.force_level(Level::Degraded, None);
    let shed = svc.ready().await.unwrap().call(get(200)).await.unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()[RETRY_AFTER], "3");
    assert_eq!(shed.body(), "");
    let why = shed.extensions().get::<Shed>().unwrap();
    assert_eq!(why.feature(), Some("ai_suggestions"));
    assert_eq!(why.level(), Level::Degraded);
    assert_eq!(counter.get(), 1);
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
