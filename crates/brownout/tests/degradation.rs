//! Score to level: caps, hysteresis, upgrade hold, manual overrides and the
//! snapshot, all on a `ManualClock`.

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{
    BreakerState, Config, DegradationManager, DependencyConfig, FeatureConfig, Level, LevelsConfig,
};

const SECOND: Duration = Duration::from_secs(1);
const NS: Duration = Duration::from_nanos(1);

fn dependency(weight: f64) -> DependencyConfig {
    let mut dep = DependencyConfig::new(weight);
    dep.breaker.failure_threshold = 1;
    dep.breaker.recovery_timeout = 10 * SECOND;
    dep
}

/// `big` 50, `small` 7, `rest` 43; one feature per level.
fn manager(levels: LevelsConfig) -> (DegradationManager, ManualClock) {
    let clock = ManualClock::new();
    let mut builder = DegradationManager::builder()
        .clock(clock.clone())
        .levels(levels)
        .dependency("big", dependency(50.0))
        .dependency("small", dependency(7.0))
        .dependency("rest", dependency(43.0));
    for level in Level::ALL {
        builder = builder.feature(level.as_str().to_lowercase(), FeatureConfig::new(level));
    }
    (builder.build().unwrap(), clock)
}

fn open(m: &DegradationManager, name: &str) {
    let b = m.breaker(name).unwrap();
    let _ = b.call_sync(|| Err::<(), _>("down"));
    assert_eq!(b.state(), BreakerState::Open);
}

/// Closes an open breaker: waits its open time and succeeds a trial.
fn close(m: &DegradationManager, clock: &ManualClock, name: &str) {
    let b = m.breaker(name).unwrap();
    if let Err(r) = b.try_acquire() {
        clock.advance(r.retry_after());
    }
    b.call_sync(|| Ok::<_, &str>(())).unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
}

// ---------------------------------------------------------------- caps

#[test]
fn an_open_dependency_caps_the_level() {
    let config = Config::from_toml_str(
        r#"
        [dependencies.database]
        weight = 30
        failure_threshold = 1
        recovery_timeout = "20s"
        max_level_when_open = "MINIMAL"

        [dependencies.openai]
        weight = 70

        [features.search]
        min_level = "LIMITED"
        "#,
    )
    .unwrap();
    let clock = ManualClock::new();
    let m = DegradationManager::builder()
        .config(config)
        .clock(clock.clone())
        .build()
        .unwrap();
    let db = m.breaker("database").unwrap();
    let _ = db.call_sync(|| Err::<(), _>("down"));
    // 70 is DEGRADED by score, but the database caps it at MINIMAL.
    assert_eq!(m.health_score(), 70.0);
    assert_eq!(m.level(), Level::Minimal);
    assert_eq!(m.computed_level(), Level::Minimal);
    assert!(!m.is_enabled("search"));
    let snap = m.snapshot();
    let dep = snap
        .dependencies
        .iter()
        .find(|d| d.breaker.name == "database")
        .unwrap();
    assert_eq!(dep.max_level_when_open, Some(Level::Minimal));

    // Half-open is not open: the cap lifts and the score decides (a trial
    // earns no credit by default, so 70: DEGRADED).
    clock.advance(20 * SECOND);
    let trial = db.try_acquire().unwrap();
    assert_eq!(m.health_score(), 70.0);
    assert_eq!(m.level(), Level::Degraded);
    trial.success();
    assert_eq!(m.level(), Level::Optimal);

    // Forced open caps too; reset lifts it.
    db.force_open();
    assert_eq!(m.level(), Level::Minimal);
    db.reset();
    assert_eq!(m.level(), Level::Optimal);
}

#[test]
fn a_cap_never_raises_the_level() {
    let clock = ManualClock::new();
    let mut capped = dependency(60.0);
    capped.max_level_when_open = Some(Level::Limited);
    let m = DegradationManager::builder()
        .clock(clock)
        .dependency("capped", capped)
        .dependency("other", DependencyConfig::new(40.0))
        .build()
        .unwrap();
    open(&m, "capped");
    // 40 is MINIMAL; the LIMITED cap must not lift it.
    assert_eq!(m.level(), Level::Minimal);
}

