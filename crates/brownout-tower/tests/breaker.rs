//! `BreakerLayer` over scripted services: opening, rejecting without calling
//! the inner service, half-open trials on a manual clock, readiness,
//! cancellation and composition with other tower layers.

mod support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use brownout::{BreakerState, DegradationManager, DependencyConfig, Level, Outcome};
use brownout_tower::{BoxError, BreakerLayer, BreakerService, CircuitOpen};
use support::{Counter, breaker};
use tokio_test::{assert_pending, assert_ready_ok};
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_test::mock;

/// A service answering `Ok(n)` or `Err("boom")` as the request says, counting calls.
fn scripted(
    counter: &Counter,
) -> impl Service<bool, Response = u32, Error = BoxError, Future: Send> + Clone + use<> {
    let counter = counter.clone();
    service_fn(move |ok: bool| {
        counter.hit();
        async move {
            if ok {
                Ok(7)
            } else {
                Err(BoxError::from("boom"))
            }
        }
    })
}

async fn send<S>(svc: &mut S, ok: bool) -> Result<u32, BoxError>
where
    S: Service<bool, Response = u32, Error = BoxError>,
{
    svc.ready().await?.call(ok).await
}

#[tokio::test]
async fn opens_rejects_without_calling_inner_then_recovers() {
    let (breaker, clock) = breaker(3, Duration::from_secs(20), 1);
    let counter = Counter::default();
    let mut svc = ServiceBuilder::new()
        .layer(BreakerLayer::new(breaker.clone()))
        .service(scripted(&counter));

    // Successes pass through; failures pass through as the inner error.
    assert_eq!(send(&mut svc, true).await.unwrap(), 7);
    for _ in 0..3 {
        let err = send(&mut svc, false).await.unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert!(err.downcast_ref::<CircuitOpen>().is_none());
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(counter.get(), 4);

    // Open: fail fast with a typed error, inner service untouched.
    for _ in 0..5 {
        let err = send(&mut svc, true).await.unwrap_err();
        let open = err.downcast_ref::<CircuitOpen>().expect("a CircuitOpen");
        assert_eq!(open.dependency(), "inventory");
        assert_eq!(open.state(), BreakerState::Open);
        assert_eq!(open.retry_after(), Duration::from_secs(20));
    }
    assert_eq!(counter.get(), 4);

    // Time passes on the manual clock: the retry hint shrinks.
    clock.advance(Duration::from_secs(15));
    let err = send(&mut svc, true).await.unwrap_err();
    let open = err.downcast_ref::<CircuitOpen>().unwrap();
    assert_eq!(open.retry_after(), Duration::from_secs(5));

    // A failing half-open trial re-opens it.
    clock.advance(Duration::from_secs(5));
    assert_eq!(send(&mut svc, false).await.unwrap_err().to_string(), "boom");
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(counter.get(), 5);

    // A succeeding trial closes it.
    clock.advance(Duration::from_secs(20));
    assert_eq!(send(&mut svc, true).await.unwrap(), 7);
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(counter.get(), 6);
}

#[tokio::test]
async fn clones_share_the_breaker() {
    let (breaker, _clock) = breaker(2, Duration::from_secs(10), 1);
    let counter = Counter::default();
    let mut a = BreakerLayer::new(breaker.clone()).layer(scripted(&counter));
    let mut b = a.clone();
    let _ = send(&mut a, false).await;
    let _ = send(&mut b, false).await;
    assert_eq!(breaker.state(), BreakerState::Open);
    assert!(send(&mut a, true).await.unwrap_err().is::<CircuitOpen>());
    assert!(send(&mut b, true).await.unwrap_err().is::<CircuitOpen>());
    assert_eq!(counter.get(), 2);
    assert_eq!(a.breaker().name(), "inventory");
}

#[tokio::test]
async fn a_custom_classifier_decides() {
    let (breaker, _clock) = breaker(1, Duration::from_secs(10), 1);
    let counter = Counter::default();
    // "not found" style errors are not the dependency's fault.
    let layer =
        BreakerLayer::new(breaker.clone()).classifier(|r: &Result<u32, BoxError>| match r {
            Err(e) if e.to_string() == "boom" => Outcome::Ignore,
            Err(_) => Outcome::Failure,
            Ok(0) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        });
    let mut svc = layer.layer(scripted(&counter));
    for _ in 0..5 {
        assert!(send(&mut svc, false).await.is_err());
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(svc.breaker().snapshot().state, BreakerState::Closed);
}

#[tokio::test]
async fn readiness_delegates_and_reserves_no_permit() {
    let (breaker, clock) = breaker(1, Duration::from_secs(10), 1);
    let (mut svc, mut handle) =
        mock::spawn_layer::<u32, u32, _>(BreakerLayer::new(breaker.clone()));

    // Inner not ready: neither are we, whatever the breaker says.
    handle.allow(0);
    assert_pending!(svc.poll_ready());

    // Open the breaker with one failure.
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(1);
    let (_, respond) = handle.next_request().await.unwrap();
    respond.send_error("down");
    assert!(fut.await.is_err());
    assert_eq!(breaker.state(), BreakerState::Open);

    // Open breaker, ready inner: poll_ready is Ready (no pending on the
    // breaker), call fails fast and the mock sees no request.
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let err = svc.call(2).await.unwrap_err();
    assert!(err.is::<CircuitOpen>());
    assert!(handle.poll_request().is_pending());

    // Half-open with one trial slot: polling ready many times takes no slot,
    // so the one trial call still gets through.
    clock.advance(Duration::from_secs(10));
    handle.allow(1);
    for _ in 0..3 {
        assert_ready_ok!(svc.poll_ready());
    }
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "poll_ready never asks the breaker"
    );
    let fut = svc.call(3);
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    let (req, respond) = handle.next_request().await.unwrap();
    assert_eq!(req, 3);
    respond.send_response(30);
    assert_eq!(fut.await.unwrap(), 30);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_dropped_future_in_half_open_frees_its_slot() {
    let (breaker, clock) = breaker(1, Duration::from_secs(10), 1);
    let (mut svc, mut handle) =
        mock::spawn_layer::<u32, u32, _>(BreakerLayer::new(breaker.clone()));
    handle.allow(10);

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(0);
    handle.next_request().await.unwrap().1.send_error("down");
    assert!(fut.await.is_err());
    assert_eq!(breaker.state(), BreakerState::Open);

    clock.advance(Duration::from_secs(10));
    assert_ready_ok!(svc.poll_ready());
    let trial = svc.call(1); // takes the only trial slot
    let _pending_request = handle.next_request().await.unwrap();
    assert_eq!(breaker.state(), BreakerState::HalfOpen);

    // The slot is taken: a second request is rejected without reaching the mock.
    assert_ready_ok!(svc.poll_ready());
    let err = svc.call(2).await.unwrap_err();
    let open = err.downcast_ref::<CircuitOpen>().unwrap();
    assert_eq!(open.state(), BreakerState::HalfOpen);
    assert!(handle.poll_request().is_pending());

    // Cancel the trial: nothing is recorded, the slot comes back.
    assert_eq!(breaker.snapshot().trials_in_flight, 1);
    drop(trial);
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(3);
    let (req, respond) = handle.next_request().await.unwrap();
    assert_eq!(req, 3);
    respond.send_response(3);
    assert_eq!(fut.await.unwrap(), 3);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_future_dropped_before_its_first_poll_records_nothing() {
    let (breaker, _clock) = breaker(1, Duration::from_secs(10), 1);
    let counter = Counter::default();
    let mut svc = BreakerService::new(scripted(&counter), breaker.clone());
    for _ in 0..10 {
        svc.ready().await.unwrap();
        drop(svc.call(false));
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.snapshot().consecutive_failures, 0);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_inside_the_breaker_counts_as_failure() {
    let (breaker, _clock) = breaker(2, Duration::from_secs(10), 1);
    let counter = Counter::default();
    let inner_counter = counter.clone();
    let mut svc = ServiceBuilder::new()
        .layer(BreakerLayer::new(breaker.clone()))
        .timeout(Duration::from_secs(1))
        .service_fn(move |delay: u64| {
            inner_counter.hit();
            async move {
                tokio::time::sleep(Duration::from_secs(delay)).await;
                Ok::<_, BoxError>(delay)
            }
        });

    assert_eq!(svc.ready().await.unwrap().call(0).await.unwrap(), 0);
    for _ in 0..2 {
        let err = svc.ready().await.unwrap().call(60).await.unwrap_err();
        assert!(err.is::<tower::timeout::error::Elapsed>(), "{err}");
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    let err = svc.ready().await.unwrap().call(0).await.unwrap_err();
    assert!(err.is::<CircuitOpen>());
    assert_eq!(counter.get(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_outside_the_breaker_records_nothing() {
    let (breaker, _clock) = breaker(1, Duration::from_secs(10), 1);
    let mut svc = ServiceBuilder::new()
        .timeout(Duration::from_secs(1))
        .layer(BreakerLayer::new(breaker.clone()))
        .service_fn(|delay: u64| async move {
            tokio::time::sleep(Duration::from_secs(delay)).await;
            Ok::<_, BoxError>(delay)
        });
    let err = svc.ready().await.unwrap().call(60).await.unwrap_err();
    assert!(err.is::<tower::timeout::error::Elapsed>());
    // The breaker's future was dropped: no outcome, still closed.
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn composes_with_concurrency_limit_and_buffer() {
    let (breaker, _clock) = breaker(2, Duration::from_secs(10), 1);
    let counter = Counter::default();
    let svc = ServiceBuilder::new()
        .buffer(8)
        .concurrency_limit(2)
        .layer(BreakerLayer::new(breaker.clone()))
        .service(scripted(&counter));

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move { svc.oneshot(false).await }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    let reached = counter.get();
    assert!((2..=4).contains(&reached), "{reached}");
    let err = svc.clone().oneshot(true).await.unwrap_err();
    assert!(err.is::<CircuitOpen>(), "{err}");
    assert_eq!(counter.get(), reached);

    // Limit and buffer below the breaker work too.
    breaker.reset();
    let mut below = ServiceBuilder::new()
        .layer(BreakerLayer::new(breaker.clone()))
        .buffer(8)
        .concurrency_limit(1)
        .service(scripted(&counter));
    assert_eq!(send(&mut below, true).await.unwrap(), 7);
}

#[tokio::test]
async fn from_manager_moves_the_level() {
    let clock = brownout::clock::ManualClock::new();
    let mut database = DependencyConfig::new(30.0);
    database.breaker.failure_threshold = 3;
    let manager = DegradationManager::builder()
        .clock(clock.clone())
        .dependency("database", database)
        .dependency("openai", DependencyConfig::new(70.0))
        .build()
        .unwrap();

    let err = BreakerLayer::from_manager(&manager, "databse").unwrap_err();
    assert_eq!(err.name(), "databse");
    assert_eq!(err.to_string(), "unknown dependency `databse`");

    let counter = Counter::default();
    let mut svc = BreakerLayer::from_manager(&manager, "database")
        .unwrap()
        .layer(scripted(&counter));
    for _ in 0..3 {
        let _ = send(&mut svc, false).await;
    }
    assert_eq!(manager.health_score(), 70.0);
    assert_eq!(manager.level(), Level::Degraded);
    clock.advance(Duration::from_secs(30));
    assert_eq!(send(&mut svc, true).await.unwrap(), 7);
    assert_eq!(manager.level(), Level::Optimal);
}

/// A layer over a `&'static` breaker (no reference count per request)
/// records, rejects, gives back a cancelled trial's slot and moves the
/// manager's level exactly as the owned one does.
#[tokio::test]
async fn a_static_breaker_behaves_like_an_owned_one() {
    let clock = brownout::clock::ManualClock::new();
    let mut database = DependencyConfig::new(30.0);
    database.breaker.failure_threshold = 1;
    database.breaker.recovery_timeout = Duration::from_secs(10);
    database.breaker.half_open_max_calls = 1;
    let manager = DegradationManager::builder()
        .clock(clock.clone())
        .dependency("database", database)
        .dependency("openai", DependencyConfig::new(70.0))
        .build()
        .unwrap();
    let breaker = manager.breaker("database").unwrap().leak();
    let (mut svc, mut handle) =
        mock::spawn_layer::<u32, u32, _>(BreakerLayer::from_static(breaker));
    handle.allow(10);

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(0);
    handle.next_request().await.unwrap().1.send_error("down");
    assert_eq!(fut.await.unwrap_err().to_string(), "down");
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(manager.level(), Level::Degraded);

    // Open: a typed rejection, the mock untouched.
    assert_ready_ok!(svc.poll_ready());
    let err = svc.call(1).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<CircuitOpen>().unwrap().dependency(),
        "database"
    );

    // A cancelled trial gives its slot back; the next one closes the breaker.
    clock.advance(Duration::from_secs(10));
    assert_ready_ok!(svc.poll_ready());
    let trial = svc.call(2);
    let _pending = handle.next_request().await.unwrap();
    assert_eq!(breaker.snapshot().trials_in_flight, 1);
    drop(trial);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(3);
    let (req, respond) = handle.next_request().await.unwrap();
    assert_eq!(req, 3);
    respond.send_response(3);
    assert_eq!(fut.await.unwrap(), 3);
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(manager.level(), Level::Optimal);
}

/// The admitted path neither boxes nor needs an executor: one poll completes it.
#[test]
fn a_ready_inner_future_completes_in_one_poll() {
    let (breaker, _clock) = breaker(1, Duration::from_secs(10), 1);
    let counter = Counter::default();
    let mut svc = BreakerService::new(scripted(&counter), breaker);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(svc.poll_ready(&mut cx).is_ready());
    let mut fut = pin!(svc.call(true));
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(7)) => {}
        other => panic!("expected Ready(Ok(7)), got {other:?}"),
    }
}

/// A panic inside the inner future counts as a failure and never wedges the
/// breaker (the permit records a failure while unwinding).
#[test]
fn a_panicking_inner_future_counts_as_failure() {
    let (breaker, clock) = breaker(1, Duration::from_secs(10), 1);
    let mut svc = BreakerService::new(
        service_fn(|explode: bool| async move {
            assert!(!explode, "inner service exploded");
            Ok::<u32, BoxError>(1)
        }),
        breaker.clone(),
    );
    let mut cx = Context::from_waker(Waker::noop());
    assert!(svc.poll_ready(&mut cx).is_ready());
    let fut = svc.call(true);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut fut = pin!(fut);
        let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }));
    assert!(caught.is_err());
    assert_eq!(breaker.state(), BreakerState::Open);

    // A panicking half-open trial re-opens it and frees its slot.
    clock.advance(Duration::from_secs(10));
    let fut = svc.call(true);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut fut = pin!(fut);
        let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }));
    assert!(caught.is_err());
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
    clock.advance(Duration::from_secs(10));
    let mut fut = pin!(svc.call(false));
    assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(1))));
    assert_eq!(breaker.state(), BreakerState::Closed);
}
