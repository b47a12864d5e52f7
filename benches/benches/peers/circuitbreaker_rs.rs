//! circuitbreaker-rs: `CircuitBreaker::builder()` with its default policy,
//! `consecutive_failures(5)` and a one-hour cooldown, called through its
//! synchronous `CircuitBreaker::call` (the error type must implement
//! `std::error::Error`). No tower layer.
//!
//! Hot path (circuitbreaker-rs 0.1.1 `breaker.rs`, `metrics.rs`): a closed
//! success reads `Instant::now` three times (start, `elapsed`, the
//! last-success time), bumps four shared `AtomicU64`s, takes a
//! `parking_lot::Mutex` to store the last-success time and a `RwLock` read for
//! the success hook. The open path takes a `parking_lot::Mutex` and reads
//! `Instant::now` for the time in state.

use std::hint::black_box;

use ::circuitbreaker_rs::{BreakerError, CircuitBreaker, DefaultPolicy, State};
use criterion::Bencher;

use super::support::{Fail, Peer, RECOVERY, THRESHOLD, fail, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    name: "circuitbreaker-rs",
    closed_success,
    open_rejection,
    two_threads: threads,
    tower_layer: None,
};

type Breaker = CircuitBreaker<DefaultPolicy, Fail>;

fn breaker() -> Breaker {
    Breaker::builder()
        .consecutive_failures(u64::from(THRESHOLD))
        .cooldown(RECOVERY)
        .build()
}

fn closed_success(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| breaker.call(work));
}

fn open_rejection(b: &mut Bencher<'_>) {
    let breaker = breaker();
    for _ in 0..THRESHOLD {
        let _ = breaker.call(fail);
    }
    assert_eq!(breaker.current_state(), State::Open);
    assert!(matches!(breaker.call(work), Err(BreakerError::Open)));
    b.iter(|| breaker.call(work));
}

fn threads(b: &mut Bencher<'_>) {
    let breaker = breaker();
    two_threads(
        b,
        || breaker.clone(),
        |breaker| {
            let _ = black_box(breaker.call(work));
        },
    );
}
