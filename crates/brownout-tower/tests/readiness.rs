//! Failures that surface in `poll_ready` count for `BreakerLayer`: a client
//! whose connection is refused behind `tower::buffer` reports it from
//! `poll_ready`, and its breaker must still open.

mod support;

use std::task::{Context, Poll};
use std::time::Duration;

use brownout::{BreakerState, Outcome};
use brownout_tower::{BoxError, BreakerLayer, CircuitOpen};
use support::breaker;
use tokio_test::{assert_ready_err, assert_ready_ok};
use tower::buffer::Buffer;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

/// A client that never gets a connection: every `poll_ready` fails.
#[derive(Clone, Debug)]
struct Refused;

impl Service<u32> for Refused {
    type Response = u32;
    type Error = BoxError;
    type Future = std::future::Ready<Result<u32, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Err("connection refused".into()))
    }

    fn call(&mut self, _request: u32) -> Self::Future {
        std::future::ready(Err("called without being ready".into()))
    }
}

/// Readiness, then the call: the request's error from whichever failed.
async fn send<S>(svc: &mut S, request: u32) -> Result<u32, BoxError>
where
    S: Service<u32, Response = u32, Error = BoxError>,
{
    svc.ready().await?.call(request).await
}

#[tokio::test]
async fn readiness_errors_count_as_failed_calls() {
    let (breaker, clock) = breaker(3, Duration::from_secs(10), 1);
    let (mut svc, mut handle) =
        mock::spawn_layer::<u32, u32, _>(BreakerLayer::new(breaker.clone()));

    for n in 1..=3 {
        handle.send_error("connection refused");
        let err = assert_ready_err!(svc.poll_ready());
        assert_eq!(err.to_string(), "connection refused", "attempt {n}");
    }
    assert_eq!(breaker.state(), BreakerState::Open);

    // Open: the next readiness error is answered with the breaker's typed
    // rejection, and counted no more.
    handle.send_error("connection refused");
    let err = assert_ready_err!(svc.poll_ready());
    let open = err.downcast_ref::<CircuitOpen>().expect("a CircuitOpen");
    assert_eq!(open.dependency(), "inventory");
    assert_eq!(open.retry_after(), Duration::from_secs(10));

    // Still refused after the recovery timeout: the readiness error is the
    // half-open trial, which fails and re-opens the breaker.
    clock.advance(Duration::from_secs(10));
    handle.send_error("connection refused");
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.to_string(), "connection refused");
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);

    // Back: a ready client and a good answer close it.
    clock.advance(Duration::from_secs(10));
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(1);
    handle.next_request().await.unwrap().1.send_response(1);
    assert_eq!(fut.await.unwrap(), 1);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_buffered_client_whose_connection_is_refused_opens_the_breaker() {
    let (breaker, _clock) = breaker(3, Duration::from_secs(10), 1);
    let mut svc = BreakerLayer::new(breaker.clone()).layer(Buffer::new(Refused, 8));

    // The first request reaches the buffer's worker, which fails on the
    // client's poll_ready; every later poll_ready reports that failure.
    for _ in 0..3 {
        let err = send(&mut svc, 1).await.unwrap_err();
        assert!(!err.is::<CircuitOpen>(), "{err}");
    }
    assert_eq!(breaker.state(), BreakerState::Open);

    // Fail fast with the typed rejection from now on.
    let err = send(&mut svc, 1).await.unwrap_err();
    assert!(err.is::<CircuitOpen>(), "{err}");
}

#[tokio::test]
async fn the_classifier_decides_about_readiness_errors_too() {
    let (breaker, _clock) = breaker(1, Duration::from_secs(10), 1);
    let layer =
        BreakerLayer::new(breaker.clone()).classifier(|r: &Result<u32, BoxError>| match r {
            Err(e) if e.to_string() == "shutting down" => Outcome::Ignore,
            Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        });
    let (mut svc, mut handle) = mock::spawn_layer::<u32, u32, _>(layer);
    for _ in 0..3 {
        handle.send_error("shutting down");
        assert_ready_err!(svc.poll_ready());
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    handle.send_error("connection refused");
    assert_ready_err!(svc.poll_ready());
    assert_eq!(breaker.state(), BreakerState::Open);
}
