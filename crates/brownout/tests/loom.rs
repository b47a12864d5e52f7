//! loom models of the breaker's concurrency: half-open admission never
//! exceeds the limit and never leaks a slot; racing failures trip once.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p brownout --test loom --release`
#![cfg(loom)]

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, BreakerState};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

fn breaker(threshold: u32, max_trials: u32) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let b = Breaker::with_clock(
        "loom",
        BreakerConfig {
            failure_threshold: threshold,
            half_open_max_calls: max_trials,
            recovery_timeout: Duration::from_secs(10),
            ..BreakerConfig::default()
        },
        clock.clone(),
    )
    .unwrap();
    (b, clock)
}

/// A breaker already half-open with no trial in flight.
fn half_open(max_trials: u32) -> (Breaker, ManualClock) {
    let (b, clock) = breaker(1, max_trials);
    b.try_acquire().unwrap().failure();
    clock.advance(Duration::from_secs(10));
    b.try_acquire().unwrap().ignore();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    (b, clock)
}

/// Each thread takes a trial if it can, counts itself in, out, and gives it back.
fn contend(b: &Breaker, in_flight: &AtomicUsize, limit: usize) -> bool {
    match b.try_acquire() {
        Ok(permit) => {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(now <= limit, "{now} trials at once, limit {limit}");
            in_flight.fetch_sub(1, Ordering::SeqCst);
            permit.ignore();
            true
        }
        Err(r) => {
            assert_eq!(r.state(), BreakerState::HalfOpen);
            false
        }
    }
}

fn assert_limit_free(b: &Breaker, limit: u32) {
    let permits: Vec<_> = (0..limit).map(|_| b.try_acquire()).collect();
    assert!(permits.iter().all(Result::is_ok), "a slot leaked");
    assert!(b.try_acquire().is_err(), "more than the limit");
    for p in permits {
        p.unwrap().ignore();
    }
}

#[test]
fn two_threads_share_one_trial() {
    loom::model(|| {
        let (b, _clock) = half_open(1);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (b, in_flight) = (b.clone(), Arc::clone(&in_flight));
                thread::spawn(move || contend(&b, &in_flight, 1))
            })
            .collect();
        let admitted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&a| a)
            .count();
        assert!(admitted >= 1, "one of them must get the free slot");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.snapshot().trials_in_flight, 0);
        assert_limit_free(&b, 1);
    });
}

#[test]
fn three_threads_share_two_trials() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let (b, _clock) = half_open(2);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let (b, in_flight) = (b.clone(), Arc::clone(&in_flight));
                thread::spawn(move || contend(&b, &in_flight, 2))
            })
            .collect();
        let admitted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&a| a)
            .count();
        assert!(admitted >= 2);
        assert_eq!(b.snapshot().trials_in_flight, 0);
        assert_limit_free(&b, 2);
    });
}

#[test]
fn the_open_to_half_open_race_admits_one_trial() {
    // Both threads see an open breaker whose timeout has elapsed: exactly
    // one of them moves it to half-open and gets the single trial.
    loom::model(|| {
        let (b, clock) = breaker(1, 1);
        b.try_acquire().unwrap().failure();
        clock.advance(Duration::from_secs(10));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (b, in_flight) = (b.clone(), Arc::clone(&in_flight));
                thread::spawn(move || match b.try_acquire() {
                    Ok(permit) => {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        assert_eq!(now, 1);
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                        true
                    }
                    Err(_) => false,
                })
            })
            .collect();
        let admitted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&a| a)
            .count();
        assert!(admitted >= 1);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_limit_free(&b, 1);
    });
}

#[test]
fn racing_failures_trip_exactly_once() {
    // Threshold 2 with one failure already counted: two threads fail at
    // once. Both may see the threshold reached; only one transition happens,
    // and a stale count cannot leak into the open generation.
    loom::model(|| {
        let (b, _clock) = breaker(2, 1);
        b.try_acquire().unwrap().failure();
        // Both calls were admitted while closed, and fail at the same time.
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let permit = b.try_acquire_owned().unwrap();
                thread::spawn(move || permit.failure())
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(b.state(), BreakerState::Open);
        let snap = b.snapshot();
        assert_eq!(snap.consecutive_failures, 0);
        let t = snap.last_transition.unwrap();
        // A second trip would have been recorded as open -> open.
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
    });
}

