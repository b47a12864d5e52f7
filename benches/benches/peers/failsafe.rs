//! failsafe: `StateMachine` built by `Config::new()` with the
//! `consecutive_failures(5, constant(1 h))` policy, called through its
//! synchronous `CircuitBreaker::call`. No tower layer.
//!
//! Hot path (failsafe 1.3 `state_machine.rs`): `is_call_permitted` takes a
//! `parking_lot::Mutex`; a success takes it again (`on_success`) to reset the
//! policy's counter. The open path reads `Instant::now` (through a
//! thread-local mock-clock check) under the lock.

use std::hint::black_box;

use ::failsafe::backoff::{self, Constant};
use ::failsafe::failure_policy::{ConsecutiveFailures, consecutive_failures};
use ::failsafe::{CircuitBreaker, Config, StateMachine};
use criterion::Bencher;

use super::support::{Peer, RECOVERY, THRESHOLD, fail, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    name: "failsafe",
    closed_success,
    open_rejection,
    two_threads: threads,
    tower_layer: None,
};

type Breaker = StateMachine<ConsecutiveFailures<Constant>, ()>;

fn breaker() -> Breaker {
    let policy = consecutive_failures(THRESHOLD, backoff::constant(RECOVERY));
    Config::new().failure_policy(policy).build()
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
    assert!(!breaker.is_call_permitted(), "failsafe breaker is open");
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
