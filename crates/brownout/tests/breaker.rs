//! The breaker's state machine, driven by a `ManualClock` (no real sleeps):
//! every policy, backoff, half-open trials, generations, manual control,
//! permits, classifiers, cancellation and panics.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, BreakerState, Error, Outcome, Policy, Rejected};

const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);
const NS: Duration = Duration::from_nanos(1);

fn breaker(config: BreakerConfig) -> (Breaker, ManualClock) {
    let clock = ManualClock::new();
    let breaker = Breaker::with_clock("dep", config, clock.clone()).expect("valid config");
    (breaker, clock)
}

fn consecutive(threshold: u32, recovery_secs: u64, half_open: u32) -> BreakerConfig {
    BreakerConfig {
        failure_threshold: threshold,
        recovery_timeout: Duration::from_secs(recovery_secs),
        half_open_max_calls: half_open,
        ..BreakerConfig::default()
    }
}

fn fail(b: &Breaker) {
    let r = b.call_sync(|| Err::<(), _>("boom"));
    assert!(matches!(r, Err(Error::Inner("boom"))), "{r:?}");
}

fn succeed(b: &Breaker) {
    b.call_sync(|| Ok::<_, &str>(())).expect("admitted and ok");
}

fn rejection(b: &Breaker) -> Rejected {
    match b.try_acquire() {
        Err(r) => r,
        Ok(p) => {
            p.ignore();
            panic!("expected a rejection in state {}", b.state())
        }
    }
}

/// Opens `b` (a consecutive-policy breaker) by failing it.
fn trip(b: &Breaker) {
    for _ in 0..b.config().failure_threshold {
        fail(b);
    }
    assert_eq!(b.state(), BreakerState::Open);
}

