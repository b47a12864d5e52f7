//! Breaker paths: closed-state success (`call_sync`, the permit API and
//! `call(..).await`), open-state rejection (sync and awaited), forced-open
//! and full-half-open rejections (one and two threads), two threads on one
//! closed breaker; each next to the bare closure or the bare awaited future.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use brownout::clock::MonotonicClock;
use brownout::{Breaker, BreakerConfig, BreakerState};
use criterion::Criterion;

use crate::executor::block_on;

fn work() -> Result<u64, &'static str> {
    Ok(black_box(42))
}

pub(crate) const CLOSED: &str = "bench";

fn closed_breaker() -> Breaker {
    Breaker::with_clock(CLOSED, BreakerConfig::default(), MonotonicClock).expect("valid config")
}

fn open_breaker() -> Breaker {
    let config = BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: Duration::from_secs(3600),
        ..BreakerConfig::default()
    };
    let breaker = Breaker::new("bench-open", config).expect("valid config");
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), BreakerState::Open);
    breaker
}

fn forced_open_breaker() -> Breaker {
    let breaker = Breaker::new("bench-forced", BreakerConfig::default()).expect("valid config");
    breaker.force_open();
    breaker
}

/// Half-open with its only trial slot taken by the returned permit (the
/// trials' deadline an hour away).
fn half_open_full_breaker() -> (Breaker, brownout::OwnedPermit) {
    let config = BreakerConfig {
        failure_threshold: 1,
        recovery_timeout: Duration::from_millis(1),
        half_open_timeout: Some(Duration::from_secs(3600)),
        ..BreakerConfig::default()
    };
    let breaker = Breaker::new("bench-half-open", config).expect("valid config");
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    let trial = loop {
        if let Ok(permit) = breaker.try_acquire_owned() {
            break permit;
        }
        thread::yield_now();
    };
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    (breaker, trial)
}

/// Runs `per_thread` calls on each of `threads` threads at once; returns the
/// wall time, i.e. the time per call per thread times `per_thread`.
#[allow(clippy::disallowed_methods)] // benches time themselves with the real clock
fn parallel(threads: usize, per_thread: u64, f: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = std::time::Instant::now();
                    for _ in 0..per_thread {
                        f();
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .max()
            .unwrap_or_default()
    })
}

/// The breaker paths under the group name `name`; breakers are built here,
/// so they bind to whatever metrics recorder is installed by then.
pub(crate) fn group(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(name);

    g.bench_function("closed_success/bare", |b| b.iter(work));
    let closed = closed_breaker();
    g.bench_function("closed_success/call_sync", |b| {
        b.iter(|| closed.call_sync(work))
    });
    g.bench_function("closed_success/permit", |b| {
        b.iter(|| match closed.try_acquire() {
            Ok(permit) => {
                let r = work();
                permit.success();
                r
            }
            Err(_) => Err("rejected"),
        })
    });

    g.bench_function("closed_success/bare_await", |b| {
        b.iter(|| block_on(async { work() }))
    });
    g.bench_function("closed_success/call_await", |b| {
        b.iter(|| block_on(closed.call(|| async { work() })))
    });

    let open = open_breaker();
    g.bench_function("open_rejection/call_sync", |b| {
        b.iter(|| open.call_sync(work))
    });
    g.bench_function("open_rejection/call_await", |b| {
        b.iter(|| block_on(open.call(|| async { work() })))
    });

    let forced = forced_open_breaker();
    g.bench_function("forced_open_rejection/call_sync", |b| {
        b.iter(|| forced.call_sync(work))
    });
    g.bench_function("forced_open_rejection/two_threads", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, || {
                let _ = black_box(forced.call_sync(work));
            })
        })
    });
    let (half_open, _trial) = half_open_full_breaker();
    g.bench_function("half_open_full_rejection/call_sync", |b| {
        b.iter(|| half_open.call_sync(work))
    });
    g.bench_function("half_open_full_rejection/two_threads", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, || {
                let _ = black_box(half_open.call_sync(work));
            })
        })
    });

    g.bench_function("two_threads/bare", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, || {
                let _ = black_box(work());
            })
        })
    });
    g.bench_function("one_thread/call_sync", |b| {
        b.iter_custom(|iters| {
            parallel(1, iters, || {
                let _ = black_box(closed.call_sync(work));
            })
        })
    });
    g.bench_function("two_threads/call_sync", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, || {
                let _ = black_box(closed.call_sync(work));
            })
        })
    });
    g.finish();
    // Hand the call counts to the metrics recorder, if one is installed.
    closed.flush_metrics();
}
