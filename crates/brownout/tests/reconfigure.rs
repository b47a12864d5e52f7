//! Runtime reconfiguration: what a reload keeps, what it changes, and calls
//! racing it. Time-dependent parts run on a `ManualClock`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{BreakerState, ChangeCause, Config, DegradationManager, HeldOff, Level, TripCause};

const SECOND: Duration = Duration::from_secs(1);

fn config(toml: &str) -> Config {
    Config::from_toml_str(toml).unwrap()
}

const BASE: &str = r#"
    [dependencies.openai]
    weight = 50
    failure_threshold = 5
    recovery_timeout = "30s"
    half_open_max_calls = 2
    [dependencies.database]
    weight = 30
    failure_threshold = 3
    recovery_timeout = "20s"
    half_open_max_calls = 1
    [dependencies.redis]
    weight = 20
    failure_threshold = 1
    recovery_timeout = "10s"
    [features.suggestions]
    min_level = "OPTIMAL"
    requires = ["openai"]
    [features.search]
    min_level = "LIMITED"
    requires = ["database"]
    [features.cache]
    min_level = "DEGRADED"
    requires = ["redis"]
"#;

fn manager(toml: &str) -> (DegradationManager, ManualClock) {
    let clock = ManualClock::new();
    let m = DegradationManager::builder()
        .clock(clock.clone())
        .config(config(toml))
        .build()
        .unwrap();
    (m, clock)
}

fn fail(m: &DegradationManager, dependency: &str, times: u32) {
    let b = m.breaker(dependency).unwrap();
    for _ in 0..times {
        let _ = b.call_sync(|| Err::<(), _>("down"));
    }
}

#[test]
fn an_invalid_config_changes_nothing() {
    let (m, _) = manager(BASE);
    fail(&m, "redis", 1);
    let before = (
        m.health_score(),
        m.level(),
        m.config(),
        m.enabled_features(),
    );
    let mut bad = config(BASE);
    bad.dependencies.get_mut("openai").unwrap().weight = -1.0;
    let error = m.reconfigure(bad).unwrap_err();
    assert_eq!(error.to_string(), "dependencies.openai.weight: must be > 0");
    let mut unknown = config(BASE);
    unknown
        .features
        .get_mut("search")
        .unwrap()
        .requires
        .push("s3".into());
    let error = m.reconfigure(unknown).unwrap_err();
    assert_eq!(
        error.to_string(),
        "features.search.requires: unknown dependency \"s3\""
    );
    let after = (
        m.health_score(),
        m.level(),
        m.config(),
        m.enabled_features(),
    );
    assert_eq!(before, after);
    assert_eq!(m.breaker("redis").unwrap().state(), BreakerState::Open);
}

#[test]
fn new_weights_thresholds_and_features_apply_at_once() {
    let (m, _) = manager(BASE);
    let changes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&changes);
    m.on_level_change(move |c| seen.lock().unwrap().push(c.clone()));
    fail(&m, "redis", 1);
    assert_eq!(m.health_score(), 80.0);
    assert_eq!(m.level(), Level::Degraded);
    let suggestions = m.gate("suggestions").unwrap();
    assert!(!suggestions.is_enabled());

    // redis now weighs 5 of 100: 95 is OPTIMAL; suggestions now only need DEGRADED.
    let lighter = BASE
        .replace("weight = 20", "weight = 5")
        .replace("weight = 50", "weight = 65")
        .replacen("min_level = \"OPTIMAL\"", "min_level = \"DEGRADED\"", 1);
    m.reconfigure(config(&lighter)).unwrap();
    assert_eq!(m.health_score(), 95.0);
    assert_eq!(m.level(), Level::Optimal);
    assert!(
        suggestions.is_enabled(),
        "a gate resolved before follows its feature"
    );
    assert_eq!(suggestions.min_level(), Level::Degraded);
    let last = changes.lock().unwrap().last().cloned().unwrap();
    assert_eq!((last.from, last.to), (Level::Degraded, Level::Optimal));
    assert_eq!(last.cause, ChangeCause::Reconfigured);
    assert_eq!(m.last_change().cause, ChangeCause::Reconfigured);

    // Thresholds: 95 is below a raised optimal threshold.
    let strict =
        lighter.clone() + "[levels]\noptimal = 99\ndegraded = 90\nlimited = 60\nminimal = 40\n";
    m.reconfigure(config(&strict)).unwrap();
    assert_eq!(m.level(), Level::Degraded);
}

