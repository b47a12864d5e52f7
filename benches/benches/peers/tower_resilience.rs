//! tower-resilience-circuitbreaker: `CircuitBreakerLayer::builder()` with
//! `consecutive_failures(5)` and a one-hour `wait_duration_in_open`. It ships
//! only a tower layer, so every path goes through its service over the bare
//! `service_fn`, driven by the same no-op-waker executor as the others (its
//! closed-success path and its tower path are the same call).
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

use ::tower_resilience_circuitbreaker::{CircuitBreakerLayer, CircuitState};
use criterion::Bencher;
use tower::Layer;

use super::support::{Peer, RECOVERY, THRESHOLD, bare_service, request, two_threads};

pub(crate) const PEER: Peer = Peer {
    name: "tower-resilience-circuitbreaker",
    closed_success,
    open_rejection,
    two_threads: threads,
    tower_layer: Some(closed_success),
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