/// Opens `b`, waits out the open time and leaves it half-open with no trial in flight.
fn to_half_open(b: &Breaker, clock: &ManualClock) {
    trip(b);
    clock.advance(rejection(b).retry_after());
    b.try_acquire().expect("first trial").ignore();
    assert_eq!(b.state(), BreakerState::HalfOpen);
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Pending on its first poll, ready on the second.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

// ---------------------------------------------------------------- consecutive

#[test]
fn consecutive_failures_open_at_the_threshold() {
    let (b, _) = breaker(consecutive(3, 10, 1));
    assert_eq!(b.name(), "dep");
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().consecutive_failures, 2);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(b.snapshot().consecutive_failures, 0);
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let (b, _) = breaker(consecutive(3, 10, 1));
    for _ in 0..10 {
        fail(&b);
        fail(&b);
        succeed(&b);
        assert_eq!(b.snapshot().consecutive_failures, 0);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn threshold_of_one_opens_on_the_first_failure() {
    let (b, _) = breaker(consecutive(1, 10, 1));
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn open_rejects_without_running_the_call() {
    let (b, _) = breaker(consecutive(2, 10, 1));
    trip(&b);
    let mut ran = false;
    let r = b.call_sync(|| {
        ran = true;
        Ok::<_, &str>(())
    });
    assert!(!ran);
    let rejected = r.unwrap_err().rejected().expect("a rejection").clone();
    assert_eq!(rejected.dependency(), "dep");
    assert_eq!(rejected.state(), BreakerState::Open);
    assert_eq!(rejected.retry_after(), 10 * SECOND);
    assert!(rejected.to_string().contains("`dep` is open"), "{rejected}");
}

#[test]
fn retry_after_counts_down_and_half_open_starts_exactly_at_the_timeout() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    trip(&b);
    clock.advance(4 * SECOND);
    assert_eq!(rejection(&b).retry_after(), 6 * SECOND);
    assert_eq!(b.snapshot().retry_after, Some(6 * SECOND));
    clock.advance(6 * SECOND - NS);
    assert_eq!(rejection(&b).retry_after(), NS);
    assert_eq!(b.state(), BreakerState::Open);
    clock.advance(NS);
    let trial = b.try_acquire().expect("timeout elapsed: a trial");
    assert_eq!(b.state(), BreakerState::HalfOpen);
    trial.success();
    assert_eq!(b.state(), BreakerState::Closed);
}

// ---------------------------------------------------------------- failure rate

fn rate(window: u32, minimum_calls: u32, threshold: f64) -> BreakerConfig {
    BreakerConfig {
        policy: Policy::FailureRate,
        window,
        minimum_calls,
        failure_rate_threshold: threshold,
        recovery_timeout: 10 * SECOND,
        ..BreakerConfig::default()
    }
}

#[test]
fn failure_rate_opens_at_the_threshold() {
    let (b, _) = breaker(rate(4, 4, 0.5));
    succeed(&b);
    succeed(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed); // 3 calls < minimum 4
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed); // 1/4 < 0.5
    fail(&b);
    // The window now holds S F S F: 2/4 = 0.5 >= 0.5.
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn failure_rate_is_not_consecutive() {
    // Alternating outcomes never make 2 consecutive failures, but make 50%.
    let (b, _) = breaker(BreakerConfig {
        failure_threshold: 2,
        ..rate(10, 10, 0.5)
    });
    for _ in 0..4 {
        fail(&b);
        succeed(&b);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed); // 5/9, minimum 10 not reached
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Open); // 5/10
}

#[test]
fn count_window_really_slides() {
    let (b, _) = breaker(rate(4, 4, 0.5));
    for _ in 0..1000 {
        succeed(&b);
    }
    let w = b.snapshot().window.expect("rate policy keeps a window");
    assert_eq!((w.calls, w.failures), (4, 0));
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    // 1000 old successes do not dilute: the last four are S S F F.
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn minimum_calls_holds_the_rate_back() {
    let (b, _) = breaker(rate(20, 5, 0.5));
    for n in 1..5 {
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed, "after {n} failures");
    }
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_count_window_smaller_than_minimum_calls_can_still_open() {
    // minimum_calls keeps its default (10) while the window holds only 4
    // outcomes: a full window must be enough, or the breaker could never open.
    let (b, _) = breaker(BreakerConfig {
        policy: Policy::FailureRate,
        window: 4,
        ..BreakerConfig::default()
    });
    for _ in 0..4 {
        fail(&b);
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_full_failure_rate_threshold_needs_every_call_to_fail() {
    let (b, _) = breaker(rate(5, 5, 1.0));
    for _ in 0..4 {
        fail(&b);
    }
    succeed(&b);
    for _ in 0..4 {
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed);
    }
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn time_window_forgets_old_outcomes() {
    let (b, clock) = breaker(BreakerConfig {
        window_duration: Some(10 * SECOND),
        ..rate(100, 3, 0.5)
    });
    for _ in 0..10 {
        succeed(&b);
    }
    clock.advance(5 * SECOND);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed); // 2/12
    clock.advance(4 * SECOND);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed); // 3/13: the successes still count
    let w = b.snapshot().window.unwrap();
    assert_eq!((w.calls, w.failures), (13, 3));
    clock.advance(SECOND);
    // Ten seconds after them, the ten successes are gone.
    let w = b.snapshot().window.unwrap();
    assert_eq!((w.calls, w.failures), (3, 3));
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn time_window_needs_minimum_calls_within_the_window() {
    let (b, clock) = breaker(BreakerConfig {
        window_duration: Some(10 * SECOND),
        ..rate(100, 3, 0.5)
    });
    // One failure every 6 s: never three inside any 10 s.
    for _ in 0..20 {
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed);
        clock.advance(6 * SECOND);
    }
    clock.advance(10 * SECOND);
    fail(&b);
    clock.advance(SECOND);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

// ---------------------------------------------------------------- slow calls

fn slow_config(policy: Policy) -> BreakerConfig {
    BreakerConfig {
        policy,
        window: 4,
        minimum_calls: 4,
        failure_rate_threshold: 1.0,
        slow_call_duration: Some(100 * MS),
        slow_call_rate_threshold: 0.5,
        failure_threshold: 100,
        recovery_timeout: 10 * SECOND,
        ..BreakerConfig::default()
    }
}

fn timed_success(b: &Breaker, clock: &ManualClock, took: Duration) {
    b.call_sync(|| {
        clock.advance(took);
        Ok::<_, &str>(())
    })
    .expect("admitted");
}

#[test]
fn slow_successes_open_the_breaker() {
    for policy in [Policy::ConsecutiveFailures, Policy::FailureRate] {
        let (b, clock) = breaker(slow_config(policy));
        timed_success(&b, &clock, 10 * MS);
        timed_success(&b, &clock, 150 * MS);
        timed_success(&b, &clock, 10 * MS);
        assert_eq!(b.state(), BreakerState::Closed, "{policy:?}");
        let w = b.snapshot().window.unwrap();
        assert_eq!((w.calls, w.failures, w.slow_calls), (3, 0, 1));
        timed_success(&b, &clock, 101 * MS);
        // 2 slow of 4 = 0.5: open, though every call succeeded.
        assert_eq!(b.state(), BreakerState::Open, "{policy:?}");
    }
}

#[test]
fn a_call_of_exactly_the_slow_duration_is_not_slow() {
    let (b, clock) = breaker(slow_config(Policy::ConsecutiveFailures));
    for _ in 0..4 {
        timed_success(&b, &clock, 100 * MS);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().window.unwrap().slow_calls, 0);
    timed_success(&b, &clock, 100 * MS + NS);
    timed_success(&b, &clock, 100 * MS + NS);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn slow_failures_count_as_slow_and_as_failures() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 3,
        ..slow_config(Policy::ConsecutiveFailures)
    });
    let _ = b.call_sync(|| {
        clock.advance(SECOND);
        Err::<(), _>("slow and failed")
    });
    let s = b.snapshot();
    assert_eq!(s.consecutive_failures, 1);
    let w = s.window.unwrap();
    assert_eq!((w.calls, w.failures, w.slow_calls), (1, 1, 1));
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_slow_trial_counts_as_failed() {
    let (b, clock) = breaker(BreakerConfig {
        failure_threshold: 1,
        half_open_max_calls: 1,
        ..slow_config(Policy::ConsecutiveFailures)
    });
    fail(&b);
    clock.advance(10 * SECOND);
    timed_success(&b, &clock, SECOND);
    assert_eq!(b.state(), BreakerState::Open);
}

// ---------------------------------------------------------------- backoff

#[test]
fn backoff_multiplies_the_open_time_up_to_the_cap_and_a_close_resets_it() {
    let (b, clock) = breaker(BreakerConfig {
        backoff_multiplier: 2.0,
        max_recovery_timeout: Some(35 * SECOND),
        ..consecutive(1, 10, 1)
    });
    fail(&b);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let wait = rejection(&b).retry_after();
        seen.push(wait.as_secs());
        clock.advance(wait - NS);
        assert_eq!(rejection(&b).state(), BreakerState::Open);
        clock.advance(NS);
        b.try_acquire().expect("trial").failure();
        assert_eq!(b.state(), BreakerState::Open);
    }
    assert_eq!(seen, [10, 20, 35, 35, 35]);
    clock.advance(35 * SECOND);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b);
    assert_eq!(rejection(&b).retry_after(), 10 * SECOND);
}