#[test]
fn the_lowest_cap_wins() {
    let clock = ManualClock::new();
    let mut a = dependency(1.0);
    a.max_level_when_open = Some(Level::Limited);
    let mut b = dependency(1.0);
    b.max_level_when_open = Some(Level::Minimal);
    let m = DegradationManager::builder()
        .clock(clock.clone())
        .dependency("a", a)
        .dependency("b", b)
        .dependency("c", DependencyConfig::new(98.0))
        .build()
        .unwrap();
    open(&m, "a");
    assert_eq!(m.level(), Level::Limited);
    open(&m, "b");
    assert_eq!(m.level(), Level::Minimal);
    close(&m, &clock, "b");
    assert_eq!(m.level(), Level::Limited);
    close(&m, &clock, "a");
    assert_eq!(m.level(), Level::Optimal);
}

// ---------------------------------------------------------------- hysteresis

#[test]
fn hysteresis_delays_upgrades_only() {
    let (m, clock) = manager(LevelsConfig {
        hysteresis: 5.0,
        ..LevelsConfig::default()
    });
    open(&m, "small");
    // Going down to 93 from 100: still OPTIMAL (downgrades ignore hysteresis).
    assert_eq!(m.health_score(), 93.0);
    assert_eq!(m.level(), Level::Optimal);
    open(&m, "big");
    assert_eq!(m.level(), Level::Minimal); // 43
    close(&m, &clock, "big");
    // Coming back up to 93: OPTIMAL needs 95, DEGRADED (75) is reached.
    assert_eq!(m.health_score(), 93.0);
    assert_eq!(m.level(), Level::Degraded);
    assert!(!m.is_enabled("optimal"));
    assert!(m.is_enabled("degraded"));
    close(&m, &clock, "small");
    assert_eq!(m.level(), Level::Optimal);
    assert!(m.is_enabled("optimal"));
}

#[test]
fn hysteresis_at_exactly_threshold_plus_margin_upgrades() {
    let clock = ManualClock::new();
    let m = DegradationManager::builder()
        .clock(clock.clone())
        .levels(LevelsConfig {
            hysteresis: 5.0,
            ..LevelsConfig::default()
        })
        .dependency("a", dependency(95.0))
        .dependency("b", dependency(5.0))
        .dependency("c", dependency(100.0))
        .build()
        .unwrap();
    open(&m, "c");
    assert_eq!(m.level(), Level::Minimal); // 50
    open(&m, "b");
    close(&m, &clock, "c");
    // 195 / 200 = 97.5: above 95.
    assert_eq!(m.level(), Level::Optimal);
    open(&m, "c");
    open(&m, "a");
    assert_eq!(m.level(), Level::Emergency);
    // a back, b and c open: 47.5 — MINIMAL needs 45: reached.
    close(&m, &clock, "a");
    assert_eq!(m.health_score(), 47.5);
    assert_eq!(m.level(), Level::Minimal);
}

// ---------------------------------------------------------------- upgrade hold

#[test]
fn upgrade_hold_waits_and_level_reevaluates_when_due() {
    let (m, clock) = manager(LevelsConfig {
        upgrade_hold: 30 * SECOND,
        ..LevelsConfig::default()
    });
    let optimal = m.gate("optimal").unwrap();
    open(&m, "big");
    // Downgrades are immediate.
    assert_eq!(m.level(), Level::Minimal);
    assert!(!optimal.is_enabled());
    close(&m, &clock, "big");
    assert_eq!(m.health_score(), 100.0);
    assert_eq!(m.level(), Level::Minimal);
    clock.advance(30 * SECOND - NS);
    assert_eq!(m.level(), Level::Minimal);
    assert!(!m.is_enabled("optimal"));
    clock.advance(NS);
    // level() notices the hold has run out, without any breaker moving.
    assert_eq!(m.level(), Level::Optimal);
    assert!(optimal.is_enabled());
    assert_eq!(m.enabled_features().len(), 5);
}

