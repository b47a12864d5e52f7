//! tower-resilience-circuitbreaker: `CircuitBreakerLayer::builder()` with
//! `consecutive_failures(5)` and a one-hour `wait_duration_in_open`. It ships
//! only a tower layer, so every path goes through its service over the bare
//! `service_fn`, driven by the same no-op-waker executor as the others (its
//! closed-success path and its tower path are the same call). Its async API
//! is that service: the async paths are its closed and open paths again.
//! Manual open: the service's `force_open().await` (the same `Open` state as
//! a trip, with the one-hour wait).
//!
//! Hot path (tower-resilience-circuitbreaker 0.14 `lib.rs`, `circuit.rs`):
//! `poll_ready` reads an `AtomicU8` state; `call` clones the inner service and
//! two `Arc`s and boxes an `async` block; inside it a `tokio::sync::Mutex`
//! is locked twice (admission, then recording), `Instant::now` is read for
//! the call duration and for each event (`CallPermitted`, `SuccessRecorded`),
//! and each event clones the breaker's name `String`. The open path locks the
//! mutex in `poll_ready`, reads `Instant::now` for the time in state, and
//! again in `call` to record the rejection event.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use ::tower_resilience_circuitbreaker::{CircuitBreakerLayer, CircuitState};
use criterion::Bencher;
use tower::Layer;

use super::support::{Peer, RECOVERY, THRESHOLD, bare_service, block_on, request, two_threads};

pub(crate) const PEER: Peer = Peer {
    tower_layer: Some(closed_success),
    closed_success_async: Some(closed_success),
    open_rejection_async: Some(open_rejection),
    forced_open: Some(forced_open),
    forced_open_two_threads: Some(forced_open_threads),
    ..Peer::new(
        "tower-resilience-circuitbreaker",
        closed_success,
        open_rejection,
        threads,
    )
};

fn layer() -> CircuitBreakerLayer {
    CircuitBreakerLayer::builder()
        .consecutive_failures(THRESHOLD as usize)
        .wait_duration_in_open(RECOVERY)
        .build()
        .expect("valid config")
}

fn closed_success(b: &mut Bencher<'_>) {
    let mut svc = layer().layer(bare_service());
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}

fn open_rejection(b: &mut Bencher<'_>) {
    let mut svc = layer().layer(bare_service());
    for _ in 0..THRESHOLD {
        let _ = request(&mut svc, 0);
    }
    assert_eq!(svc.state_sync(), CircuitState::Open);
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}

fn threads(b: &mut Bencher<'_>) {
    let svc = layer().layer(bare_service());
    two_threads(
        b,
        || svc.clone(),
        |svc| {
            let _ = black_box(request(svc, 1));
        },
    );
}

fn forced_open_service() -> impl tower::Service<u64, Response = u64> + Clone {
    let svc = layer().layer(bare_service());
    block_on(svc.force_open());
    assert_eq!(svc.state_sync(), CircuitState::Open);
    svc
}

fn forced_open(b: &mut Bencher<'_>) {
    let mut svc = forced_open_service();
    assert!(request(&mut svc, 1).is_err(), "forced open rejects");
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}

/// Two threads on one forced-open service. When `poll_ready` finds the
/// circuit mutex taken by the other thread, it returns `Pending` behind a
/// 1 ms `tokio::time::sleep`, which needs a tokio timer: each bench thread
/// enters a current-thread runtime whose timer a third, mostly parked, thread
/// drives (as any tokio application has one); the calls themselves still run
/// under [`block_on`].
fn forced_open_threads(b: &mut Bencher<'_>) {
    let svc = forced_open_service();
    let timer = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            timer.block_on(async {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        });
        let _stop = StopOnDrop(&stop);
        two_threads(
            b,
            || (timer.handle().enter(), svc.clone()),
            |(_, svc)| {
                let _ = black_box(request(svc, 1));
            },
        );
    });
}

/// Stops the timer thread, also when the bench panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