#[test]
fn reset_clears_the_backoff() {
    let (b, clock) = breaker(BreakerConfig {
        backoff_multiplier: 3.0,
        ..consecutive(1, 10, 1)
    });
    fail(&b);
    clock.advance(10 * SECOND);
    b.try_acquire().unwrap().failure();
    assert_eq!(rejection(&b).retry_after(), 30 * SECOND);
    b.reset();
    fail(&b);
    assert_eq!(rejection(&b).retry_after(), 10 * SECOND);
}

#[test]
fn jitter_shortens_the_open_time_within_its_bounds() {
    let (b, _) = breaker(BreakerConfig {
        jitter: 0.25,
        ..consecutive(1, 10, 1)
    });
    let mut distinct = std::collections::BTreeSet::new();
    for _ in 0..500 {
        b.reset();
        fail(&b);
        let wait = rejection(&b).retry_after();
        assert!(
            wait <= 10 * SECOND && wait >= Duration::from_millis(7_500),
            "{wait:?}"
        );
        distinct.insert(wait);
    }
    assert!(distinct.len() > 100, "jitter should vary: {distinct:?}");
}

#[test]
fn jitter_applies_after_the_cap() {
    let (b, clock) = breaker(BreakerConfig {
        jitter: 0.5,
        backoff_multiplier: 10.0,
        max_recovery_timeout: Some(20 * SECOND),
        ..consecutive(1, 10, 1)
    });
    fail(&b);
    for _ in 0..50 {
        let wait = rejection(&b).retry_after();
        clock.advance(wait);
        b.try_acquire().unwrap().failure();
        let next = rejection(&b).retry_after();
        assert!(next <= 20 * SECOND && next >= 10 * SECOND, "{next:?}");
    }
}

