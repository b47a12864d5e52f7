//! seatbelt: `Breaker::layer` from a `ResilienceContext` on a system
//! `tick::Clock` (no runtime: an `InactiveClock` activated with a no-op
//! waker; no timer is ever registered), with a failure-rate threshold of 0.99 (it refuses 1.0)
//! over at least 5 calls (it has no consecutive policy: 5 failures in a row
//! on a fresh breaker open it) and a one-hour break. seatbelt is async only:
//! the closed and open paths call `layered::Service::execute` over an
//! `Execute` closure, the tower path its `tower_service::Service` impl over
//! the bare `service_fn`, all driven by the same no-op-waker executor. Its
//! async API is `execute`: the async paths are its closed and open paths
//! again. No manual open (only `enable_if`/`disable`, which switch the
//! breaker off).
//!
//! Hot path (seatbelt 0.11 `breaker/service.rs`, `engine/engine_core.rs`,
//! `health.rs`): every call clones two `Arc`s (engine, shared state), reads
//! the clock (`Instant::now`) and locks a `std::sync::Mutex` on entry, and
//! again on exit to record the outcome into a time-bucketed window (a
//! `VecDeque` of ten buckets). The tower path also boxes the response future.
//! The open path reads the clock and locks the mutex once.

use std::hint::black_box;
use std::task::Waker;

use ::seatbelt::breaker::Breaker;
use ::seatbelt::{RecoveryInfo, ResilienceContext};
use criterion::Bencher;
use layered::{Execute, Layer, Service};
use tick::Clock;
use tick::runtime::InactiveClock;

use super::support::{
    Fail, Peer, RECOVERY, THRESHOLD, bare_service, block_on, request, two_threads, work,
};

pub(crate) const PEER: Peer = Peer {
    tower_layer: Some(tower_layer),
    closed_success_async: Some(closed_success),
    open_rejection_async: Some(open_rejection),
    ..Peer::new("seatbelt", closed_success, open_rejection, threads)
};

fn clock() -> Clock {
    let (clock, _driver) = InactiveClock::default().activate(Waker::noop().clone());
    clock
}

/// The layer, configured alike for the native and the tower service.
macro_rules! breaker_layer {
    ($clock:expr) => {
        Breaker::layer("bench", &ResilienceContext::new($clock))
            .recovery_with(|out: &Result<u64, Fail>, _| match out {
                Ok(_) => RecoveryInfo::never(),
                Err(_) => RecoveryInfo::retry(),
            })
            .rejected_input_error(|_, _| Fail)
            .failure_threshold(0.99)
            .min_throughput(THRESHOLD)
            .break_duration(RECOVERY)
    };
}

/// The native (layered) service: an `Execute` closure; input 0 fails.
fn native(clock: &Clock) -> impl Service<u64, Out = Result<u64, Fail>> + Clone + 'static {
    breaker_layer!(clock).layer(Execute::new(|n: u64| async move {
        if n == 0 { Err(Fail) } else { work() }
    }))
}

fn closed_success(b: &mut Bencher<'_>) {
    let clock = clock();
    let svc = native(&clock);
    b.iter(|| block_on(svc.execute(black_box(1))));
}

fn open_rejection(b: &mut Bencher<'_>) {
    let clock = clock();
    let svc = native(&clock);
    for _ in 0..THRESHOLD {
        let _ = block_on(svc.execute(0));
    }
    assert_eq!(
        block_on(svc.execute(1)),
        Err(Fail),
        "seatbelt breaker is open"
    );
    b.iter(|| block_on(svc.execute(black_box(1))));
}

fn threads(b: &mut Bencher<'_>) {
    let clock = clock();
    let svc = native(&clock);
    two_threads(
        b,
        || svc.clone(),
        |svc| {
            let _ = black_box(block_on(svc.execute(1)));
        },
    );
}

fn tower_layer(b: &mut Bencher<'_>) {
    let clock = clock();
    let mut svc = breaker_layer!(&clock).layer(bare_service());
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}
