//! No allocation per request on the admitted paths of both layers; a
//! refused request allocates only its boxed error.
//!
//! Counting is done by `allocation-counter`'s global allocator, per thread;
//! the tests run one at a time behind a mutex.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use allocation_counter::{AllocationInfo, measure};
use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, DegradationManager, FeatureConfig, Level};
use brownout_tower::{BoxError, BreakerLayer, GateLayer};
use tower::{Layer, Service, ServiceExt, service_fn};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

const CALLS: u64 = 10_000;

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// `CALLS` requests through `svc` after one to warm up.
fn per_request<S>(svc: &mut S, ok: bool) -> AllocationInfo
where
    S: Service<bool>,
{
    let mut send = || black_box(block_on(async { svc.ready().await?.call(ok).await }).is_ok());
    send();
    measure(|| {
        for _ in 0..CALLS {
            send();
        }
    })
}

fn scripted() -> impl Service<bool, Response = u32, Error = &'static str> + Clone {
    service_fn(|ok: bool| async move { if ok { Ok(1) } else { Err("boom") } })
}

fn breaker(threshold: u32) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let config = BreakerConfig {
        failure_threshold: threshold,
        recovery_timeout: Duration::from_secs(10),
        ..BreakerConfig::default()
    };
    let breaker = Breaker::with_clock("alloc", config, clock.clone()).unwrap();
    (breaker, clock)
}

#[test]
fn the_counter_counts() {
    let _serial = serial();
    let info = measure(|| {
        black_box(vec![1_u8; 16]);
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn a_closed_breaker_layer_allocates_nothing() {
    let _serial = serial();
    let (breaker, _clock) = breaker(u32::MAX >> 3);
    let mut svc = BreakerLayer::new(breaker).layer(scripted());
    let info = per_request(&mut svc, true);
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn a_static_breaker_layer_allocates_nothing() {
    let _serial = serial();
    let (breaker, _clock) = breaker(u32::MAX >> 3);
    let mut svc = BreakerLayer::from_static(breaker.leak()).layer(scripted());
    let info = per_request(&mut svc, true);
    assert_eq!(info.count_total, 0, "{info:?}");
}

/// A dependency with a `call_timeout`: the timer lives inside the response
/// future (no box), with or without a runtime to arm it.
#[test]
fn a_call_timeout_costs_one_timer_allocation_only_inside_a_runtime() {
    let _serial = serial();
    let config = BreakerConfig {
        failure_threshold: u32::MAX >> 3,
        call_timeout: Some(Duration::from_secs(2)),
        ..BreakerConfig::default()
    };
    let breaker = Breaker::with_clock("alloc", config, ManualClock::new()).unwrap();
    let mut svc = BreakerLayer::new(breaker).layer(scripted());
    assert_eq!(per_request(&mut svc, true).count_total, 0);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _inside = runtime.enter();
    // The timer is boxed, so that requests to dependencies without a
    // timeout carry a null pointer instead of a whole `Sleep`.
    assert_eq!(per_request(&mut svc, true).count_total, CALLS);
}

#[test]
fn an_already_boxed_inner_error_is_not_boxed_again() {
    let _serial = serial();
    let (breaker, _clock) = breaker(u32::MAX >> 3);
    let inner = service_fn(|ok: bool| async move {
        if ok {
            Ok(1)
        } else {
            Err(BoxError::from("boom"))
        }
    });
    let mut svc = BreakerLayer::new(breaker).layer(inner);
    // The inner service allocates its error (a `String` and its box); the
    // layer adds nothing on top, failure recorded included.
    let failures = per_request(&mut svc, false);
    assert_eq!(failures.count_total, 2 * CALLS, "{failures:?}");
}

#[cfg(feature = "http")]
#[test]
fn the_http_classifier_is_copied_not_allocated() {
    let _serial = serial();
    let (breaker, _clock) = breaker(5);
    let classifier =
        brownout_tower::HttpClassifier::new().failure_on(http::StatusCode::TOO_MANY_REQUESTS);
    let inner = service_fn(|_: bool| async { Ok::<_, BoxError>(http::Response::new(())) });
    let mut svc = BreakerLayer::new(breaker)
        .classifier(classifier)
        .layer(inner);
    let info = per_request(&mut svc, true);
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn an_open_breaker_allocates_only_the_boxed_error() {
    let _serial = serial();
    let (breaker, _clock) = breaker(1);
    breaker.force_open();
    let mut svc = BreakerLayer::new(breaker).layer(scripted());
    let info = per_request(&mut svc, true);
    assert_eq!(info.count_total, CALLS, "{info:?}");
}

#[test]
fn an_open_gate_allocates_nothing() {
    let _serial = serial();
    let manager = DegradationManager::builder()
        .feature("search", FeatureConfig::new(Level::Minimal))
        .build()
        .unwrap();
    let mut by_feature = GateLayer::feature(&manager, "search")
        .unwrap()
        .layer(scripted());
    assert_eq!(per_request(&mut by_feature, true).count_total, 0);
    let mut by_level = GateLayer::min_level(&manager, Level::Degraded).layer(scripted());
    assert_eq!(per_request(&mut by_level, true).count_total, 0);
}
