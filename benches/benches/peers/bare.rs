//! The baseline: the same operation with no breaker, on every path. The
//! async paths await the bare `async { work() }` under the same executor;
//! every rejection path hands back an error without calling anything; the
//! gate paths load a bare `AtomicBool`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::Bencher;

use super::support::{Fail, Peer, bare_service, block_on, request, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    tower_layer: Some(tower_layer),
    closed_success_async: Some(awaited),
    open_rejection_async: Some(awaited),
    forced_open: Some(open_rejection),
    forced_open_two_threads: Some(rejection_threads),
    half_open_full: Some(open_rejection),
    half_open_full_two_threads: Some(rejection_threads),
    gate: Some(atomic_load),
    gate_by_name: Some(atomic_load),
    ..Peer::new("bare", closed_success, open_rejection, threads)
};

fn closed_success(b: &mut Bencher<'_>) {
    b.iter(work);
}

/// A rejection with no breaker: hand back an error without calling anything.
fn open_rejection(b: &mut Bencher<'_>) {
    b.iter(|| Err::<u64, _>(black_box(Fail)));
}

fn threads(b: &mut Bencher<'_>) {
    two_threads(
        b,
        || (),
        |()| {
            let _ = black_box(work());
        },
    );
}

fn rejection_threads(b: &mut Bencher<'_>) {
    two_threads(
        b,
        || (),
        |()| {
            let _ = black_box(Err::<u64, _>(black_box(Fail)));
        },
    );
}

fn tower_layer(b: &mut Bencher<'_>) {
    let mut svc = bare_service();
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}

/// The bare future, awaited under the executor every async path uses.
fn awaited(b: &mut Bencher<'_>) {
    b.iter(|| block_on(async { work() }));
}

fn atomic_load(b: &mut Bencher<'_>) {
    let flag = AtomicBool::new(true);
    b.iter(|| black_box(&flag).load(Ordering::Relaxed));
}