#[test]
fn every_reader_reevaluates_a_due_hold() {
    type Reader = fn(&DegradationManager) -> bool;
    let readers: [(&str, Reader); 5] = [
        ("level", |m| m.level() == Level::Optimal),
        ("computed_level", |m| m.computed_level() == Level::Optimal),
        ("is_enabled", |m| m.is_enabled("optimal")),
        ("enabled_features", |m| m.enabled_features().len() == 5),
        ("snapshot", |m| m.snapshot().level == Level::Optimal),
    ];
    for (name, read) in readers {
        let (m, clock) = manager(LevelsConfig {
            upgrade_hold: 10 * SECOND,
            ..LevelsConfig::default()
        });
        open(&m, "big");
        close(&m, &clock, "big");
        clock.advance(10 * SECOND);
        assert!(read(&m), "{name} did not re-evaluate the due hold");
    }
    // A gate alone is one load; refresh() publishes the due change.
    let (m, clock) = manager(LevelsConfig {
        upgrade_hold: 10 * SECOND,
        ..LevelsConfig::default()
    });
    let gate = m.gate("optimal").unwrap();
    open(&m, "big");
    close(&m, &clock, "big");
    clock.advance(10 * SECOND);
    m.refresh();
    assert!(gate.is_enabled());
}

#[test]
fn a_dip_restarts_the_upgrade_hold() {
    let (m, clock) = manager(LevelsConfig {
        upgrade_hold: 10 * SECOND,
        ..LevelsConfig::default()
    });
    open(&m, "big");
    close(&m, &clock, "big"); // hold starts: 100, MINIMAL
    clock.advance(8 * SECOND);
    open(&m, "big"); // dip
    assert_eq!(m.level(), Level::Minimal);
    close(&m, &clock, "big"); // another 10 s of open time pass here
    clock.advance(9 * SECOND);
    assert_eq!(m.level(), Level::Minimal);
    clock.advance(SECOND);
    assert_eq!(m.level(), Level::Optimal);
}

#[test]
fn upgrade_hold_and_hysteresis_combine() {
    let (m, clock) = manager(LevelsConfig {
        upgrade_hold: 5 * SECOND,
        hysteresis: 5.0,
        ..LevelsConfig::default()
    });
    open(&m, "small");
    open(&m, "big");
    close(&m, &clock, "big"); // 93: DEGRADED eligible after the hold
    assert_eq!(m.level(), Level::Minimal);
    clock.advance(5 * SECOND);
    assert_eq!(m.level(), Level::Degraded);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(m.level(), Level::Degraded); // never OPTIMAL at 93
}

// ---------------------------------------------------------------- overrides

#[test]
fn force_level_without_ttl_holds_until_cleared() {
    let (m, clock) = manager(LevelsConfig::default());
    m.force_level(Level::Limited, None);
    assert_eq!(m.level(), Level::Limited);
    assert_eq!(m.override_level(), Some(Level::Limited));
    assert_eq!(m.computed_level(), Level::Optimal);
    assert!(!m.is_enabled("degraded") && m.is_enabled("limited"));
    clock.advance(Duration::from_secs(365 * 24 * 3600));
    assert_eq!(m.level(), Level::Limited);
    // The computed level is still tracked while forced.
    open(&m, "big");
    assert_eq!(m.level(), Level::Limited);
    assert_eq!(m.computed_level(), Level::Minimal);
    let snap = m.snapshot();
    assert_eq!(
        (snap.level, snap.computed_level),
        (Level::Limited, Level::Minimal)
    );
    m.clear_override();
    assert_eq!(m.override_level(), None);
    assert_eq!(m.level(), Level::Minimal);
    assert!(!m.is_enabled("limited"));
}

