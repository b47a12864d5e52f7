//! recloser: `Recloser::custom()` with a closed ring of 5 calls and a failure
//! rate threshold of 1.0 (5 failures in a row open it: its equivalent of the
//! consecutive policy), open for an hour, called through its synchronous
//! `Recloser::call` and, on the async paths, `AsyncRecloser::call` over
//! `async { work() }` (an `AsyncRecloser` built from the same `Recloser`). No
//! tower layer, no manual open.
//!
//! Hot path (recloser 1.4 `recloser.rs`, `ring_buffer.rs`): every call pins a
//! crossbeam epoch (thread-local bookkeeping plus a fence), loads the state
//! pointer; every outcome takes the ring buffer's spin lock and writes four
//! shared atomics (slot, index, cardinality, filling). The open path reads
//! `Instant::now`. `AsyncRecloser::call` adds an `Arc` clone per call and
//! pins the epoch on every poll.

use std::hint::black_box;

use ::recloser::{AsyncRecloser, Error, Recloser};
use criterion::Bencher;

use super::support::{Peer, RECOVERY, THRESHOLD, block_on, fail, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    closed_success_async: Some(closed_success_async),
    open_rejection_async: Some(open_rejection_async),
    ..Peer::new("recloser", closed_success, open_rejection, threads)
};

fn breaker() -> Recloser {
    Recloser::custom()
        .error_rate_closed(1.0)
        .closed_len(THRESHOLD as usize)
        .open_wait(RECOVERY)
        .build()
}

fn closed_success(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| breaker.call(work));
}

fn open_rejection(b: &mut Bencher<'_>) {
    let breaker = breaker();
    // The rate is computed once the ring is full: the sixth failure opens it.
    let opened = (0..4 * THRESHOLD).any(|_| matches!(breaker.call(fail), Err(Error::Rejected)));
    assert!(opened, "recloser breaker is open");
    b.iter(|| breaker.call(work));
}

fn threads(b: &mut Bencher<'_>) {
    let breaker = breaker();
    two_threads(
        b,
        || &breaker,
        |breaker| {
            let _ = black_box(breaker.call(work));
        },
    );
}

fn closed_success_async(b: &mut Bencher<'_>) {
    let breaker = AsyncRecloser::from(breaker());
    b.iter(|| block_on(breaker.call(async { work() })));
}

fn open_rejection_async(b: &mut Bencher<'_>) {
    let breaker = AsyncRecloser::from(breaker());
    let opened = (0..4 * THRESHOLD).any(|_| {
        matches!(
            block_on(breaker.call(async { fail() })),
            Err(Error::Rejected)
        )
    });
    assert!(opened, "recloser breaker is open");
    b.iter(|| block_on(breaker.call(async { work() })));
}
