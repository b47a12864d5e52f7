//! Zero allocations per call on every hot path, and flat memory over a
//! million open → half-open → closed cycles.
//!
//! Counting is done by `allocation-counter`'s global allocator, per thread
//! (only allocations made by the measuring thread count). The tests of this
//! binary also run one at a time, behind a mutex, so nothing else in the
//! process is busy while one measures.

use std::future::Future;
use std::hint::black_box;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use allocation_counter::{AllocationInfo, measure};
use brownout::clock::ManualClock;
use brownout::{
    Breaker, BreakerConfig, BreakerState, DegradationManager, DependencyConfig, FeatureConfig,
    Level, Policy,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

const CALLS: usize = 10_000;

/// Runs `f` once to warm up (lazy statics, tracing call sites), then
/// `CALLS` times while counting.
fn per_call(mut f: impl FnMut()) -> AllocationInfo {
    f();
    measure(|| {
        for _ in 0..CALLS {
            f();
        }
    })
}

#[track_caller]
fn assert_zero(what: &str, info: AllocationInfo) {
    assert_eq!(info.count_total, 0, "{what} allocated: {info:?}");
    assert_eq!(info.bytes_total, 0, "{what} allocated: {info:?}");
}

fn breaker(config: BreakerConfig) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let b = Breaker::with_clock("alloc", config, clock.clone()).unwrap();
    (b, clock)
}

fn manager(clock: &ManualClock) -> DegradationManager {
    let mut dep = DependencyConfig::new(60.0);
    dep.breaker.failure_threshold = 1;
    dep.breaker.recovery_timeout = Duration::from_secs(1);
    DegradationManager::builder()
        .clock(clock.clone())
        .dependency("flaky", dep)
        .dependency("steady", DependencyConfig::new(40.0))
        .feature(
            "search",
            FeatureConfig::new(Level::Degraded).requires("flaky"),
        )
        .feature("browse", FeatureConfig::new(Level::Minimal))
        .build()
        .unwrap()
}

#[test]
fn the_counter_counts() {
    let _serial = serial();
    let info = measure(|| {
        black_box(vec![1_u8; 16]);
    });
    assert_eq!(info.count_total, 1);
    assert_eq!(info.bytes_current, 0);
}

#[test]
fn closed_call_sync_success_allocates_nothing() {
    let _serial = serial();
    let (b, _) = breaker(BreakerConfig::default());
    let info = per_call(|| {
        black_box(b.call_sync(|| Ok::<_, &str>(black_box(7))).unwrap());
    });
    assert_zero("closed call_sync success", info);
}

#[test]
fn failures_below_the_threshold_allocate_nothing() {
    let _serial = serial();
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: brownout::MAX_FAILURE_THRESHOLD,
        ..BreakerConfig::default()
    });
    let info = per_call(|| {
        let _ = black_box(b.call_sync(|| Err::<(), _>("down")));
    });
    assert_zero("consecutive failure below threshold", info);
    assert_eq!(b.state(), BreakerState::Closed);

    // The windowed policies too: the window was allocated when the breaker was built.
    let (b, _) = breaker(BreakerConfig {
        policy: Policy::FailureRate,
        failure_rate_threshold: 1.0,
        slow_call_duration: Some(Duration::from_secs(1)),
        window: 64,
        ..BreakerConfig::default()
    });
    let info = per_call(|| {
        let _ = black_box(b.call_sync(|| Err::<(), _>("down")));
        let _ = black_box(b.call_sync(|| Ok::<_, &str>(())));
    });
    assert_zero("count-window outcomes", info);
    assert_eq!(b.state(), BreakerState::Closed);

    let (b, clock) = breaker(BreakerConfig {
        policy: Policy::FailureRate,
        failure_rate_threshold: 1.0,
        window_duration: Some(Duration::from_secs(10)),
        ..BreakerConfig::default()
    });
    let info = per_call(|| {
        clock.advance(Duration::from_millis(7));
        let _ = black_box(b.call_sync(|| Err::<(), _>("down")));
        let _ = black_box(b.call_sync(|| Ok::<_, &str>(())));
    });
    assert_zero("time-window outcomes", info);
}

#[test]
fn open_rejection_allocates_nothing() {
    let _serial = serial();
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 1,
        ..BreakerConfig::default()
    });
    let _ = b.call_sync(|| Err::<(), _>("down"));
    assert_eq!(b.state(), BreakerState::Open);
    let info = per_call(|| {
        let r = black_box(b.call_sync(|| Ok::<_, &str>(())));
        assert!(r.is_err());
    });
    assert_zero("open rejection", info);

    b.force_open();
    let info = per_call(|| {
        assert!(black_box(b.try_acquire()).is_err());
    });
    assert_zero("forced-open rejection", info);
}

