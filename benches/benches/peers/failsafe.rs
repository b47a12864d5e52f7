//! failsafe: `StateMachine` built by `Config::new()` with the
//! `consecutive_failures(5, constant(1 h))` policy, called through its
//! synchronous `CircuitBreaker::call` and, on the async paths, its futures API
//! (`failsafe::futures::CircuitBreaker::call` over `async { work() }`). No
//! tower layer, no manual open (`StateMachine` only has `reset`).
//!
//! Hot path (failsafe 1.3 `state_machine.rs`): `is_call_permitted` takes a
//! `parking_lot::Mutex`; a success takes it again (`on_success`) to reset the
//! policy's counter. The open path reads `Instant::now` (through a
//! thread-local mock-clock check) under the lock. The futures API adds a clone
//! of the `StateMachine` (an `Arc` increment and decrement) per call.

use std::hint::black_box;

use ::failsafe::backoff::{self, Constant};
use ::failsafe::failure_policy::{ConsecutiveFailures, consecutive_failures};
use ::failsafe::{CircuitBreaker, Config, Error, StateMachine};
use criterion::Bencher;

use super::support::{Fail, Peer, RECOVERY, THRESHOLD, block_on, fail, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    closed_success_async: Some(closed_success_async),
    open_rejection_async: Some(open_rejection_async),
    ..Peer::new("failsafe", closed_success, open_rejection, threads)
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

/// `failsafe::futures::CircuitBreaker::call`, named in full: importing that
/// trait next to the sync one would make every `.call` ambiguous.
fn call_async<F: Future<Output = Result<u64, Fail>>>(
    breaker: &Breaker,
    future: F,
) -> Result<u64, Error<Fail>> {
    block_on(::failsafe::futures::CircuitBreaker::call(breaker, future))
}

fn closed_success_async(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| call_async(&breaker, async { work() }));
}

fn open_rejection_async(b: &mut Bencher<'_>) {
    let breaker = breaker();
    for _ in 0..THRESHOLD {
        let _ = call_async(&breaker, async { fail() });
    }
    assert!(!breaker.is_call_permitted(), "failsafe breaker is open");
    b.iter(|| call_async(&breaker, async { work() }));
}