#[test]
fn three_racing_failures_trip_exactly_once() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let (b, _clock) = breaker(2, 1);
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let permit = b.try_acquire_owned().unwrap();
                thread::spawn(move || permit.failure())
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(b.state(), BreakerState::Open);
        let snap = b.snapshot();
        assert_eq!(snap.consecutive_failures, 0);
        let t = snap.last_transition.unwrap();
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
    });
}

#[test]
fn a_success_racing_the_tripping_failure_is_consistent() {
    // Threshold 2, one failure counted. One thread fails, one succeeds:
    // either the success resets first (closed, 1 failure) or the failure
    // trips first (open, and the late success cannot close it).
    loom::model(|| {
        let (b, _clock) = breaker(2, 1);
        b.try_acquire().unwrap().failure();
        let succeeding = b.try_acquire_owned().unwrap();
        let failing = b.try_acquire_owned().unwrap();
        let ok = thread::spawn(move || succeeding.success());
        let fail = thread::spawn(move || failing.failure());
        ok.join().unwrap();
        fail.join().unwrap();
        let snap = b.snapshot();
        match snap.state {
            BreakerState::Closed => assert_eq!(snap.consecutive_failures, 1),
            BreakerState::Open => {
                assert_eq!(snap.consecutive_failures, 0);
                let t = snap.last_transition.unwrap();
                assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
            }
            other => panic!("unexpected {other}"),
        }
    });
}

#[test]
fn a_late_closed_success_races_a_half_open_trial() {
    // A call admitted while closed finishes while the breaker is half-open;
    // the trial's own outcome decides, never the stale one.
    loom::model(|| {
        let (b, clock) = breaker(1, 1);
        let stale = b.try_acquire_owned().unwrap();
        b.try_acquire().unwrap().failure();
        clock.advance(Duration::from_secs(10));
        let trial = b.try_acquire_owned().unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let t1 = thread::spawn(move || stale.success());
        let t2 = thread::spawn(move || trial.failure());
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(b.state(), BreakerState::Open);
    });
}

/// A reload raising the trial limit races a trial taking a slot and a
/// second caller asking for one: never more trials than the limit in
/// force allows, and no slot leaks.
#[test]
fn a_reload_racing_half_open_admission_never_over_admits() {
    const BEFORE: &str = r#"
        [dependencies.db]
        weight = 1
        failure_threshold = 1
        recovery_timeout = "10s"
        half_open_max_calls = 1
    "#;
    let after = BEFORE.replace("half_open_max_calls = 1", "half_open_max_calls = 2");
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        let clock = ManualClock::new();
        let manager = brownout::DegradationManager::builder()
            .clock(clock.clone())
            .config(brownout::Config::from_toml_str(BEFORE).unwrap())
            .build()
            .unwrap();
        let b = manager.breaker("db").unwrap();
        b.try_acquire().unwrap().failure();
        clock.advance(Duration::from_secs(10));
        b.try_acquire().unwrap().ignore();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let reload = {
            let (manager, after) = (manager.clone(), after.clone());
            thread::spawn(move || {
                manager
                    .reconfigure(brownout::Config::from_toml_str(&after).unwrap())
                    .unwrap();
            })
        };
        let caller = {
            let (b, in_flight) = (b.clone(), Arc::clone(&in_flight));
            thread::spawn(move || contend(&b, &in_flight, 2))
        };
        let admitted = contend(&b, &in_flight, 2);
        let other = caller.join().unwrap();
        reload.join().unwrap();
        assert!(admitted || other, "one of them must get a free slot");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.snapshot().trials_in_flight, 0);
        assert_limit_free(&b, 2);
    });
}