#[test]
fn half_open_trials_and_rejections_allocate_nothing() {
    let _serial = serial();
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        half_open_max_calls: 1,
        ..BreakerConfig::default()
    });
    let _ = b.call_sync(|| Err::<(), _>("down"));
    clock.advance(Duration::from_secs(30));
    let held = b.try_acquire().unwrap();
    let info = per_call(|| {
        assert!(black_box(b.try_acquire()).is_err());
    });
    assert_zero("half-open rejection", info);
    held.ignore();
    let info = per_call(|| {
        b.try_acquire().unwrap().ignore();
        drop(b.try_acquire().unwrap());
    });
    assert_zero("half-open trial given back", info);
}

#[test]
fn try_acquire_and_success_allocate_nothing() {
    let _serial = serial();
    let (b, _) = breaker(BreakerConfig::default());
    let info = per_call(|| {
        black_box(b.try_acquire().unwrap()).success();
        b.try_acquire_owned().unwrap().success();
        b.try_acquire().unwrap().ignore();
    });
    assert_zero("try_acquire + success", info);
}

#[test]
fn async_call_allocates_nothing() {
    let _serial = serial();
    let (b, _) = breaker(BreakerConfig::default());
    let mut cx = Context::from_waker(Waker::noop());
    let info = per_call(|| {
        let future = b.call(|| async { Ok::<_, &str>(black_box(1)) });
        let mut future = std::pin::pin!(future);
        assert!(matches!(future.as_mut().poll(&mut cx), Poll::Ready(Ok(1))));
    });
    assert_zero("async call", info);
}

#[test]
fn feature_gate_checks_allocate_nothing() {
    let _serial = serial();
    let clock = ManualClock::new();
    let m = manager(&clock);
    let gate = m.gate("search").unwrap();
    let info = per_call(|| {
        assert!(black_box(gate.is_enabled()));
    });
    assert_zero("FeatureGate::is_enabled", info);
    let info = per_call(|| {
        assert!(black_box(m.is_enabled(black_box("search"))));
        assert!(black_box(m.is_enabled(black_box("browse"))));
    });
    assert_zero("is_enabled(&str)", info);
    let info = per_call(|| {
        black_box(m.level());
        black_box(m.health_score());
    });
    assert_zero("level + health_score", info);
}

#[test]
fn manager_transitions_allocate_nothing() {
    let _serial = serial();
    let clock = ManualClock::new();
    let m = manager(&clock);
    let flaky = m.breaker("flaky").unwrap();
    let gate = m.gate("search").unwrap();
    let cycle = || {
        let _ = flaky.call_sync(|| Err::<(), _>("down"));
        clock.advance(Duration::from_secs(1));
        flaky.call_sync(|| Ok::<_, &str>(())).unwrap();
    };
    cycle();
    let info = measure(|| {
        for _ in 0..1_000 {
            cycle();
        }
    });
    assert_zero("open -> half-open -> closed with a manager", info);
    assert!(gate.is_enabled());
}

#[test]
fn a_million_cycles_keep_memory_flat() {
    let _serial = serial();
    let clock = ManualClock::new();
    let m = manager(&clock);
    let flaky = m.breaker("flaky").unwrap();
    let gate = m.gate("search").unwrap();
    let cycle = || {
        let _ = flaky.call_sync(|| Err::<(), _>("down"));
        debug_assert!(!gate.is_enabled());
        clock.advance(Duration::from_secs(1));
        let trial = flaky.try_acquire().unwrap();
        debug_assert_eq!(flaky.state(), BreakerState::HalfOpen);
        trial.success();
    };
    for _ in 0..1_000 {
        cycle();
    }
    let info = measure(|| {
        for _ in 0..1_000_000 {
            cycle();
        }
    });
    assert_eq!(info.bytes_current, 0, "allocated minus freed: {info:?}");
    assert_eq!(info.count_current, 0, "{info:?}");
    assert_eq!(info.count_total, 0, "{info:?}");
    assert_eq!(flaky.state(), BreakerState::Closed);
    assert_eq!(m.level(), Level::Optimal);
    assert!(gate.is_enabled());
}

/// A never-pending future resolves on its first poll.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("pending"),
    }
}

#[test]
fn rejected_async_calls_allocate_nothing() {
    let _serial = serial();
    let (b, _) = breaker(BreakerConfig::default());
    b.force_open();
    let info = per_call(|| {
        let r = ready(b.call(|| async { Ok::<_, &str>(()) }));
        assert!(black_box(r).is_err());
    });
    assert_zero("rejected async call", info);
}