#[test]
fn an_unchanged_breaker_keeps_state_counts_and_open_period() {
    let (m, clock) = manager(BASE);
    fail(&m, "database", 3);
    fail(&m, "openai", 4); // one short of opening
    let database = m.breaker("database").unwrap();
    clock.advance(5 * SECOND);
    let left = database.retry_after().unwrap();
    let generation_call = database.try_acquire(); // rejected while open
    assert!(generation_call.is_err());

    m.reconfigure(config(&BASE.replace("weight = 50", "weight = 60")))
        .unwrap();
    assert_eq!(database.state(), BreakerState::Open);
    assert_eq!(
        database.retry_after().unwrap(),
        left,
        "the open period neither restarts nor shortens"
    );
    assert_eq!(
        m.breaker("openai").unwrap().snapshot().consecutive_failures,
        4
    );
    fail(&m, "openai", 1);
    assert_eq!(m.breaker("openai").unwrap().state(), BreakerState::Open);
    assert!(m.breaker("database").unwrap().same_as(&database));
}

#[test]
fn changed_breaker_settings_apply_from_the_next_decision() {
    let (m, clock) = manager(BASE);
    let openai = m.breaker("openai").unwrap();
    fail(&m, "openai", 2);
    // The threshold drops to 3 with 2 failures pending: the next failure opens.
    m.reconfigure(config(&BASE.replacen(
        "failure_threshold = 5",
        "failure_threshold = 3",
        1,
    )))
    .unwrap();
    assert_eq!(openai.state(), BreakerState::Closed);
    assert_eq!(openai.config().failure_threshold, 3);
    fail(&m, "openai", 1);
    assert_eq!(openai.state(), BreakerState::Open);
    let trip = openai.snapshot().last_trip.unwrap();
    assert_eq!(trip.cause, TripCause::ConsecutiveFailures);

    // A new recovery timeout applies from the next opening: this one keeps its 30 s.
    let longer = BASE
        .replacen("failure_threshold = 5", "failure_threshold = 3", 1)
        .replacen(
            "recovery_timeout = \"30s\"",
            "recovery_timeout = \"90s\"",
            1,
        );
    m.reconfigure(config(&longer)).unwrap();
    assert_eq!(openai.retry_after(), Some(30 * SECOND));
    clock.advance(30 * SECOND);
    let trial = openai.try_acquire().expect("the open period kept its end");
    trial.failure();
    assert_eq!(openai.state(), BreakerState::Open);
    assert_eq!(
        openai.retry_after(),
        Some(90 * SECOND),
        "the next opening uses the new timeout"
    );
}

#[test]
fn a_lowered_trial_count_closes_a_half_open_breaker_that_met_it() {
    let (m, clock) = manager(BASE);
    let openai = m.breaker("openai").unwrap();
    fail(&m, "openai", 5);
    clock.advance(30 * SECOND);
    openai.try_acquire().unwrap().success(); // 1 of 2 trials
    assert_eq!(openai.state(), BreakerState::HalfOpen);
    assert_eq!(m.level(), Level::Minimal);
    m.reconfigure(config(
        &BASE.replace("half_open_max_calls = 2", "half_open_max_calls = 1"),
    ))
    .unwrap();
    assert_eq!(openai.state(), BreakerState::Closed);
    assert_eq!(m.level(), Level::Optimal);
}