// ---------------------------------------------------------------- half-open

#[test]
fn half_open_admits_exactly_max_calls_at_once() {
    let (b, clock) = breaker(consecutive(1, 10, 3));
    fail(&b);
    clock.advance(10 * SECOND);
    let p1 = b.try_acquire().unwrap();
    let p2 = b.try_acquire().unwrap();
    let p3 = b.try_acquire().unwrap();
    assert_eq!(b.snapshot().trials_in_flight, 3);
    let r = rejection(&b);
    assert_eq!(r.state(), BreakerState::HalfOpen);
    // Every slot taken: the trials answer (or count as failed) within the
    // half-open timeout, which defaults to the recovery timeout.
    assert_eq!(r.retry_after(), 10 * SECOND);
    clock.advance(4 * SECOND);
    assert_eq!(rejection(&b).retry_after(), 6 * SECOND);
    p1.success();
    // A success does not free a slot for a fourth trial: three successes are needed.
    assert!(b.try_acquire().is_err());
    p2.success();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    p3.success();
    assert_eq!(b.state(), BreakerState::Closed);
    // Closed again: everything flows.
    for _ in 0..10 {
        succeed(&b);
    }
}

#[test]
fn half_open_closes_after_max_successes_taken_one_by_one() {
    let (b, clock) = breaker(consecutive(1, 10, 2));
    fail(&b);
    clock.advance(10 * SECOND);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn one_failed_trial_reopens() {
    let (b, clock) = breaker(consecutive(1, 10, 3));
    fail(&b);
    clock.advance(10 * SECOND);
    let p1 = b.try_acquire().unwrap();
    let p2 = b.try_acquire().unwrap();
    let p3 = b.try_acquire().unwrap();
    p1.success();
    p2.failure();
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(rejection(&b).retry_after(), 10 * SECOND);
    // The last trial answers late: it belongs to a finished half-open.
    p3.success();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn half_open_timeout_frees_a_hung_trial() {
    let (b, clock) = breaker(BreakerConfig {
        half_open_timeout: Some(5 * SECOND),
        ..consecutive(1, 10, 1)
    });
    fail(&b);
    clock.advance(10 * SECOND);
    let hung = b.try_acquire().unwrap();
    clock.advance(5 * SECOND - NS);
    assert_eq!(rejection(&b).state(), BreakerState::HalfOpen);
    clock.advance(NS);
    // The hung trial counts as failed: open again for the recovery timeout.
    let r = rejection(&b);
    assert_eq!(r.state(), BreakerState::Open);
    assert_eq!(r.retry_after(), 10 * SECOND);
    assert_eq!(b.state(), BreakerState::Open);
    // Its answer, when it finally comes, moves nothing.
    hung.success();
    assert_eq!(b.state(), BreakerState::Open);
    clock.advance(10 * SECOND);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn half_open_timeout_defaults_to_the_recovery_timeout() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    fail(&b);
    clock.advance(10 * SECOND);
    let _hung = b.try_acquire().unwrap();
    clock.advance(10 * SECOND - NS);
    assert_eq!(rejection(&b).state(), BreakerState::HalfOpen);
    clock.advance(NS);
    assert_eq!(rejection(&b).state(), BreakerState::Open);
}

#[test]
fn expire_trials_reopens_without_a_caller() {
    let (b, clock) = breaker(BreakerConfig {
        half_open_timeout: Some(SECOND),
        ..consecutive(1, 10, 1)
    });
    fail(&b);
    clock.advance(10 * SECOND);
    let hung = b.try_acquire().unwrap();
    b.expire_trials();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    clock.advance(SECOND);
    b.expire_trials();
    assert_eq!(b.state(), BreakerState::Open);
    drop(hung);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_trial_answering_after_the_half_open_timeout_counts_as_failed() {
    let (b, clock) = breaker(BreakerConfig {
        half_open_timeout: Some(5 * SECOND),
        ..consecutive(1, 10, 1)
    });
    fail(&b);
    clock.advance(10 * SECOND);
    let late = b.try_acquire().unwrap();
    clock.advance(6 * SECOND);
    // Nobody asked in between: the late success must not close the breaker.
    late.success();
    assert_eq!(b.state(), BreakerState::Open);
}

// ---------------------------------------------------------------- generations

#[test]
fn a_late_success_from_closed_cannot_close_an_open_breaker() {
    let (b, _) = breaker(consecutive(2, 10, 1));
    let slow = b.try_acquire().unwrap();
    trip(&b);
    slow.success();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_late_success_from_closed_is_not_a_half_open_trial() {
    let (b, clock) = breaker(consecutive(2, 10, 1));
    let slow = b.try_acquire().unwrap();
    let slow_failure = b.try_acquire().unwrap();
    trip(&b);
    clock.advance(10 * SECOND);
    let trial = b.try_acquire().unwrap();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    slow.success();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    // Nor did it free the trial's slot.
    assert!(b.try_acquire().is_err());
    slow_failure.failure();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    trial.success();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_late_failure_from_an_earlier_closed_generation_does_not_count() {
    let (b, clock) = breaker(consecutive(2, 10, 1));
    let stale: Vec<_> = (0..5).map(|_| b.try_acquire_owned().unwrap()).collect();
    trip(&b);
    clock.advance(10 * SECOND);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
    for permit in stale {
        permit.failure();
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().consecutive_failures, 0);
}

#[test]
fn stale_trials_of_an_earlier_half_open_do_not_count() {
    let (b, clock) = breaker(BreakerConfig {
        half_open_timeout: Some(SECOND),
        ..consecutive(1, 10, 2)
    });
    fail(&b);
    clock.advance(10 * SECOND);
    let old = b.try_acquire().unwrap();
    clock.advance(SECOND);
    assert_eq!(rejection(&b).state(), BreakerState::Open); // expired
    clock.advance(10 * SECOND);
    let new = b.try_acquire().unwrap();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    old.success();
    new.success();
    // Two successes were needed in this generation; only one counted.
    assert_eq!(b.state(), BreakerState::HalfOpen);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_stale_rate_failure_does_not_trip_a_new_generation() {
    let (b, _) = breaker(rate(4, 4, 0.5));
    let stale: Vec<_> = (0..4).map(|_| b.try_acquire_owned().unwrap()).collect();
    b.reset();
    for permit in stale {
        permit.failure();
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

// ---------------------------------------------------------------- manual control

#[test]
fn force_open_rejects_until_reset() {
    let (b, clock) = breaker(consecutive(3, 10, 1));
    let before = b.try_acquire().unwrap();
    b.force_open();
    assert_eq!(b.state(), BreakerState::ForcedOpen);
    let r = rejection(&b);
    assert_eq!(r.state(), BreakerState::ForcedOpen);
    assert!(b.state().is_open());
    clock.advance(Duration::from_secs(3600));
    assert_eq!(rejection(&b).state(), BreakerState::ForcedOpen);
    before.success();
    assert_eq!(b.state(), BreakerState::ForcedOpen);
    b.reset();
    assert_eq!(b.state(), BreakerState::Closed);
    succeed(&b);
}

#[test]
fn disable_permits_everything_and_counts_nothing() {
    let (b, clock) = breaker(consecutive(2, 10, 1));
    fail(&b);
    b.disable();
    assert_eq!(b.state(), BreakerState::Disabled);
    for _ in 0..100 {
        fail(&b);
    }
    assert_eq!(b.state(), BreakerState::Disabled);
    assert_eq!(b.snapshot().consecutive_failures, 0);
    b.reset();
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed); // the pre-disable failure is gone
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
    // Disable also overrides an open breaker.
    b.disable();
    succeed(&b);
    clock.advance(SECOND);
    assert_eq!(b.state(), BreakerState::Disabled);
}

#[test]
fn reset_clears_counts_and_windows() {
    let (b, _) = breaker(consecutive(3, 10, 1));
    fail(&b);
    fail(&b);
    b.reset();
    assert_eq!(b.snapshot().consecutive_failures, 0);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);

    let (b, _) = breaker(rate(4, 4, 0.5));
    fail(&b);
    fail(&b);
    fail(&b);
    b.reset();
    assert_eq!(b.snapshot().window.unwrap().calls, 0);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn reset_from_open_and_half_open_closes() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    fail(&b);
    b.reset();
    assert_eq!(b.state(), BreakerState::Closed);
    let (b2, _) = (b.clone(), ());
    to_half_open(&b2, &clock);
    let trial = b2.try_acquire().unwrap();
    b.reset();
    assert_eq!(b.state(), BreakerState::Closed);
    trial.failure();
    assert_eq!(b.state(), BreakerState::Closed);
}

// ---------------------------------------------------------------- permits

#[test]
fn ignore_and_drop_give_back_the_half_open_slot() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    fail(&b);
    clock.advance(10 * SECOND);
    let p = b.try_acquire().unwrap();
    assert!(b.try_acquire().is_err());
    p.ignore();
    let p = b.try_acquire().expect("slot given back by ignore");
    assert!(b.try_acquire().is_err());
    drop(p);
    let p = b.try_acquire_owned().expect("slot given back by drop");
    assert_eq!(p.dependency(), "dep");
    p.record(Outcome::Ignore);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.snapshot().trials_in_flight, 0);
    b.try_acquire().unwrap().record(Outcome::Success);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn ignore_and_drop_record_nothing_while_closed() {
    let (b, _) = breaker(consecutive(2, 10, 1));
    fail(&b);
    b.try_acquire().unwrap().ignore();
    drop(b.try_acquire().unwrap());
    // The failure count survived (no reset), and is still below the threshold.
    assert_eq!(b.snapshot().consecutive_failures, 1);
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);

    let (b, _) = breaker(rate(4, 4, 0.5));
    for _ in 0..10 {
        b.try_acquire().unwrap().ignore();
        drop(b.try_acquire_owned().unwrap());
    }
    assert_eq!(b.snapshot().window.unwrap().calls, 0);
}

// ---------------------------------------------------------------- classifier

#[test]
fn a_classifier_decides_what_fails() {
    let (b, clock) = breaker(consecutive(2, 10, 1));
    let classify = |r: &Result<u16, u16>| match r {
        Ok(status) if *status >= 500 => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(404) => Outcome::Ignore,
        Err(_) => Outcome::Failure,
    };
    // 404s are not the dependency's fault.
    for _ in 0..10 {
        assert_eq!(
            b.call_sync_with(classify, || Err::<u16, _>(404)),
            Err(Error::Inner(404))
        );
    }
    assert_eq!(b.state(), BreakerState::Closed);
    // A 503 inside Ok is a failure.
    assert_eq!(b.call_sync_with(classify, || Ok::<_, u16>(503)), Ok(503));
    assert_eq!(b.snapshot().consecutive_failures, 1);
    assert_eq!(b.call_sync_with(classify, || Ok::<_, u16>(200)), Ok(200));
    assert_eq!(b.snapshot().consecutive_failures, 0);
    let _ = b.call_sync_with(classify, || Ok::<_, u16>(500));
    let _ = b.call_sync_with(classify, || Err::<u16, _>(502));
    assert_eq!(b.state(), BreakerState::Open);
    // An ignored trial gives back its slot.
    clock.advance(10 * SECOND);
    let _ = b.call_sync_with(classify, || Err::<u16, _>(404));
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.snapshot().trials_in_flight, 0);
    let _ = b.call_sync_with(classify, || Ok::<_, u16>(204));
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn async_classifier() {
    let (b, _) = breaker(consecutive(1, 10, 1));
    let r = block_on(b.call_with(
        |_: &Result<(), &str>| Outcome::Ignore,
        || async { Err::<(), _>("ignored") },
    ));
    assert_eq!(r, Err(Error::Inner("ignored")));
    assert_eq!(b.state(), BreakerState::Closed);
    let r = block_on(b.call_with(
        |_: &Result<(), &str>| Outcome::Failure,
        || async { Ok::<(), &str>(()) },
    ));
    assert_eq!(r, Ok(()));
    assert_eq!(b.state(), BreakerState::Open);
}

// ---------------------------------------------------------------- async

#[test]
fn async_call_records_outcomes() {
    let (b, _) = breaker(consecutive(2, 10, 1));
    assert_eq!(block_on(b.call(|| async { Ok::<_, &str>(7) })), Ok(7));
    let r = block_on(b.call(|| async {
        YieldOnce(false).await;
        Err::<(), _>("down")
    }));
    assert_eq!(r, Err(Error::Inner("down")));
    let _ = block_on(b.call(|| async { Err::<(), _>("down") }));
    assert_eq!(b.state(), BreakerState::Open);
    let r = block_on(b.call(|| async { Ok::<_, &str>(()) }));
    assert_eq!(
        r.unwrap_err().rejected().unwrap().state(),
        BreakerState::Open
    );
}

#[test]
fn a_cancelled_call_records_nothing_and_frees_its_slot() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    fail(&b);
    clock.advance(10 * SECOND);
    {
        let future = b.call(|| async {
            std::future::pending::<()>().await;
            Ok::<_, &str>(())
        });
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.snapshot().trials_in_flight, 1);
        assert!(b.try_acquire().is_err());
    } // dropped mid-flight
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.snapshot().trials_in_flight, 0);
    block_on(b.call(|| async { Ok::<_, &str>(()) })).unwrap();
    assert_eq!(b.state(), BreakerState::Closed);

    // Closed: a cancelled call neither fails nor resets the count.
    let (b, _) = breaker(consecutive(2, 10, 1));
    fail(&b);
    for _ in 0..5 {
        let future = b.call(|| async {
            YieldOnce(false).await;
            Ok::<_, &str>(())
        });
        let mut future = Box::pin(future);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(b.snapshot().consecutive_failures, 1);
    fail(&b);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_call_future_that_is_never_polled_takes_no_slot() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    fail(&b);
    clock.advance(10 * SECOND);
    let unpolled = b.call(|| async { Ok::<_, &str>(()) });
    assert_eq!(b.state(), BreakerState::Open);
    drop(unpolled);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

// ---------------------------------------------------------------- panics

fn quiet_panics<R>(f: impl FnOnce() -> R) -> R {
    // Panics below are expected; keep the test output readable.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = f();
    std::panic::set_hook(hook);
    r
}

#[test]
fn a_panic_in_call_sync_counts_as_a_failure() {
    let (b, clock) = breaker(consecutive(2, 10, 1));
    quiet_panics(|| {
        for _ in 0..2 {
            let r = catch_unwind(AssertUnwindSafe(|| {
                let _ = b.call_sync(|| -> Result<(), &str> { panic!("bug") });
            }));
            assert!(r.is_err());
        }
    });
    assert_eq!(b.state(), BreakerState::Open);
    // A panicking trial re-opens it and leaves no slot taken.
    clock.advance(10 * SECOND);
    quiet_panics(|| {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = b.call_sync(|| -> Result<(), &str> { panic!("bug") });
        }));
        assert!(r.is_err());
    });
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(b.snapshot().trials_in_flight, 0);
    clock.advance(10 * SECOND);
    succeed(&b);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_panic_in_an_async_call_counts_as_a_failure() {
    let (b, clock) = breaker(consecutive(1, 10, 2));
    quiet_panics(|| {
        let r = catch_unwind(AssertUnwindSafe(|| {
            block_on(b.call(|| async {
                YieldOnce(false).await;
                if true {
                    panic!("bug");
                }
                Ok::<_, &str>(())
            }))
        }));
        assert!(r.is_err());
    });
    assert_eq!(b.state(), BreakerState::Open);
    clock.advance(10 * SECOND);
    let held = b.try_acquire().unwrap();
    quiet_panics(|| {
        let r = catch_unwind(AssertUnwindSafe(|| {
            block_on(b.call(|| async { panic!("bug") as Result<(), &str> }))
        }));
        assert!(r.is_err());
    });
    assert_eq!(b.state(), BreakerState::Open);
    held.success(); // stale: the panic re-opened the breaker
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(b.snapshot().trials_in_flight, 0);
}

#[test]
fn a_panic_while_a_permit_is_held_counts_as_a_failure() {
    let (b, _) = breaker(consecutive(1, 10, 1));
    quiet_panics(|| {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _permit = b.try_acquire().unwrap();
            panic!("bug between acquire and outcome");
        }));
        assert!(r.is_err());
    });
    assert_eq!(b.state(), BreakerState::Open);
}

