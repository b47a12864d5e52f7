//! The reference deployment, loaded from `examples/brownout.toml`:
//! every worked example, the level boundaries, the feature counts per level,
//! `requires`, and gates that are already up to date when the call that moved
//! a breaker returns.

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{
    BreakerState, Config, DegradationManager, DependencyConfig, FeatureConfig, Level, LevelsConfig,
};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");

fn reference() -> (DegradationManager, ManualClock) {
    reference_with(|_| {})
}

/// The reference deployment with `edit` applied to its configuration.
fn reference_with(edit: impl FnOnce(&mut Config)) -> (DegradationManager, ManualClock) {
    let clock = ManualClock::new();
    let mut config = Config::from_toml_str(REFERENCE).expect("the reference config is valid");
    edit(&mut config);
    let manager = DegradationManager::builder()
        .config(config)
        .clock(clock.clone())
        .build()
        .expect("the reference config builds");
    (manager, clock)
}

/// Opens `dependency`'s breaker with real failing calls.
fn open(manager: &DegradationManager, dependency: &str) {
    let breaker = manager.breaker(dependency).expect("configured");
    for _ in 0..breaker.config().failure_threshold {
        let _ = breaker.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(breaker.state(), BreakerState::Open, "{dependency}");
}

/// Opens `dependency`, waits its recovery timeout, and takes (then gives back)
/// one trial, leaving the breaker half-open.
fn half_open(manager: &DegradationManager, clock: &ManualClock, dependency: &str) {
    open(manager, dependency);
    let breaker = manager.breaker(dependency).expect("configured");
    clock.advance(breaker.config().recovery_timeout);
    breaker.try_acquire().expect("the first trial").ignore();
    assert_eq!(breaker.state(), BreakerState::HalfOpen, "{dependency}");
}

fn assert_score(manager: &DegradationManager, expected: f64) {
    let score = manager.health_score();
    assert!(
        (score - expected).abs() < 1e-9,
        "score {score}, expected {expected}"
    );
}

#[test]
fn reference_config_matches_the_spec_tables() {
    let config = Config::from_toml_str(REFERENCE).unwrap();
    let rows = [
        ("openai", 50.0, 5, 30, 2),
        ("database", 30.0, 3, 20, 1),
        ("redis", 15.0, 5, 15, 2),
        ("s3", 5.0, 4, 25, 2),
    ];
    assert_eq!(config.dependencies.len(), rows.len());
    for (name, weight, threshold, recovery, half_open) in rows {
        let dep = &config.dependencies[name];
        assert_eq!(dep.weight, weight, "{name}");
        assert_eq!(dep.breaker.failure_threshold, threshold, "{name}");
        assert_eq!(
            dep.breaker.recovery_timeout,
            Duration::from_secs(recovery),
            "{name}"
        );
        assert_eq!(dep.breaker.half_open_max_calls, half_open, "{name}");
    }
    assert_eq!(config.features.len(), 16);
    for (level, count) in [
        (Level::Minimal, 4),
        (Level::Limited, 4),
        (Level::Degraded, 4),
        (Level::Optimal, 4),
    ] {
        let n = config
            .features
            .values()
            .filter(|f| f.min_level == level)
            .count();
        assert_eq!(n, count, "features with min_level {level}");
    }
    assert_eq!(config.levels, LevelsConfig::default());
}

#[test]
fn all_closed_is_optimal_with_every_feature() {
    let (manager, _) = reference();
    assert_score(&manager, 100.0);
    assert_eq!(manager.level(), Level::Optimal);
    assert_eq!(manager.enabled_features().len(), 16);
}

#[test]
fn s3_open_is_95_optimal() {
    let (manager, _) = reference();
    open(&manager, "s3");
    assert_score(&manager, 95.0);
    assert_eq!(manager.level(), Level::Optimal);
    // OPTIMAL, but the two features that need s3 are off.
    assert!(!manager.is_enabled("product_images"));
    assert!(!manager.is_enabled("bulk_import"));
    assert!(manager.is_enabled("ai_suggestions"));
    assert_eq!(manager.enabled_features().len(), 14);
}

#[test]
fn redis_open_is_85_degraded() {
    let (manager, _) = reference();
    open(&manager, "redis");
    assert_score(&manager, 85.0);
    assert_eq!(manager.level(), Level::Degraded);
    assert!(!manager.is_enabled("ai_suggestions"));
    assert!(manager.is_enabled("full_text_search"));
    // LIMITED feature, but it requires redis.
    assert!(!manager.is_enabled("cached_search"));
    assert_eq!(manager.enabled_features().len(), 11);
}

#[test]
fn database_open_is_70_degraded() {
    let (manager, _) = reference();
    open(&manager, "database");
    assert_score(&manager, 70.0);
    assert_eq!(manager.level(), Level::Degraded);
    assert_eq!(manager.enabled_features().len(), 12);
}

#[test]
fn openai_open_is_50_minimal() {
    let (manager, _) = reference();
    open(&manager, "openai");
    assert_score(&manager, 50.0);
    assert_eq!(manager.level(), Level::Minimal);
    let mut on = manager.enabled_features();
    on.sort_unstable();
    assert_eq!(
        on,
        [
            "order_status",
            "product_details",
            "stock_lookup",
            "store_locator"
        ]
    );
}

#[test]
fn openai_half_open_is_still_50_minimal() {
    // A breaker under trial earns no credit by default: the level does not
    // rise until the breaker closes.
    let (manager, clock) = reference();
    half_open(&manager, &clock, "openai");
    assert_score(&manager, 50.0);
    assert_eq!(manager.level(), Level::Minimal);
    assert_eq!(manager.enabled_features().len(), 4);
}

#[test]
fn openai_half_open_with_half_credit_is_75_degraded() {
    let (manager, clock) = reference_with(|c| c.levels.half_open_credit = 0.5);
    half_open(&manager, &clock, "openai");
    assert_score(&manager, 75.0);
    assert_eq!(manager.level(), Level::Degraded);
    assert_eq!(manager.enabled_features().len(), 12);
}

#[test]
fn openai_and_database_open_is_20_emergency() {
    let (manager, _) = reference();
    open(&manager, "openai");
    open(&manager, "database");
    assert_score(&manager, 20.0);
    assert_eq!(manager.level(), Level::Emergency);
    assert!(manager.enabled_features().is_empty());
    for feature in ["stock_lookup", "order_status", "checkout"] {
        assert!(!manager.is_enabled(feature), "{feature}");
    }
}

#[test]
fn recovery_brings_the_reference_back_to_optimal() {
    let (manager, clock) = reference();
    open(&manager, "openai");
    open(&manager, "database");
    assert_eq!(manager.level(), Level::Emergency);
    clock.advance(Duration::from_secs(30));
    for name in ["openai", "database"] {
        let breaker = manager.breaker(name).unwrap();
        for _ in 0..breaker.config().half_open_max_calls {
            breaker.call_sync(|| Ok::<_, &str>(())).unwrap();
        }
        assert_eq!(breaker.state(), BreakerState::Closed, "{name}");
    }
    assert_score(&manager, 100.0);
    assert_eq!(manager.level(), Level::Optimal);
    assert_eq!(manager.enabled_features().len(), 16);
}

#[test]
fn half_open_credit_is_configurable() {
    let mut config = Config::from_toml_str(REFERENCE).unwrap();
    config.levels.half_open_credit = 0.0;
    let clock = ManualClock::new();
    let manager = DegradationManager::builder()
        .config(config)
        .clock(clock.clone())
        .build()
        .unwrap();
    half_open(&manager, &clock, "openai");
    assert_score(&manager, 50.0);
    assert_eq!(manager.level(), Level::Minimal);
}

#[test]
fn feature_counts_per_forced_level() {
    let (manager, _) = reference();
    for (level, count) in [
        (Level::Optimal, 16),
        (Level::Degraded, 12),
        (Level::Limited, 8),
        (Level::Minimal, 4),
        (Level::Emergency, 0),
    ] {
        manager.force_level(level, None);
        assert_eq!(manager.level(), level);
        assert_eq!(manager.enabled_features().len(), count, "at {level}");
        let gated = manager
            .snapshot()
            .features
            .iter()
            .filter(|f| f.enabled)
            .count();
        assert_eq!(gated, count, "snapshot at {level}");
    }
}

#[test]
fn features_are_on_exactly_from_their_min_level() {
    let (manager, _) = reference();
    let config = Config::from_toml_str(REFERENCE).unwrap();
    for level in Level::ALL {
        manager.force_level(level, None);
        for (name, feature) in &config.features {
            assert_eq!(
                manager.is_enabled(name),
                level >= feature.min_level,
                "{name} at {level}"
            );
        }
    }
}

#[test]
fn requires_turns_a_feature_off_while_its_dependency_is_open() {
    let (manager, clock) = reference();
    manager.force_level(Level::Optimal, None);
    let ai = manager.gate("ai_suggestions").unwrap();
    let dashboard = manager.gate("live_sales_dashboard").unwrap();
    assert!(ai.is_enabled());
    open(&manager, "openai");
    // Forced to OPTIMAL, yet every feature that needs openai is off.
    assert_eq!(manager.level(), Level::Optimal);
    assert_eq!(manager.computed_level(), Level::Minimal);
    assert!(!ai.is_enabled());
    assert!(!manager.is_enabled("ai_demand_forecast"));
    assert!(!manager.is_enabled("ai_product_descriptions"));
    assert!(dashboard.is_enabled());
    assert_eq!(manager.enabled_features().len(), 13);

    // Half-open is not open: `requires` is satisfied again.
    clock.advance(Duration::from_secs(30));
    let breaker = manager.breaker("openai").unwrap();
    let trial = breaker.try_acquire().unwrap();
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert!(ai.is_enabled());
    trial.ignore();

    // Forced open counts as open.
    breaker.force_open();
    assert!(!ai.is_enabled());
    // Disabled counts as available.
    breaker.disable();
    assert!(ai.is_enabled());
    breaker.reset();
    assert!(ai.is_enabled());
}

#[test]
fn gates_and_level_are_current_when_the_tripping_call_returns() {
    let (manager, clock) = reference();
    let database = manager.breaker("database").unwrap();
    let checkout = manager.gate("checkout").unwrap();
    let search = manager.gate("full_text_search").unwrap();
    let stock = manager.gate("stock_lookup").unwrap();
    // Open openai first: MINIMAL. Then database failures, one by one.
    open(&manager, "openai");
    assert!(!checkout.is_enabled() && stock.is_enabled());
    for _ in 0..2 {
        let _ = database.call_sync(|| Err::<(), _>("timeout"));
        assert_eq!(manager.level(), Level::Minimal);
        assert!(stock.is_enabled());
    }
    // The third failure trips it; nothing else runs between the call and the checks.
    let _ = database.call_sync(|| Err::<(), _>("timeout"));
    assert_eq!(database.state(), BreakerState::Open);
    assert_score(&manager, 20.0);
    assert_eq!(manager.level(), Level::Emergency);
    assert!(!stock.is_enabled());
    assert!(!manager.snapshot().features.iter().any(|f| f.enabled));

    // The first trial moves the breaker to half-open as it is admitted.
    clock.advance(Duration::from_secs(20));
    let trial = database.try_acquire().unwrap();
    assert_eq!(database.state(), BreakerState::HalfOpen);
    assert_score(&manager, 20.0);
    assert_eq!(manager.level(), Level::Emergency);
    // Its success closes the breaker and everything is current at once.
    trial.success();
    assert_eq!(database.state(), BreakerState::Closed);
    assert_score(&manager, 50.0);
    assert_eq!(manager.level(), Level::Minimal);
    assert!(stock.is_enabled());

    // Permit outcomes trip just like calls.
    let openai = manager.breaker("openai").unwrap();
    clock.advance(Duration::from_secs(30));
    assert!(!search.is_enabled());
    let trial = openai.try_acquire().unwrap();
    // openai half-open earns nothing: 30 + 15 + 5 = 50, MINIMAL, as the trial is admitted.
    assert_eq!(openai.state(), BreakerState::HalfOpen);
    assert_score(&manager, 50.0);
    assert_eq!(manager.level(), Level::Minimal);
    assert!(!search.is_enabled() && !checkout.is_enabled());
    drop(trial);
    assert_eq!(openai.state(), BreakerState::HalfOpen);
}

#[test]
fn gates_follow_permit_outcomes_immediately() {
    let (manager, clock) = reference();
    let openai = manager.breaker("openai").unwrap();
    let ai = manager.gate("ai_suggestions").unwrap();
    let search = manager.gate("full_text_search").unwrap();
    for _ in 0..4 {
        openai.try_acquire().unwrap().failure();
        assert!(ai.is_enabled());
    }
    openai.try_acquire().unwrap().failure();
    assert!(!ai.is_enabled());
    assert!(!search.is_enabled());
    assert_eq!(manager.level(), Level::Minimal);

    clock.advance(Duration::from_secs(30));
    let first = openai.try_acquire().unwrap();
    // Half-open earns no credit: still MINIMAL while the trials run.
    assert!(!search.is_enabled());
    assert!(!ai.is_enabled());
    let second = openai.try_acquire().unwrap();
    first.success();
    assert_eq!(openai.state(), BreakerState::HalfOpen);
    assert!(!ai.is_enabled());
    second.success();
    assert_eq!(openai.state(), BreakerState::Closed);
    assert!(ai.is_enabled());
    assert_eq!(manager.level(), Level::Optimal);

    // A failing trial re-opens and gates drop at once.
    for _ in 0..5 {
        openai.try_acquire().unwrap().failure();
    }
    clock.advance(Duration::from_secs(30));
    let trial = openai.try_acquire().unwrap();
    assert_eq!(manager.level(), Level::Minimal);
    trial.failure();
    assert_eq!(openai.state(), BreakerState::Open);
    assert!(!search.is_enabled());
    assert_eq!(manager.level(), Level::Minimal);
}

/// Two dependencies: `up` (always closed) and `down` (opened on demand), with
/// weights chosen so that `down` open gives the wanted score.
fn two_weights(up: f64, down: f64) -> DegradationManager {
    let clock = ManualClock::new();
    let mut dep = DependencyConfig::new(down);
    dep.breaker.failure_threshold = 1;
    DegradationManager::builder()
        .clock(clock)
        .dependency("up", DependencyConfig::new(up))
        .dependency("down", dep)
        .feature("optimal_only", FeatureConfig::new(Level::Optimal))
        .build()
        .unwrap()
}

fn level_with_down_open(up: f64, down: f64) -> (f64, Level) {
    let manager = two_weights(up, down);
    let breaker = manager.breaker("down").unwrap();
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), BreakerState::Open);
    (manager.health_score(), manager.level())
}

