//! `BreakerLayer` applies the dependency's `call_timeout`: a hung call is
//! dropped at the deadline (tokio timer, paused time here), counted as a
//! timeout failure and answered `CallTimedOut`; without a timer, a late
//! answer is judged by the permit.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, BreakerState};
use brownout_tower::error::CallTimedOut;
use brownout_tower::{BoxError, BreakerLayer};
use support::Counter;
use tower::{Layer, Service, ServiceExt, service_fn};

const TIMEOUT: Duration = Duration::from_secs(2);

fn timed(threshold: u32, clock: &ManualClock) -> Breaker {
    let config = BreakerConfig {
        failure_threshold: threshold,
        recovery_timeout: Duration::from_secs(30),
        call_timeout: Some(TIMEOUT),
        ..BreakerConfig::default()
    };
    Breaker::with_clock("payments", config, clock.clone()).unwrap()
}

/// Answers after `delay` seconds of tokio time (forever for `u64::MAX`),
/// noting when its future is dropped.
fn slow(
    counter: &Counter,
    dropped: &Arc<AtomicBool>,
) -> impl Service<u64, Response = u64, Error = BoxError> + Clone + use<> {
    let (counter, dropped) = (counter.clone(), Arc::clone(dropped));
    service_fn(move |delay: u64| {
        counter.hit();
        let guard = DropFlag(Arc::clone(&dropped));
        async move {
            let _guard = guard;
            if delay == u64::MAX {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_secs(delay)).await;
            Ok::<_, BoxError>(delay)
        }
    })
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[cfg(feature = "tokio")]
#[tokio::test(start_paused = true)]
async fn a_hung_call_times_out_and_trips_the_breaker() {
    let clock = ManualClock::new();
    let breaker = timed(3, &clock);
    let (counter, dropped) = (Counter::default(), Arc::new(AtomicBool::new(false)));
    let mut svc = BreakerLayer::new(breaker.clone()).layer(slow(&counter, &dropped));

    // Within the timeout: answered and counted as a success.
    assert_eq!(svc.ready().await.unwrap().call(1).await.unwrap(), 1);

    for n in 1..=3 {
        dropped.store(false, Ordering::SeqCst);
        let started = tokio::time::Instant::now();
        let err = svc.ready().await.unwrap().call(u64::MAX).await.unwrap_err();
        assert_eq!(started.elapsed(), TIMEOUT, "cut off at the deadline ({n})");
        let late = err.downcast_ref::<CallTimedOut>().expect("a CallTimedOut");
        assert_eq!(late.dependency(), "payments");
        assert_eq!(late.timeout(), TIMEOUT);
        assert_eq!(late.to_string(), "call to `payments` timed out after 2s");
        assert!(dropped.load(Ordering::SeqCst), "the hung call was dropped");
    }
    assert_eq!(breaker.state(), BreakerState::Open);

    // Open: rejected at once, the dependency is not called.
    let err = svc.ready().await.unwrap().call(1).await.unwrap_err();
    assert!(err.is::<brownout_tower::CircuitOpen>(), "{err}");
    assert_eq!(counter.get(), 4);
}

#[cfg(feature = "tokio")]
#[tokio::test(start_paused = true)]
async fn a_timed_out_trial_reopens_and_frees_its_slot() {
    let clock = ManualClock::new();
    let breaker = timed(1, &clock);
    let (counter, dropped) = (Counter::default(), Arc::new(AtomicBool::new(false)));
    let mut svc = BreakerLayer::new(breaker.clone()).layer(slow(&counter, &dropped));
    let err = svc.ready().await.unwrap().call(60).await.unwrap_err();
    assert!(err.is::<CallTimedOut>());
    assert_eq!(breaker.state(), BreakerState::Open);

    clock.advance(Duration::from_secs(30));
    let err = svc.ready().await.unwrap().call(60).await.unwrap_err();
    assert!(err.is::<CallTimedOut>());
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
}

#[cfg(feature = "tokio")]
#[tokio::test(start_paused = true)]
async fn from_manager_applies_the_dependency_call_timeout() {
    use brownout::{DegradationManager, DependencyConfig};

    let mut payments = DependencyConfig::new(40.0);
    payments.breaker.failure_threshold = 2;
    payments.breaker.call_timeout = Some(TIMEOUT);
    let manager = DegradationManager::builder()
        .dependency("payments", payments)
        .dependency("database", DependencyConfig::new(60.0))
        .build()
        .unwrap();
    let (counter, dropped) = (Counter::default(), Arc::new(AtomicBool::new(false)));
    let mut svc = BreakerLayer::from_manager(&manager, "payments")
        .unwrap()
        .layer(slow(&counter, &dropped));
    for _ in 0..2 {
        let err = svc.ready().await.unwrap().call(u64::MAX).await.unwrap_err();
        assert!(err.is::<CallTimedOut>(), "{err}");
    }
    assert_eq!(
        manager.breaker("payments").unwrap().state(),
        BreakerState::Open
    );
    assert_eq!(manager.health_score(), 60.0);
}

/// Without a call timeout, a slow call is just slow.
#[tokio::test(start_paused = true)]
async fn without_a_call_timeout_nothing_is_cut_off() {
    let clock = ManualClock::new();
    let config = BreakerConfig {
        failure_threshold: 1,
        ..BreakerConfig::default()
    };
    let breaker = Breaker::with_clock("payments", config, clock).unwrap();
    let (counter, dropped) = (Counter::default(), Arc::new(AtomicBool::new(false)));
    let svc = BreakerLayer::new(breaker.clone()).layer(slow(&counter, &dropped));
    assert_eq!(svc.oneshot(3_600).await.unwrap(), 3_600);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

/// Outside a tokio runtime there is no timer: a call that answers after
/// its deadline (here the manual clock moves while it runs) is counted as a
/// timeout and answered `CallTimedOut`, its response dropped.
#[test]
fn a_late_answer_without_a_timer_counts_as_a_timeout() {
    let clock = ManualClock::new();
    let breaker = timed(2, &clock);
    let moving = clock.clone();
    let mut svc = BreakerLayer::new(breaker.clone()).layer(service_fn(move |secs: u64| {
        moving.advance(Duration::from_secs(secs));
        async move { Ok::<_, BoxError>(secs) }
    }));
    let mut cx = Context::from_waker(Waker::noop());
    let mut send = |secs: u64| {
        assert!(svc.poll_ready(&mut cx).is_ready());
        let mut fut = pin!(svc.call(secs));
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => panic!("a ready answer"),
        }
    };
    assert_eq!(send(1).unwrap(), 1);
    for _ in 0..2 {
        let err = send(3).unwrap_err();
        let late = err.downcast_ref::<CallTimedOut>().expect("a CallTimedOut");
        assert_eq!(late.timeout(), TIMEOUT);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
}
