//! Probes, the background task and level subscriptions (feature `tokio`).
//!
//! Time is tokio's paused clock, read by the manager through `TokioClock`, so
//! breakers, probes and timers move together and no test waits for real time.

#![cfg(feature = "tokio")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brownout::clock::TokioClock;
use brownout::{BreakerState, ChangeCause, Config, DegradationManager, Level, LevelChange};
use tokio::time::{Instant, sleep};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The reference deployment on tokio's clock, with a probe on `openai`.
fn reference_with_probe<F, Fut>(probe: F) -> DegradationManager
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    DegradationManager::builder()
        .config(Config::from_toml_str(REFERENCE).unwrap())
        .clock(TokioClock::new())
        .probe("openai", probe)
        .build()
        .unwrap()
}

fn trip(manager: &DegradationManager, dependency: &str) {
    let breaker = manager.breaker(dependency).unwrap();
    while !breaker.state().is_open() {
        let _ = breaker.call_sync(|| Err::<(), _>("down"));
    }
}

/// Records every change a listener sees.
fn record_changes(manager: &DegradationManager) -> Arc<Mutex<Vec<LevelChange>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    manager.on_level_change(move |change| log.lock().unwrap().push(change.clone()));
    seen
}

#[tokio::test(start_paused = true)]
async fn a_healthy_probe_closes_the_breaker_without_user_traffic() {
    let probes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&probes);
    let manager = reference_with_probe(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    let background = manager.spawn_background().unwrap();
    let ai = manager.gate("ai_suggestions").unwrap();

    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);
    assert!(!ai.is_enabled());

    // Nobody calls openai: its features are off. Before the recovery timeout
    // the probe does not run.
    sleep(secs(29)).await;
    assert_eq!(probes.load(Ordering::SeqCst), 0);
    assert_eq!(
        manager.breaker("openai").unwrap().state(),
        BreakerState::Open
    );

    // After it, the probe runs as the half-open trials (two for openai) and closes it.
    sleep(secs(2)).await;
    assert_eq!(probes.load(Ordering::SeqCst), 2);
    assert_eq!(
        manager.breaker("openai").unwrap().state(),
        BreakerState::Closed
    );
    assert_eq!(manager.health_score(), 100.0);
    assert_eq!(manager.level(), Level::Optimal);
    assert!(ai.is_enabled());
    background.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_probe_keeps_it_open_and_follows_the_backoff() {
    let start = Instant::now();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&runs);
    let manager = DegradationManager::builder()
        .config(
            Config::from_toml_str(
                r#"
                [dependencies.openai]
                weight = 50
                failure_threshold = 1
                recovery_timeout = "30s"
                backoff_multiplier = 2.0
                max_recovery_timeout = "100s"
                [dependencies.database]
                weight = 50
                "#,
            )
            .unwrap(),
        )
        .clock(TokioClock::new())
        .probe("openai", move || {
            log.lock().unwrap().push(start.elapsed());
            async { Err::<(), _>("connection refused") }
        })
        .build()
        .unwrap();
    let _background = manager.spawn_background().unwrap();
    trip(&manager, "openai");

    sleep(secs(400)).await;
    let runs: Vec<u64> = runs.lock().unwrap().iter().map(Duration::as_secs).collect();
    // Open 30 s, then 60 s, then capped at 100 s: probes at 30, 90, 190, 290, 390.
    assert_eq!(runs, [30, 90, 190, 290, 390]);
    let openai = manager.breaker("openai").unwrap();
    assert_eq!(openai.state(), BreakerState::Open);
    assert_eq!(manager.level(), Level::Minimal);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_probe_times_out_as_a_failure() {
    let manager = DegradationManager::builder()
        .config(
            Config::from_toml_str(
                r#"
                [dependencies.openai]
                weight = 50
                failure_threshold = 1
                recovery_timeout = "30s"
                probe_timeout = "2s"
                [dependencies.database]
                weight = 50
                "#,
            )
            .unwrap(),
        )
        .clock(TokioClock::new())
        .probe("openai", std::future::pending::<Result<(), &str>>)
        .build()
        .unwrap();
    let _background = manager.spawn_background().unwrap();
    trip(&manager, "openai");
    let openai = manager.breaker("openai").unwrap();

    sleep(Duration::from_millis(31_000)).await;
    assert_eq!(
        openai.state(),
        BreakerState::HalfOpen,
        "the probe is the trial"
    );
    assert_eq!(openai.snapshot().trials_in_flight, 1);

    sleep(secs(2)).await;
    let snapshot = openai.snapshot();
    assert_eq!(snapshot.state, BreakerState::Open, "timed out: re-opened");
    assert_eq!(snapshot.trials_in_flight, 0);
    assert!(snapshot.retry_after.unwrap() > secs(28));
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_probes() {
    let probes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&probes);
    let manager = reference_with_probe(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    manager.spawn_background().unwrap().shutdown().await;
    trip(&manager, "openai");
    sleep(secs(120)).await;
    assert_eq!(probes.load(Ordering::SeqCst), 0);
    assert_eq!(
        manager.breaker("openai").unwrap().state(),
        BreakerState::Open
    );

    // Dropping the handle stops the task too.
    drop(manager.spawn_background().unwrap());
    sleep(secs(120)).await;
    assert_eq!(probes.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_probe_cut_off_by_shutdown_gives_its_trial_slot_back() {
    let manager = reference_with_probe(std::future::pending);
    let background = manager.spawn_background().unwrap();
    trip(&manager, "openai");
    sleep(secs(31)).await;
    let openai = manager.breaker("openai").unwrap();
    assert_eq!(openai.snapshot().trials_in_flight, 1);
    background.shutdown().await;
    assert_eq!(openai.snapshot().trials_in_flight, 0);
    assert_eq!(openai.state(), BreakerState::HalfOpen);
    // Both trial slots are free for user traffic.
    let a = openai.try_acquire().unwrap();
    let b = openai.try_acquire().unwrap();
    a.success();
    b.success();
    assert_eq!(openai.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn holds_and_override_ttls_apply_on_time_without_reads() {
    let manager = DegradationManager::builder()
        .config(
            Config::from_toml_str(
                r#"
                [levels]
                upgrade_hold = "10s"
                [dependencies.openai]
                weight = 50
                failure_threshold = 1
                [dependencies.database]
                weight = 50
                "#,
            )
            .unwrap(),
        )
        .clock(TokioClock::new())
        .build()
        .unwrap();
    let seen = record_changes(&manager);
    let _background = manager.spawn_background().unwrap();

    trip(&manager, "openai");
    manager.breaker("openai").unwrap().reset();
    // The score is back to 100, but the upgrade waits out its hold; nobody
    // reads the level, yet the change is announced on time.
    sleep(Duration::from_millis(9_900)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    sleep(Duration::from_millis(200)).await;
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!((seen[1].from, seen[1].to), (Level::Minimal, Level::Optimal));
        assert_eq!(seen[1].cause, ChangeCause::Deadline);
    }

    manager.force_level(Level::Emergency, Some(secs(5)));
    sleep(Duration::from_millis(5_100)).await;
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.from, last.to), (Level::Emergency, Level::Optimal));
    assert_eq!(last.cause, ChangeCause::Deadline);
}

#[tokio::test]
async fn subscribers_see_every_change_in_order() {
    let manager = DegradationManager::from_toml_str(REFERENCE).unwrap();
    let mut rx = manager.subscribe();
    assert_eq!(rx.borrow().cause, ChangeCause::Initial);
    assert_eq!(rx.borrow().to, Level::Optimal);

    let steps = [
        ("database", Level::Degraded, 70.0),
        ("s3", Level::Limited, 65.0),
        ("redis", Level::Minimal, 50.0),
        ("openai", Level::Emergency, 0.0),
    ];
    let mut from = Level::Optimal;
    for (dependency, level, score) in steps {
        trip(&manager, dependency);
        rx.changed().await.unwrap();
        let change = rx.borrow_and_update().clone();
        assert_eq!((change.from, change.to, change.score), (from, level, score));
        assert_eq!(
            change.cause,
            ChangeCause::Breaker {
                dependency: brownout::DependencyName::new(dependency),
                from: BreakerState::Closed,
                to: BreakerState::Open,
            }
        );
        from = level;
        assert!(!rx.has_changed().unwrap(), "no duplicates");
    }

    // A slow subscriber sees only the latest state, never an old one.
    let mut slow = manager.subscribe();
    slow.mark_unchanged();
    manager.force_level(Level::Limited, None);
    manager.force_level(Level::Degraded, None);
    manager.clear_override();
    slow.changed().await.unwrap();
    let latest = slow.borrow_and_update().clone();
    assert_eq!(
        (latest.from, latest.to),
        (Level::Degraded, Level::Emergency)
    );
    assert!(!slow.has_changed().unwrap());
}

#[test]
fn listeners_see_changes_in_order_across_threads() {
    let manager = DegradationManager::from_toml_str(REFERENCE).unwrap();
    let seen = record_changes(&manager);
    std::thread::scope(|s| {
        for dependency in ["database", "s3", "redis", "openai"] {
            let manager = &manager;
            s.spawn(move || trip(manager, dependency));
        }
    });
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty());
    // Consecutive: each change starts where the previous one ended; levels only fall.
    let mut level = Level::Optimal;
    for change in seen.iter() {
        assert_eq!(change.from, level);
        assert!(change.to < change.from);
        level = change.to;
    }
    assert_eq!(level, Level::Emergency);
    assert_eq!(manager.level(), Level::Emergency);
}

#[test]
fn a_panicking_listener_is_isolated() {
    let manager = DegradationManager::from_toml_str(REFERENCE).unwrap();
    manager.on_level_change(|_| panic!("listener bug"));
    let seen = record_changes(&manager);
    trip(&manager, "openai");
    manager.force_level(Level::Limited, None);
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(manager.level(), Level::Limited);
    assert_eq!(
        manager.breaker("openai").unwrap().state(),
        BreakerState::Open
    );
}

#[test]
fn a_listener_may_call_back_into_the_manager() {
    let manager = DegradationManager::from_toml_str(REFERENCE).unwrap();
    let seen = record_changes(&manager);
    let inner = manager.clone();
    // On reaching EMERGENCY, pin the service at MINIMAL by hand.
    let id = manager.on_level_change(move |change| {
        if change.to == Level::Emergency {
            inner.force_level(Level::Minimal, None);
        }
    });
    trip(&manager, "openai");
    trip(&manager, "database");
    let seen: Vec<(Level, Level)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|c| (c.from, c.to))
        .collect();
    assert_eq!(
        seen,
        [
            (Level::Optimal, Level::Minimal),
            (Level::Minimal, Level::Emergency),
            (Level::Emergency, Level::Minimal),
        ]
    );
    assert!(manager.remove_listener(id));
    assert!(!manager.remove_listener(id));
}

#[test]
fn spawning_outside_a_runtime_is_an_error() {
    let manager = DegradationManager::from_toml_str(REFERENCE).unwrap();
    let err = manager.spawn_background().unwrap_err();
    assert!(err.to_string().contains("no tokio runtime"), "{err}");
}

#[test]
fn a_probe_for_an_unknown_dependency_is_a_config_error() {
    let err = DegradationManager::builder()
        .probe("nope", || async { Ok::<_, &str>(()) })
        .build()
        .unwrap_err();
    assert_eq!(err.path(), "probes.nope");
}

/// The reference deployment with a `probe_interval` on `openai` and the
/// given probe.
fn reference_with_active_probe<F, Fut>(probe: F) -> DegradationManager
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let mut config = Config::from_toml_str(REFERENCE).unwrap();
    config
        .dependencies
        .get_mut("openai")
        .unwrap()
        .probe_interval = Some(secs(10));
    DegradationManager::builder()
        .config(config)
        .clock(TokioClock::new())
        .probe("openai", probe)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_probe_interval_finds_out_a_dependency_nobody_calls() {
    let manager = reference_with_active_probe(|| async { Err("connection refused".to_owned()) });
    let _background = manager.spawn_background().unwrap();
    // The service is at MINIMAL for another reason: nothing calls openai.
    manager.force_level(Level::Minimal, None);
    let openai = manager.breaker("openai").unwrap();
    sleep(secs(45)).await;
    assert_eq!(
        openai.state(),
        BreakerState::Closed,
        "four failed checks of five"
    );
    assert_eq!(openai.snapshot().consecutive_failures, 4);
    sleep(secs(10)).await;
    assert_eq!(
        openai.state(),
        BreakerState::Open,
        "the fifth failed check trips it"
    );
    manager.clear_override();
    assert_eq!(manager.computed_level(), Level::Minimal);
}

#[tokio::test(start_paused = true)]
async fn a_passing_check_records_nothing() {
    let checks = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&checks);
    let manager = reference_with_active_probe(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    let _background = manager.spawn_background().unwrap();
    let openai = manager.breaker("openai").unwrap();
    for _ in 0..4 {
        let _ = openai.call_sync(|| Err::<(), _>("503"));
    }
    sleep(secs(35)).await;
    assert_eq!(checks.load(Ordering::SeqCst), 3);
    // Passing checks did not reset what the real calls counted.
    assert_eq!(openai.snapshot().consecutive_failures, 4);
    let _ = openai.call_sync(|| Err::<(), _>("503"));
    assert_eq!(openai.state(), BreakerState::Open);
}