#[test]
fn a_score_at_a_threshold_belongs_to_the_higher_level() {
    for (up, down, level) in [
        (90.0, 10.0, Level::Optimal),
        (70.0, 30.0, Level::Degraded),
        (60.0, 40.0, Level::Limited),
        (40.0, 60.0, Level::Minimal),
    ] {
        let (score, got) = level_with_down_open(up, down);
        assert_eq!(score, up, "exact score");
        assert_eq!(got, level, "score {score}");
    }
}

#[test]
fn a_score_just_below_a_threshold_is_the_lower_level() {
    for (up, down, level) in [
        (8_999.0, 1_001.0, Level::Degraded),
        (6_999.0, 3_001.0, Level::Limited),
        (5_999.0, 4_001.0, Level::Minimal),
        (3_999.0, 6_001.0, Level::Emergency),
    ] {
        let (score, got) = level_with_down_open(up, down);
        assert!((score - up / 100.0).abs() < 1e-9);
        assert_eq!(got, level, "score {score}");
    }
}

#[test]
fn rounding_never_pushes_a_boundary_score_down() {
    // Weights whose exact ratio is a threshold but whose f64 score lands a
    // hair below it (…99999999999999).
    for (up, down, threshold, level) in [
        (0.27, 0.03, 90.0, Level::Optimal),
        (2.03, 0.87, 70.0, Level::Degraded),
        (0.33, 0.22, 60.0, Level::Limited),
        (0.34, 0.51, 40.0, Level::Minimal),
    ] {
        let (score, got) = level_with_down_open(up, down);
        assert!((score - threshold).abs() < 1e-9, "score {score:?}");
        assert_eq!(got, level, "score {score:?}");
    }
}

#[test]
fn custom_thresholds_move_the_boundaries() {
    let clock = ManualClock::new();
    let mut down = DependencyConfig::new(25.0);
    down.breaker.failure_threshold = 1;
    let manager = DegradationManager::builder()
        .clock(clock)
        .levels(LevelsConfig {
            optimal: 99.0,
            degraded: 80.0,
            limited: 75.0,
            minimal: 10.0,
            ..LevelsConfig::default()
        })
        .dependency("up", DependencyConfig::new(75.0))
        .dependency("down", down)
        .build()
        .unwrap();
    let _ = manager
        .breaker("down")
        .unwrap()
        .call_sync(|| Err::<(), _>("x"));
    assert_score(&manager, 75.0);
    assert_eq!(manager.level(), Level::Limited);
}

#[test]
fn unknown_feature_names_fail_closed() {
    let (manager, _) = reference();
    assert!(!manager.is_enabled("ai_sugestions"));
    assert!(!manager.is_enabled("ai_sugestions"));
    let err = manager.gate("ai_sugestions").unwrap_err();
    assert_eq!(err.name(), "ai_sugestions");
    assert!(manager.gate("ai_suggestions").is_ok());
}
