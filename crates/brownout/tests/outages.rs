//! Outages as users meet them: a dependency that hangs trips its breaker, a
//! dependency under trial does not flap the level, any valid configuration
//! can reach every level, snapshots say why and since when, and config
//! errors stay exact for any name.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{
    Breaker, BreakerConfig, BreakerState, ChangeCause, Config, DegradationManager,
    DependencyConfig, Error, FeatureConfig, HeldOff, Level, LevelsConfig, Policy, TripCause,
};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");
const SECOND: Duration = Duration::from_secs(1);

fn reference(clock: &ManualClock) -> DegradationManager {
    DegradationManager::builder()
        .config(Config::from_toml_str(REFERENCE).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// Polls a future that never waits on a waker to completion.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn with_timeout(timeout: Duration) -> BreakerConfig {
    BreakerConfig {
        failure_threshold: 3,
        call_timeout: Some(timeout),
        ..BreakerConfig::default()
    }
}

// ---------------------------------------------------------------- hangs

/// A dependency that never answers: with tokio's timer each call is cut off
/// at `call_timeout`, counted as a failure, and the third opens the breaker,
/// after about `failure_threshold × call_timeout` (tokio's paused clock).
#[cfg(feature = "tokio")]
#[tokio::test(start_paused = true)]
async fn a_hanging_dependency_trips_its_breaker() {
    let breaker = Breaker::new("llm", with_timeout(2 * SECOND)).unwrap();
    let started = tokio::time::Instant::now();
    for i in 0..3 {
        let result = breaker.call(std::future::pending::<Result<(), &str>>).await;
        match result {
            Err(Error::Timeout(t)) => {
                assert_eq!(t.dependency(), "llm");
                assert_eq!(t.timeout(), 2 * SECOND);
                assert_eq!(
                    t.to_string(),
                    "call to `llm` timed out after 2s",
                    "call {i}"
                );
            }
            other => panic!("call {i}: expected a timeout, got {other:?}"),
        }
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(started.elapsed(), 6 * SECOND);
    let snap = breaker.snapshot();
    let trip = snap
        .last_trip
        .expect("the breaker remembers what opened it");
    assert_eq!(trip.cause, TripCause::ConsecutiveFailures);
    assert_eq!(trip.consecutive_failures, 3);
    // Open now: the next call is rejected at once, without waiting.
    let before = tokio::time::Instant::now();
    let r = breaker.call(std::future::pending::<Result<(), &str>>).await;
    assert!(matches!(r, Err(Error::Rejected(_))), "{r:?}");
    assert_eq!(before.elapsed(), Duration::ZERO);
}

/// Calls that answer in time are untouched by the timeout.
#[cfg(feature = "tokio")]
#[tokio::test(start_paused = true)]
async fn calls_within_the_timeout_pass() {
    let breaker = Breaker::new("llm", with_timeout(2 * SECOND)).unwrap();
    for _ in 0..10 {
        let r = breaker
            .call(|| async {
                tokio::time::sleep(SECOND).await;
                Ok::<_, &str>(7)
            })
            .await;
        assert_eq!(r, Ok(7));
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

/// Without a timer (no tokio runtime, or a manual clock), a call that
/// finishes after `call_timeout` counts as a timeout failure.
#[test]
fn a_late_async_call_counts_as_a_timeout_without_a_timer() {
    let clock = ManualClock::new();
    let breaker = Breaker::with_clock("db", with_timeout(SECOND), clock.clone()).unwrap();
    for _ in 0..3 {
        let r = run(breaker.call(|| async {
            clock.advance(2 * SECOND);
            Ok::<_, &str>("too late")
        }));
        assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
    }
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[test]
fn a_late_sync_call_counts_as_a_timeout() {
    let clock = ManualClock::new();
    let breaker = Breaker::with_clock("db", with_timeout(SECOND), clock.clone()).unwrap();
    // Exactly at the timeout is still in time.
    let r = breaker.call_sync(|| {
        clock.advance(SECOND);
        Ok::<_, &str>(1)
    });
    assert_eq!(r, Ok(1));
    for _ in 0..3 {
        let r = breaker.call_sync(|| {
            clock.advance(SECOND + Duration::from_millis(1));
            Ok::<_, &str>(2)
        });
        assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    // The permit API lets callers judge it themselves.
    clock.advance(30 * SECOND);
    let permit = breaker.try_acquire().unwrap();
    assert!(!permit.overran());
    clock.advance(2 * SECOND);
    assert!(permit.overran());
    permit.record(brownout::Outcome::Timeout);
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "a timed-out trial re-opens"
    );
}

#[test]
fn the_reference_deployment_sets_a_call_timeout_everywhere() {
    let config = Config::from_toml_str(REFERENCE).unwrap();
    for (name, dep) in &config.dependencies {
        assert!(dep.breaker.call_timeout.is_some(), "{name}");
    }
    let bad = Config::from_toml_str("[dependencies.db]\nweight = 1\ncall_timeout = \"0s\"\n");
    assert_eq!(
        bad.unwrap_err().to_string(),
        "dependencies.db.call_timeout: must be > 0"
    );
}

// ---------------------------------------------------------------- flapping

/// A dependency that stays down, with a trial every recovery timeout that
/// keeps failing, holds the level steady: no change per trial.
#[test]
fn a_failing_trial_never_flaps_the_level() {
    let clock = ManualClock::new();
    let manager = reference(&clock);
    let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&changes);
    manager.on_level_change(move |c| seen.lock().unwrap().push((c.from, c.to)));
    let openai = manager.breaker("openai").unwrap();
    for _ in 0..5 {
        let _ = openai.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(manager.level(), Level::Minimal);
    for _ in 0..20 {
        clock.advance(30 * SECOND);
        let trial = openai
            .try_acquire()
            .expect("a trial after the recovery timeout");
        assert_eq!(manager.level(), Level::Minimal, "under trial");
        trial.failure();
        assert_eq!(manager.level(), Level::Minimal, "after the failed trial");
    }
    assert_eq!(
        *changes.lock().unwrap(),
        [(Level::Optimal, Level::Minimal)],
        "one change for the whole outage"
    );
}

/// Valid hysteresis can never lock a level out: a score of 100 reaches OPTIMAL.
#[test]
fn no_valid_hysteresis_makes_optimal_unreachable() {
    for (levels, what) in [
        (
            LevelsConfig {
                optimal: 100.0,
                hysteresis: 1.0,
                ..LevelsConfig::default()
            },
            "optimal = 100, hysteresis = 1",
        ),
        (
            LevelsConfig {
                hysteresis: 15.0,
                ..LevelsConfig::default()
            },
            "hysteresis = 15",
        ),
        (
            LevelsConfig {
                hysteresis: 99.9,
                ..LevelsConfig::default()
            },
            "hysteresis = 99.9",
        ),
    ] {
        let clock = ManualClock::new();
        let mut dep = DependencyConfig::new(1.0);
        dep.breaker.failure_threshold = 1;
        let manager = DegradationManager::builder()
            .clock(clock.clone())
            .levels(levels)
            .dependency("only", dep)
            .build()
            .unwrap();
        let only = manager.breaker("only").unwrap();
        let _ = only.call_sync(|| Err::<(), _>("down"));
        assert_eq!(manager.level(), Level::Emergency, "{what}");
        clock.advance(30 * SECOND);
        only.try_acquire().unwrap().success();
        assert_eq!(manager.health_score(), 100.0, "{what}");
        assert_eq!(manager.level(), Level::Optimal, "{what}");
    }
}

/// Any valid weights give a correct score: no overflow to infinity, no NaN.
#[test]
fn huge_and_tiny_weights_score_correctly() {
    for (up, down, expected) in [
        (1e307, 1e307, 50.0),
        (1e308, 1e308, 50.0),
        (f64::MAX, f64::MAX, 50.0),
        (1.5e308, 5e307, 75.0),
        (1e-300, 1e-300, 50.0),
        (5e-324, 5e-324, 50.0),
        (30.0, 70.0, 30.0),
    ] {
        let clock = ManualClock::new();
        let mut failing = DependencyConfig::new(down);
        failing.breaker.failure_threshold = 1;
        let manager = DegradationManager::builder()
            .clock(clock)
            .dependency("up", DependencyConfig::new(up))
            .dependency("down", failing)
            .build()
            .unwrap();
        assert_eq!(manager.health_score(), 100.0, "{up} / {down}");
        let _ = manager
            .breaker("down")
            .unwrap()
            .call_sync(|| Err::<(), _>("x"));
        let score = manager.health_score();
        assert!(
            (score - expected).abs() < 1e-9,
            "{up} up, {down} down: {score}, expected {expected}"
        );
    }
}

// ---------------------------------------------------------------- snapshots

/// A half-open trial past its deadline counts as failed in what a snapshot
/// (and with it the score and the level) reports, without waiting for a call.
#[test]
fn a_snapshot_expires_an_overdue_trial() {
    let clock = ManualClock::new();
    let manager = reference(&clock);
    let db = manager.breaker("database").unwrap();
    for _ in 0..3 {
        let _ = db.call_sync(|| Err::<(), _>("down"));
    }
    clock.advance(20 * SECOND);
    let hung = db.try_acquire().unwrap();
    assert_eq!(db.state(), BreakerState::HalfOpen);
    // The trial never answers; its half-open timeout (the recovery timeout) passes.
    clock.advance(20 * SECOND);
    let snap = manager.snapshot();
    let dep = snap
        .dependencies
        .iter()
        .find(|d| d.breaker.name == "database")
        .unwrap();
    assert_eq!(dep.breaker.state, BreakerState::Open);
    let trip = dep.breaker.last_trip.expect("why it opened");
    assert_eq!(trip.cause, TripCause::TrialsTimedOut);
    assert_eq!(snap.score, 70.0);
    assert_eq!(manager.health_score(), 70.0);
    hung.success(); // a late answer changes nothing
    assert_eq!(db.state(), BreakerState::Open);
}

/// An operator can see why a breaker opened (the counts that tripped it),
/// and since when each breaker and the level are where they are.
#[test]
fn a_snapshot_says_why_and_since_when() {
    let clock = ManualClock::new();
    let mut config = Config::from_toml_str(REFERENCE).unwrap();
    let redis = config.dependencies.get_mut("redis").unwrap();
    redis.breaker.policy = Policy::FailureRate;
    redis.breaker.window = 10;
    redis.breaker.minimum_calls = 10;
    redis.breaker.failure_rate_threshold = 0.5;
    let manager = DegradationManager::builder()
        .config(config)
        .clock(clock.clone())
        .build()
        .unwrap();
    let redis = manager.breaker("redis").unwrap();
    for i in 0..10 {
        let _ = redis.call_sync(|| if i % 2 == 0 { Err("miss") } else { Ok(()) });
    }
    assert_eq!(redis.state(), BreakerState::Open);
    clock.advance(3 * SECOND);

    let snap = manager.snapshot();
    let dep = snap
        .dependencies
        .iter()
        .find(|d| d.breaker.name == "redis")
        .unwrap();
    let trip = dep.breaker.last_trip.unwrap();
    assert_eq!(trip.cause, TripCause::FailureRate);
    let window = trip.window.unwrap();
    assert_eq!((window.calls, window.failures), (10, 5));
    assert_eq!(trip.ago, 3 * SECOND);
    assert_eq!(dep.breaker.last_transition.unwrap().ago, 3 * SECOND);
    // The window itself starts empty at every state change.
    assert_eq!(dep.breaker.window.unwrap().calls, 0);

    assert_eq!(snap.level, Level::Degraded);
    assert_eq!(snap.last_change.to, Level::Degraded);
    assert_eq!(snap.last_change.ago, 3 * SECOND);
    assert!(matches!(
        &snap.last_change.cause,
        ChangeCause::Breaker { dependency, to: BreakerState::Open, .. } if *dependency == "redis"
    ));
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(json["last_change"]["ago_ms"], 3000);
    assert_eq!(json["last_change"]["cause"]["dependency"], "redis");
    let redis_json = json["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "redis")
        .unwrap();
    assert_eq!(redis_json["last_trip"]["cause"], "failure_rate");
    assert_eq!(redis_json["last_trip"]["window"]["failures"], 5);
}

/// A feature says what holds it off: the open dependency it requires (with
/// that breaker's time to its next trial), or the level.
#[test]
fn a_feature_names_what_holds_it_off() {
    let clock = ManualClock::new();
    let manager = reference(&clock);
    let suggestions = manager.gate("ai_suggestions").unwrap();
    let search = manager.gate("full_text_search").unwrap();
    assert_eq!(suggestions.held_off(), None);

    let openai = manager.breaker("openai").unwrap();
    for _ in 0..5 {
        let _ = openai.call_sync(|| Err::<(), _>("down"));
    }
    clock.advance(10 * SECOND);
    match suggestions.held_off() {
        Some(HeldOff::Dependency {
            dependency,
            state,
            retry_after,
        }) => {
            assert_eq!(dependency, "openai");
            assert_eq!(state, BreakerState::Open);
            assert_eq!(retry_after, Some(20 * SECOND));
        }
        other => panic!("expected openai, got {other:?}"),
    }
    let held = manager.held_off("full_text_search").unwrap();
    assert_eq!(held, search.held_off().unwrap());
    match held {
        HeldOff::Level {
            level,
            required,
            retry_after,
        } => {
            assert_eq!((level, required), (Level::Minimal, Level::Degraded));
            assert_eq!(retry_after, Some(20 * SECOND), "the soonest trial");
        }
        other => panic!("expected the level, got {other:?}"),
    }
    assert_eq!(
        held.to_string(),
        "the level is MINIMAL and the feature needs DEGRADED"
    );
    let snap = manager.snapshot();
    let feature = snap
        .features
        .iter()
        .find(|f| f.name == "ai_suggestions")
        .unwrap();
    assert!(matches!(feature.held_off, Some(HeldOff::Dependency { .. })));
    assert_eq!(manager.held_off("no_such_feature"), None);
}

/// A half-open breaker with every trial slot taken tells callers when to
/// come back (the trials' deadline), never "retry in zero".
#[test]
fn a_full_half_open_breaker_gives_a_real_retry_hint() {
    let clock = ManualClock::new();
    let config = BreakerConfig {
        failure_threshold: 1,
        half_open_max_calls: 1,
        half_open_timeout: Some(5 * SECOND),
        ..BreakerConfig::default()
    };
    let breaker = Breaker::with_clock("s3", config, clock.clone()).unwrap();
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    clock.advance(30 * SECOND);
    let _trial = breaker.try_acquire().unwrap();
    clock.advance(2 * SECOND);
    let rejected = breaker.try_acquire().unwrap_err();
    assert_eq!(rejected.state(), BreakerState::HalfOpen);
    assert_eq!(rejected.retry_after(), 3 * SECOND);
}

// ---------------------------------------------------------------- config paths

/// Error paths stay exact for any dependency or feature name: names TOML
/// would quote are quoted.
#[test]
fn config_paths_quote_names_that_need_it() {
    for (toml, expected) in [
        (
            "[dependencies.\"db.eu\"]\nweight = 1\nfailure_treshold = 3\n",
            "dependencies.\"db.eu\".failure_treshold: unknown key",
        ),
        (
            "[dependencies.\"db.eu\"]\nweight = 0\n",
            "dependencies.\"db.eu\".weight: must be > 0",
        ),
        (
            "[dependencies.\"db.eu\"]\nweight = 1\nrecovery_timeout = \"soon\"\n",
            "dependencies.\"db.eu\".recovery_timeout: invalid duration \"soon\"",
        ),
        (
            "[dependencies.\"my db\"]\nweight = \"heavy\"\n",
            "dependencies.\"my db\".weight: invalid type: string \"heavy\", expected f64",
        ),
        (
            "[dependencies.'say \"hi\"']\nweight = 1\nwindow = 0\n",
            "dependencies.\"say \\\"hi\\\"\".window: must be > 0",
        ),
        (
            "[dependencies.db]\nweight = 1\n[features.\"a.b\"]\nrequires = [\"x\"]\n",
            "features.\"a.b\".requires: unknown dependency \"x\"",
        ),
        (
            "[dependencies.\"\"]\nweight = 1\n",
            "dependencies.\"\": name must not be empty",
        ),
        (
            "[dependencies.plain_name-1]\nweight = 1\nbogus = 1\n",
            "dependencies.plain_name-1.bogus: unknown key",
        ),
    ] {
        let err = Config::from_toml_str(toml).unwrap_err();
        assert_eq!(err.to_string(), expected, "{toml}");
    }
    let dup = DegradationManager::builder()
        .config(Config::from_toml_str("[dependencies.\"db.eu\"]\nweight = 1\n").unwrap())
        .dependency("db.eu", DependencyConfig::new(2.0))
        .build()
        .unwrap_err();
    assert_eq!(dup.to_string(), "dependencies.\"db.eu\": duplicate name");
    let feature = DegradationManager::builder()
        .feature("x", FeatureConfig::new(Level::Optimal).requires("db.eu"))
        .build()
        .unwrap_err();
    assert_eq!(
        feature.to_string(),
        "features.x.requires: unknown dependency \"db.eu\""
    );
}