#[test]
fn a_policy_change_starts_an_empty_window() {
    let (m, _) = manager(BASE);
    let redis = m.breaker("redis").unwrap();
    let rate = BASE.replacen(
        "failure_threshold = 1",
        "policy = \"failure_rate\"\n    window = 4\n    minimum_calls = 4\n    failure_rate_threshold = 0.5",
        1,
    );
    m.reconfigure(config(&rate)).unwrap();
    for _ in 0..3 {
        let _ = redis.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(
        redis.state(),
        BreakerState::Closed,
        "three calls are under minimum_calls"
    );
    let counts = redis.snapshot().window.unwrap();
    assert_eq!((counts.calls, counts.failures), (3, 3));
    let _ = redis.call_sync(|| Err::<(), _>("down"));
    assert_eq!(redis.state(), BreakerState::Open);
    assert_eq!(
        redis.snapshot().last_trip.unwrap().cause,
        TripCause::FailureRate
    );
}

#[test]
fn added_dependencies_start_closed_and_removed_ones_stop_counting() {
    let (m, _) = manager(BASE);
    let redis = m.breaker("redis").unwrap();
    let cache = m.gate("cache").unwrap();
    let without_redis = BASE
        .replace(
            "[dependencies.redis]\n    weight = 20\n    failure_threshold = 1\n    recovery_timeout = \"10s\"\n",
            "[dependencies.s3]\n    weight = 20\n    failure_threshold = 1\n",
        )
        .replace("requires = [\"redis\"]", "requires = [\"s3\"]");
    m.reconfigure(config(&without_redis)).unwrap();
    assert!(m.breaker("redis").is_err());
    let s3 = m.breaker("s3").unwrap();
    assert_eq!(s3.state(), BreakerState::Closed);
    assert_eq!(
        m.breakers()
            .iter()
            .map(|b| b.name().to_owned())
            .collect::<Vec<_>>(),
        ["database", "openai", "s3"]
    );

    // The old handle works on its own; its transitions no longer move the manager.
    let _ = redis.call_sync(|| Err::<(), _>("down"));
    assert_eq!(redis.state(), BreakerState::Open);
    assert_eq!(m.health_score(), 100.0);
    assert!(cache.is_enabled(), "cache now requires s3, which is closed");

    let _ = s3.call_sync(|| Err::<(), _>("down"));
    assert_eq!(m.health_score(), 80.0);
    assert!(!cache.is_enabled());
    match cache.held_off() {
        Some(HeldOff::Dependency { dependency, .. }) => assert_eq!(dependency, "s3"),
        other => panic!("expected s3 to hold cache off, got {other:?}"),
    }

    // redis comes back: a new breaker, closed, not the old open one.
    m.reconfigure(config(BASE)).unwrap();
    let back = m.breaker("redis").unwrap();
    assert!(!back.same_as(&redis));
    assert_eq!(back.state(), BreakerState::Closed);
    let snapshot = m.snapshot();
    let names: Vec<_> = snapshot
        .dependencies
        .iter()
        .map(|d| d.breaker.name.as_str())
        .collect();
    assert_eq!(names, ["database", "openai", "redis"]);
}

#[test]
fn a_removed_features_gate_answers_false_until_it_comes_back() {
    let (m, _) = manager(BASE);
    let search = m.gate("search").unwrap();
    assert!(search.is_enabled());
    let without = BASE.replace(
        "[features.search]\n    min_level = \"LIMITED\"\n    requires = [\"database\"]\n",
        "",
    );
    m.reconfigure(config(&without)).unwrap();
    assert!(!search.is_enabled());
    assert_eq!(search.held_off(), Some(HeldOff::Removed));
    assert!(!m.is_enabled("search"));
    assert!(m.gate("search").is_err());
    assert!(m.snapshot().features.iter().all(|f| f.name != "search"));
    // Level changes no longer touch it.
    m.force_level(Level::Optimal, None);
    assert!(!search.is_enabled());

    m.reconfigure(config(BASE)).unwrap();
    assert!(
        search.is_enabled(),
        "the feature is back and the old gate follows it"
    );
    assert!(m.gate("search").unwrap().is_enabled());
}

#[test]
fn the_override_and_listeners_survive_a_reload() {
    let (m, _) = manager(BASE);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    m.on_level_change(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    m.force_level(Level::Limited, None);
    m.reconfigure(config(&BASE.replace("weight = 50", "weight = 10")))
        .unwrap();
    assert_eq!(m.level(), Level::Limited);
    assert_eq!(m.override_level(), Some(Level::Limited));
    m.clear_override();
    assert_eq!(m.level(), Level::Optimal);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Calls on every path race reloads that flip weights, thresholds, trial
/// counts, features and a whole dependency: no panic, no half-open breaker
/// over its limit, no outcome lost from a window whose shape stays.
#[test]
fn calls_racing_reloads_never_over_admit_or_lose_an_outcome() {
    let shapes = [
        BASE.replace("half_open_max_calls = 2", "half_open_max_calls = 3")
            .replacen("failure_threshold = 3", "policy = \"failure_rate\"\n    window = 1000000\n    minimum_calls = 1000000", 1),
        BASE.replace("weight = 50", "weight = 5")
            .replace("half_open_max_calls = 2", "half_open_max_calls = 1")
            .replacen("failure_threshold = 3", "policy = \"failure_rate\"\n    window = 1000000\n    minimum_calls = 1000000\n    failure_rate_threshold = 0.9", 1)
            .replace("[features.cache]", "[features.extra]\n    min_level = \"MINIMAL\"\n    [features.cache]"),
    ];
    let clock = ManualClock::new();
    let m = DegradationManager::builder()
        .clock(clock.clone())
        .config(config(&shapes[0]))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let recorded = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    // Two threads keep openai half-open and race for its trial slots.
    for _ in 0..2 {
        let (m, stop, in_flight, clock) = (
            m.clone(),
            Arc::clone(&stop),
            Arc::clone(&in_flight),
            clock.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let openai = m.breaker("openai").unwrap();
            while !stop.load(Ordering::Relaxed) {
                match openai.state() {
                    BreakerState::Closed => openai.force_open(),
                    BreakerState::ForcedOpen => {
                        openai.reset();
                        for _ in 0..20 {
                            let _ = openai.call_sync(|| Err::<(), _>("down"));
                        }
                    }
                    BreakerState::Open => clock.advance(30 * SECOND),
                    _ => {}
                }
                if let Ok(permit) = openai.try_acquire() {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(
                        now <= 3,
                        "{now} trials at once; no config allows more than 3"
                    );
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    permit.ignore();
                }
            }
        }));
    }
    // One thread records successes on the database's window, and reads gates.
    {
        let (m, stop, recorded) = (m.clone(), Arc::clone(&stop), Arc::clone(&recorded));
        threads.push(std::thread::spawn(move || {
            let database = m.breaker("database").unwrap();
            let search = m.gate("search").unwrap();
            while !stop.load(Ordering::Relaxed) {
                database.call_sync(|| Ok::<_, &str>(())).unwrap();
                recorded.fetch_add(1, Ordering::Relaxed);
                let _ = search.is_enabled();
                let _ = m.is_enabled("extra");
                let _ = m.snapshot();
            }
        }));
    }
    for i in 0..2_000 {
        m.reconfigure(config(&shapes[i % 2])).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    let counts = m.breaker("database").unwrap().snapshot().window.unwrap();
    assert_eq!(u64::from(counts.calls), recorded.load(Ordering::Relaxed));
    // No trial slot leaked: once the breaker is half-open again, a trial is admitted.
    let openai = m.breaker("openai").unwrap();
    openai.reset();
    fail(&m, "openai", 5);
    clock.advance(30 * SECOND);
    assert!(openai.try_acquire().is_ok());
}
