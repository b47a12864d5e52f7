//! brownout: `Breaker::call_sync` and `brownout_tower::BreakerLayer`, default
//! configuration (5 consecutive failures), open for an hour once tripped.

use std::hint::black_box;

use ::brownout::clock::MonotonicClock;
use ::brownout::{Breaker, BreakerConfig, BreakerState};
use brownout_tower::BreakerLayer;
use criterion::Bencher;
use tower::Layer;

use super::support::{Peer, RECOVERY, THRESHOLD, bare_service, fail, request, two_threads, work};

pub(crate) const PEER: Peer = Peer {
    name: "brownout",
    closed_success,
    open_rejection,
    two_threads: threads,
    tower_layer: Some(tower_layer),
};

fn breaker() -> Breaker {
    let config = BreakerConfig {
        failure_threshold: THRESHOLD,
        recovery_timeout: RECOVERY,
        ..BreakerConfig::default()
    };
    Breaker::with_clock("bench", config, MonotonicClock).expect("valid config")
}

fn closed_success(b: &mut Bencher<'_>) {
    let breaker = breaker();
    b.iter(|| breaker.call_sync(work));
}

fn open_rejection(b: &mut Bencher<'_>) {
    let breaker = breaker();
    for _ in 0..THRESHOLD {
        let _ = breaker.call_sync(fail);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
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