#[test]
fn force_level_can_raise_the_level() {
    let (m, _) = manager(LevelsConfig::default());
    open(&m, "big");
    open(&m, "rest");
    assert_eq!(m.level(), Level::Emergency);
    m.force_level(Level::Optimal, None);
    assert_eq!(m.level(), Level::Optimal);
    assert_eq!(m.enabled_features().len(), 5);
    assert_eq!(m.computed_level(), Level::Emergency);
}

#[test]
fn force_level_with_ttl_expires_exactly() {
    let (m, clock) = manager(LevelsConfig::default());
    let gate = m.gate("degraded").unwrap();
    m.force_level(Level::Minimal, Some(60 * SECOND));
    assert!(!gate.is_enabled());
    clock.advance(60 * SECOND - NS);
    assert_eq!(m.level(), Level::Minimal);
    assert_eq!(m.snapshot().override_level.unwrap().expires_in, Some(NS));
    clock.advance(NS);
    assert_eq!(m.level(), Level::Optimal);
    assert_eq!(m.override_level(), None);
    assert!(gate.is_enabled());
    assert!(m.snapshot().override_level.is_none());
}

#[test]
fn a_new_override_replaces_the_old_one() {
    let (m, clock) = manager(LevelsConfig::default());
    m.force_level(Level::Minimal, Some(10 * SECOND));
    m.force_level(Level::Degraded, None);
    clock.advance(20 * SECOND);
    assert_eq!(m.level(), Level::Degraded);
    m.force_level(Level::Emergency, Some(SECOND));
    assert_eq!(m.enabled_features(), ["emergency"]);
    clock.advance(SECOND);
    assert_eq!(m.level(), Level::Optimal);
}

#[test]
fn an_expiring_override_reveals_a_level_computed_meanwhile() {
    let (m, clock) = manager(LevelsConfig::default());
    m.force_level(Level::Optimal, Some(5 * SECOND));
    open(&m, "big");
    assert_eq!(m.level(), Level::Optimal);
    clock.advance(5 * SECOND);
    assert_eq!(m.level(), Level::Minimal);
    assert!(!m.is_enabled("limited"));
}

#[test]
fn clones_share_the_override() {
    let (m, _) = manager(LevelsConfig::default());
    let other = m.clone();
    other.force_level(Level::Limited, None);
    assert_eq!(m.level(), Level::Limited);
    m.clear_override();
    assert_eq!(other.level(), Level::Optimal);
}

// ---------------------------------------------------------------- snapshot

#[test]
fn snapshot_contents() {
    let (m, clock) = manager(LevelsConfig::default());
    open(&m, "big");
    clock.advance(4 * SECOND);
    m.force_level(Level::Limited, Some(30 * SECOND));
    let snap = m.snapshot();
    assert_eq!(snap.score, 50.0);
    assert_eq!(snap.level, Level::Limited);
    assert_eq!(snap.computed_level, Level::Minimal);
    let o = snap.override_level.unwrap();
    assert_eq!((o.level, o.expires_in), (Level::Limited, Some(30 * SECOND)));
    let names: Vec<_> = snap
        .dependencies
        .iter()
        .map(|d| d.breaker.name.as_str())
        .collect();
    assert_eq!(names, ["big", "rest", "small"]);
    let big = &snap.dependencies[0];
    assert_eq!(big.weight, 50.0);
    assert_eq!(big.breaker.state, BreakerState::Open);
    assert_eq!(big.breaker.retry_after, Some(6 * SECOND));
    let t = big.breaker.last_transition.unwrap();
    assert_eq!(
        (t.from, t.to, t.ago),
        (BreakerState::Closed, BreakerState::Open, 4 * SECOND)
    );
    assert_eq!(snap.dependencies[1].breaker.state, BreakerState::Closed);
    assert_eq!(snap.dependencies[1].breaker.retry_after, None);
    let features: Vec<_> = snap
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.min_level, f.enabled))
        .collect();
    assert_eq!(
        features,
        [
            ("degraded", Level::Degraded, false),
            ("emergency", Level::Emergency, true),
            ("limited", Level::Limited, true),
            ("minimal", Level::Minimal, true),
            ("optimal", Level::Optimal, false),
        ]
    );
}

