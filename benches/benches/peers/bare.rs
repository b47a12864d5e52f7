//! The baseline: the same operation with no breaker, on every path.

use std::hint::black_box;

use criterion::Bencher;

use super::support::{Fail, Peer, bare_service, request, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    name: "bare",
    closed_success,
    open_rejection,
    two_threads: threads,
    tower_layer: Some(tower_layer),
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

fn tower_layer(b: &mut Bencher<'_>) {
    let mut svc = bare_service();
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}
