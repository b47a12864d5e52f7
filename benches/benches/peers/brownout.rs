//! brownout: `Breaker::call_sync`, `Breaker::call` (async) and
//! `brownout_tower::BreakerLayer`, default configuration (5 consecutive
//! failures), open for an hour once tripped; `Breaker::force_open`; a
//! half-open breaker whose only trial slot is held; `FeatureGate::is_enabled`
//! and `DegradationManager::is_enabled(&str)` on the reference configuration
//! (the same setup as the `gate` budget bench).

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use ::brownout::clock::MonotonicClock;
use ::brownout::{Breaker, BreakerConfig, BreakerState, DegradationManager, Error, Level};
use brownout_tower::BreakerLayer;
use criterion::Bencher;
use tower::Layer;

use super::support::{
    Peer, RECOVERY, THRESHOLD, bare_service, block_on, fail, request, two_threads, work,
};

pub(crate) const PEER: Peer = Peer {
    tower_layer: Some(tower_layer),
    closed_success_async: Some(closed_success_async),
    open_rejection_async: Some(open_rejection_async),
    forced_open: Some(forced_open),
    forced_open_two_threads: Some(forced_open_threads),
    half_open_full: Some(half_open_full),
    half_open_full_two_threads: Some(half_open_full_threads),
    gate: Some(gate),
    gate_by_name: Some(gate_by_name),
    ..Peer::new("brownout", closed_success, open_rejection, threads)
};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");

fn breaker() -> Breaker {
    let config = BreakerConfig {
        failure_threshold: THRESHOLD,
        recovery_timeout: RECOVERY,
        ..BreakerConfig::default()
    };
    Breaker::with_clock("bench", config, MonotonicClock).expect("valid config")
}

fn open_breaker() -> Breaker {
    let breaker = breaker();
    for _ in 0..THRESHOLD {
        let _ = breaker.call_sync(fail);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    breaker
}

fn forced_open_breaker() -> Breaker {
    let breaker = breaker();
    breaker.force_open();
    assert_eq!(breaker.state(), BreakerState::ForcedOpen);
    breaker
}

/// Half-open (recovery after 1 ms) with its only trial slot taken by the
/// returned permit; the trials' deadline an hour away.
fn half_open_full_breaker() -> (Breaker, ::brownout::OwnedPermit) {
    let config = BreakerConfig {
        failure_threshold: THRESHOLD,
        recovery_timeout: Duration::from_millis(1),
        half_open_timeout: Some(RECOVERY),
        half_open_max_calls: 1,
        ..BreakerConfig::default()
    };
    let breaker = Breaker::with_clock("bench", config, MonotonicClock).expect("valid config");
    for _ in 0..THRESHOLD {
        let _ = breaker.call_sync(fail);
    }
    let trial = loop {
        if let Ok(permit) = breaker.try_acquire_owned() {
            break permit;
        }
        thread::yield_now();
    };
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert!(matches!(breaker.call_sync(work), Err(Error::Rejected(_))));
    (breaker, trial)
}

fn closed_success(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| breaker.call_sync(work));
}

fn open_rejection(b: &mut Bencher<'_>) {
    let breaker = open_breaker();
    b.iter(|| breaker.call_sync(work));
}

fn threads(b: &mut Bencher<'_>) {
    let breaker = breaker();
    two_threads(
        b,
        || breaker.clone(),
        |breaker| {
            let _ = black_box(breaker.call_sync(work));
        },
    );
}

fn tower_layer(b: &mut Bencher<'_>) {
    let mut svc = BreakerLayer::new(breaker()).layer(bare_service());
    b.iter(|| black_box(request(&mut svc, black_box(1))));
}

fn closed_success_async(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| block_on(breaker.call(|| async { work() })));
}

fn open_rejection_async(b: &mut Bencher<'_>) {
    let breaker = open_breaker();
    b.iter(|| block_on(breaker.call(|| async { work() })));
}

fn forced_open(b: &mut Bencher<'_>) {
    let breaker = forced_open_breaker();
    b.iter(|| breaker.call_sync(work));
}

fn forced_open_threads(b: &mut Bencher<'_>) {
    let breaker = forced_open_breaker();
    two_threads(
        b,
        || breaker.clone(),
        |breaker| {
            let _ = black_box(breaker.call_sync(work));
        },
    );
}

fn half_open_full(b: &mut Bencher<'_>) {
    let (breaker, _trial) = half_open_full_breaker();
    b.iter(|| breaker.call_sync(work));
}

fn half_open_full_threads(b: &mut Bencher<'_>) {
    let (breaker, _trial) = half_open_full_breaker();
    two_threads(
        b,
        || breaker.clone(),
        |breaker| {
            let _ = black_box(breaker.call_sync(work));
        },
    );
}

/// The reference configuration at `DEGRADED`, as in the `gate` budget bench.
fn manager() -> DegradationManager {
    let manager = DegradationManager::from_toml_str(REFERENCE).expect("reference config");
    manager.force_level(Level::Degraded, None);
    manager
}

fn gate(b: &mut Bencher<'_>) {
    let manager = manager();
    let gate = manager.gate("ai_suggestions").expect("known feature");
    b.iter(|| black_box(&gate).is_enabled());
}

fn gate_by_name(b: &mut Bencher<'_>) {
    let manager = manager();
    assert!(manager.is_enabled("supplier_sync"));
    b.iter(|| black_box(&manager).is_enabled(black_box("supplier_sync")));
}