#[test]
fn snapshot_json_shape() {
    let (m, clock) = manager(LevelsConfig::default());
    open(&m, "big");
    clock.advance(SECOND);
    let json = serde_json::to_value(m.snapshot()).unwrap();
    assert_eq!(json["score"], 50.0);
    assert_eq!(json["level"], "MINIMAL");
    assert_eq!(json["computed_level"], "MINIMAL");
    assert!(json["override"].is_null());
    let deps = json["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 3);
    let big = &deps[0];
    assert_eq!(big["name"], "big");
    assert_eq!(big["weight"], 50.0);
    assert_eq!(big["state"], "open");
    assert_eq!(big["consecutive_failures"], 0);
    assert_eq!(big["trials_in_flight"], 0);
    assert_eq!(big["retry_after_ms"], 9000);
    assert!(big["max_level_when_open"].is_null());
    assert_eq!(big["last_transition"]["from"], "closed");
    assert_eq!(big["last_transition"]["to"], "open");
    assert_eq!(big["last_transition"]["ago_ms"], 1000);
    let rest = &deps[1];
    assert_eq!(rest["state"], "closed");
    assert!(rest["retry_after_ms"].is_null());
    assert!(rest.get("last_transition").is_none());
    let features = json["features"].as_array().unwrap();
    assert_eq!(features.len(), 5);
    assert_eq!(features[0]["name"], "degraded");
    assert_eq!(features[0]["min_level"], "DEGRADED");
    assert_eq!(features[0]["enabled"], false);

    m.force_level(Level::Degraded, Some(Duration::from_millis(1500)));
    let json = serde_json::to_value(m.snapshot()).unwrap();
    assert_eq!(json["level"], "DEGRADED");
    assert_eq!(json["computed_level"], "MINIMAL");
    assert_eq!(json["override"]["level"], "DEGRADED");
    assert_eq!(json["override"]["expires_in_ms"], 1500);
    m.force_level(Level::Degraded, None);
    let json = serde_json::to_value(m.snapshot()).unwrap();
    assert!(json["override"]["expires_in_ms"].is_null());
}

#[test]
fn snapshot_shows_half_open_trials() {
    let (m, clock) = manager(LevelsConfig::default());
    open(&m, "big");
    clock.advance(10 * SECOND);
    let big = m.breaker("big").unwrap();
    let trial = big.try_acquire().unwrap();
    let snap = m.snapshot();
    assert_eq!(snap.score, 50.0);
    assert_eq!(snap.dependencies[0].breaker.state, BreakerState::HalfOpen);
    assert_eq!(snap.dependencies[0].breaker.trials_in_flight, 1);
    trial.ignore();
    assert_eq!(m.snapshot().dependencies[0].breaker.trials_in_flight, 0);
}

#[test]
fn a_manager_with_no_dependencies_is_optimal() {
    let m = DegradationManager::builder()
        .feature("f", FeatureConfig::new(Level::Optimal))
        .build()
        .unwrap();
    assert_eq!(m.health_score(), 100.0);
    assert_eq!(m.level(), Level::Optimal);
    assert!(m.is_enabled("f"));
    assert_eq!(m.breaker("nope").unwrap_err().name(), "nope");
    assert_eq!(m.breakers().len(), 0);
}

#[test]
fn the_manager_is_send_sync_and_clones_share_state() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<DegradationManager>();
    assert_send_sync::<brownout::FeatureGate>();
    let (m, _) = manager(LevelsConfig::default());
    let clone = m.clone();
    std::thread::spawn(move || open(&clone, "big"))
        .join()
        .unwrap();
    assert_eq!(m.level(), Level::Minimal);
}
