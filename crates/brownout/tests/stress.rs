//! Many threads hammering one breaker: half-open never admits more than
//! `half_open_max_calls` at once and never leaks a slot. Bounded in work,
//! never in wall-clock time; nothing sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, BreakerState, DegradationManager, DependencyConfig};

const THREADS: usize = 12;
const ROUNDS: usize = 20_000;
const MAX_TRIALS: u32 = 3;

fn half_open_breaker() -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let b = Breaker::with_clock(
        "stress",
        BreakerConfig {
            failure_threshold: 1,
            half_open_max_calls: MAX_TRIALS,
            recovery_timeout: Duration::from_secs(10),
            half_open_timeout: Some(Duration::from_secs(3600)),
            ..BreakerConfig::default()
        },
        clock.clone(),
    )
    .unwrap();
    let _ = b.call_sync(|| Err::<(), _>("down"));
    clock.advance(Duration::from_secs(10));
    b.try_acquire().unwrap().ignore();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    (b, clock)
}

/// Takes every slot there is and checks it is exactly the limit.
fn assert_full_limit_admitted(b: &Breaker) {
    let permits: Vec<_> = (0..MAX_TRIALS).map(|_| b.try_acquire()).collect();
    assert!(
        permits.iter().all(Result::is_ok),
        "a slot leaked: {permits:?}"
    );
    assert!(b.try_acquire().is_err(), "more than the limit admitted");
    assert_eq!(b.snapshot().trials_in_flight, MAX_TRIALS);
    for p in permits {
        p.unwrap().ignore();
    }
}

#[test]
fn half_open_never_admits_more_than_the_limit_and_never_leaks() {
    let (b, clock) = half_open_breaker();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let admitted = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, in_flight, peak, admitted, start) = (
                b.clone(),
                Arc::clone(&in_flight),
                Arc::clone(&peak),
                Arc::clone(&admitted),
                Arc::clone(&start),
            );
            thread::spawn(move || {
                start.wait();
                for i in 0..ROUNDS {
                    let Ok(permit) = b.try_acquire() else {
                        continue;
                    };
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= MAX_TRIALS as usize, "{now} trials at once");
                    peak.fetch_max(now, Ordering::SeqCst);
                    admitted.fetch_add(1, Ordering::Relaxed);
                    for _ in 0..(i % 7) {
                        std::hint::spin_loop();
                    }
                    if i % 11 == 0 {
                        thread::yield_now();
                    }
                    // Leave before giving the slot back, or the next holder
                    // could be counted while this one still is.
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    if (i + t) % 2 == 0 {
                        permit.ignore();
                    } else {
                        drop(permit);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(in_flight.load(Ordering::SeqCst), 0);
    assert!(peak.load(Ordering::SeqCst) <= MAX_TRIALS as usize);
    assert!(admitted.load(Ordering::Relaxed) > 0);
    // Ignored and dropped trials decide nothing: still half-open, no slot lost.
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.snapshot().trials_in_flight, 0);
    assert_full_limit_admitted(&b);

    // And a new half-open generation admits the full limit again.
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), BreakerState::Open);
    clock.advance(Duration::from_secs(10));
    assert_full_limit_admitted(&b);
    assert_eq!(b.state(), BreakerState::HalfOpen);
}

#[test]
fn racing_trials_with_real_outcomes_never_wedge_or_leak() {
    // Trials succeed, fail, are ignored or dropped at random, closed calls
    // push the breaker open again, and the main thread moves the clock
    // whenever it is open. Afterwards nothing is wedged and no slot is lost.
    let (b, clock) = half_open_breaker();
    let finished = Arc::new(AtomicUsize::new(0));
    let trials = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, finished, trials) = (b.clone(), Arc::clone(&finished), Arc::clone(&trials));
            thread::spawn(move || {
                let mut seed = (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                for _ in 0..ROUNDS / 4 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let Ok(permit) = b.try_acquire() else {
                        continue;
                    };
                    if b.state() == BreakerState::HalfOpen {
                        trials.fetch_add(1, Ordering::Relaxed);
                    }
                    match seed % 10 {
                        0 => permit.failure(),
                        1 => permit.ignore(),
                        2 => drop(permit),
                        _ => permit.success(),
                    }
                    if b.state() == BreakerState::Closed && seed.is_multiple_of(5) {
                        let _ = b.call_sync(|| Err::<(), _>("down"));
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let mut moves = 0_u64;
    while finished.load(Ordering::SeqCst) < THREADS && moves < 50_000_000 {
        if b.state() == BreakerState::Open {
            clock.advance(Duration::from_secs(10));
        }
        moves += 1;
        thread::yield_now();
    }
    for w in workers {
        w.join().unwrap();
    }
    assert!(trials.load(Ordering::Relaxed) > 0);
    // Bring it to a fresh half-open, whatever state it ended in.
    if b.state() == BreakerState::HalfOpen {
        assert_eq!(b.snapshot().trials_in_flight, 0, "a slot leaked");
        b.try_acquire().unwrap().failure();
    }
    if b.state() == BreakerState::Closed {
        let _ = b.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(b.state(), BreakerState::Open);
    clock.advance(Duration::from_secs(3600));
    assert_full_limit_admitted(&b);
}

#[test]
fn concurrent_failures_trip_once_and_the_manager_agrees() {
    let clock = ManualClock::new();
    let mut dep = DependencyConfig::new(50.0);
    dep.breaker.failure_threshold = 50;
    dep.breaker.recovery_timeout = Duration::from_secs(10);
    dep.breaker.half_open_max_calls = 2;
    let m = DegradationManager::builder()
        .clock(clock.clone())
        .dependency("flaky", dep)
        .dependency("steady", DependencyConfig::new(50.0))
        .build()
        .unwrap();
    let b = m.breaker("flaky").unwrap();
    for _cycle in 0..20 {
        let start = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (b, start) = (b.clone(), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    for _ in 0..100 {
                        let _ = b.call_sync(|| Err::<(), _>("down"));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(b.state(), BreakerState::Open);
        let t = b.snapshot().last_transition.unwrap();
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
        assert_eq!(m.health_score(), 50.0);
        assert_eq!(m.level(), brownout::Level::Minimal);
        clock.advance(Duration::from_secs(10));
        b.call_sync(|| Ok::<_, &str>(())).unwrap();
        b.call_sync(|| Ok::<_, &str>(())).unwrap();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(m.health_score(), 100.0);
    }
}

#[test]
fn many_threads_on_a_closed_breaker_count_every_failure() {
    // Below the threshold, no failure is lost to a racing update.
    let b = Breaker::new(
        "closed",
        BreakerConfig {
            failure_threshold: 1_000_000,
            ..BreakerConfig::default()
        },
    )
    .unwrap();
    let per_thread = 5_000;
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || {
                for _ in 0..per_thread {
                    let _ = b.call_sync(|| Err::<(), _>("down"));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        b.snapshot().consecutive_failures as usize,
        THREADS * per_thread
    );
}
