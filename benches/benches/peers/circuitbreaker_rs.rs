//! circuitbreaker-rs: `CircuitBreaker::builder()` with its default policy,
//! `consecutive_failures(5)` and a one-hour cooldown, called through its
//! synchronous `CircuitBreaker::call` (the error type must implement
//! `std::error::Error`) and, on the async paths, `CircuitBreaker::call_async`
//! over `|| async { work() }` (its `async` feature). Manual open:
//! `CircuitBreaker::force_open` (it moves to the same `Open` state as a trip,
//! so the forced-open path is its open path). No tower layer.
//!
//! Hot path (circuitbreaker-rs 0.1.1 `breaker.rs`, `metrics.rs`): a closed
//! success reads `Instant::now` three times (start, `elapsed`, the
//! last-success time), bumps four shared `AtomicU64`s, takes a
//! `parking_lot::Mutex` to store the last-success time and a `RwLock` read for
//! the success hook. The open path takes a `parking_lot::Mutex` and reads
//! `Instant::now` for the time in state. `call_async` runs the same
//! `pre_call`/`post_call` around the awaited future.

use std::hint::black_box;

use ::circuitbreaker_rs::{BreakerError, CircuitBreaker, DefaultPolicy, State};
use criterion::Bencher;

use super::support::{Fail, Peer, RECOVERY, THRESHOLD, block_on, fail, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    closed_success_async: Some(closed_success_async),
    open_rejection_async: Some(open_rejection_async),
    forced_open: Some(forced_open),
    forced_open_two_threads: Some(forced_open_threads),
    ..Peer::new("circuitbreaker-rs", closed_success, open_rejection, threads)
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

fn open_breaker() -> Breaker {
    let breaker = breaker();
    for _ in 0..THRESHOLD {
        let _ = breaker.call(fail);
    }
    assert_eq!(breaker.current_state(), State::Open);
    assert!(matches!(breaker.call(work), Err(BreakerError::Open)));
    breaker
}

fn forced_open_breaker() -> Breaker {
    let breaker = breaker();
    assert!(
        breaker.force_open(),
        "circuitbreaker-rs breaker forced open"
    );
    assert!(matches!(breaker.call(work), Err(BreakerError::Open)));
    breaker
}

fn open_rejection(b: &mut Bencher<'_>) {
    let breaker = open_breaker();
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

fn closed_success_async(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| block_on(breaker.call_async(|| async { work() })));
}

fn open_rejection_async(b: &mut Bencher<'_>) {
    let breaker = open_breaker();
    b.iter(|| block_on(breaker.call_async(|| async { work() })));
}

fn forced_open(b: &mut Bencher<'_>) {
    let breaker = forced_open_breaker();
    b.iter(|| breaker.call(work));
}

fn forced_open_threads(b: &mut Bencher<'_>) {
    let breaker = forced_open_breaker();
    two_threads(
        b,
        || breaker.clone(),
        |breaker| {
            let _ = black_box(breaker.call(work));
        },
    );
}