// ---------------------------------------------------------------- misc

#[test]
fn clones_share_state_and_the_breaker_is_send_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Breaker>();
    assert_send_sync::<brownout::OwnedPermit>();
    let (b, _) = breaker(consecutive(1, 10, 1));
    let clone = b.clone();
    let other = std::thread::spawn(move || fail(&clone));
    other.join().unwrap();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn errors_work_without_bounds_and_chain_when_they_can() {
    let (b, _) = breaker(consecutive(1, 10, 1));
    // A non-Error, non-Debug-bound error type works.
    struct Opaque;
    let r = b.call_sync(|| Err::<(), _>(Opaque));
    assert!(matches!(r, Err(Error::Inner(Opaque))));
    let r: Result<(), Error<std::io::Error>> = b.call_sync(|| Ok(()));
    let e = r.unwrap_err();
    let as_error: &dyn std::error::Error = &e;
    assert!(as_error.source().is_none());
    assert!(e.to_string().contains("open"));
    let (b, _) = breaker(consecutive(1, 10, 1));
    let e = b
        .call_sync(|| Err::<(), _>(std::io::Error::other("disk")))
        .unwrap_err();
    assert_eq!(
        std::error::Error::source(&e).map(ToString::to_string),
        Some("disk".to_owned())
    );
    assert_eq!(e.into_inner().map(|e| e.to_string()), Some("disk".into()));
}

#[test]
fn snapshots_report_the_last_transition() {
    let (b, clock) = breaker(consecutive(1, 10, 1));
    assert!(b.snapshot().last_transition.is_none());
    fail(&b);
    clock.advance(3 * SECOND);
    let s = b.snapshot();
    assert_eq!(s.name, "dep");
    assert_eq!(s.state, BreakerState::Open);
    assert_eq!(s.retry_after, Some(7 * SECOND));
    let t = s.last_transition.unwrap();
    assert_eq!(
        (t.from, t.to, t.ago),
        (BreakerState::Closed, BreakerState::Open, 3 * SECOND)
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["state"], "open");
    assert_eq!(json["retry_after_ms"], 7000);
    assert_eq!(json["last_transition"]["ago_ms"], 3000);
    assert!(json.get("window").is_none());
}

#[test]
fn invalid_breakers_are_errors() {
    let err = Breaker::new("  ", BreakerConfig::default()).unwrap_err();
    assert_eq!(err.path(), "name");
    let err = Breaker::new(
        "x",
        BreakerConfig {
            failure_threshold: 0,
            ..BreakerConfig::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.path(), "failure_threshold");
    assert_eq!(err.reason(), "must be > 0");
}
