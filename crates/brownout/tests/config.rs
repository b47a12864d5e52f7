//! Configuration: every invalid value is a `ConfigError` naming the full field
//! path and the reason; valid configs round-trip through TOML and JSON; the
//! documented defaults hold.

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{
    BreakerConfig, Config, ConfigError, DegradationManager, DependencyConfig, FeatureConfig, Level,
    LevelsConfig, Policy,
};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");

fn err(toml: &str) -> ConfigError {
    match Config::from_toml_str(toml) {
        Ok(config) => panic!("accepted an invalid config: {config:?}\n{toml}"),
        Err(e) => e,
    }
}

/// Asserts the exact path and that the reason mentions `reason`.
#[track_caller]
fn assert_err(toml: &str, path: &str, reason: &str) {
    let e = err(toml);
    assert_eq!(e.path(), path, "path of {e}");
    assert!(
        e.reason().contains(reason),
        "reason of {e:?} should contain {reason:?}"
    );
    assert_eq!(e.to_string(), format!("{}: {}", e.path(), e.reason()));
    // The manager constructor refuses it the same way.
    assert_eq!(DegradationManager::from_toml_str(toml).unwrap_err(), e);
}

/// A valid openai dependency with `extra` lines added to its table.
fn openai(extra: &str) -> String {
    format!("[dependencies.openai]\nweight = 50\n{extra}\n")
}

// ---------------------------------------------------------------- weights

#[test]
fn zero_weight() {
    assert_err(
        &openai("").replace("50", "0"),
        "dependencies.openai.weight",
        "must be > 0",
    );
    assert_eq!(
        err("[dependencies.openai]\nweight = 0\n").to_string(),
        "dependencies.openai.weight: must be > 0"
    );
}

#[test]
fn negative_weight() {
    assert_err(
        "[dependencies.openai]\nweight = -5\n",
        "dependencies.openai.weight",
        "must be > 0",
    );
    assert_err(
        "[dependencies.openai]\nweight = -0.0\n",
        "dependencies.openai.weight",
        "must be > 0",
    );
}

#[test]
fn non_finite_weights() {
    for value in ["nan", "inf", "+inf", "-inf", "-nan"] {
        assert_err(
            &format!("[dependencies.db]\nweight = {value}\n"),
            "dependencies.db.weight",
            "must be > 0",
        );
    }
}

#[test]
fn missing_weight() {
    assert_err(
        "[dependencies.openai]\nfailure_threshold = 5\n",
        "dependencies.openai.weight",
        "missing",
    );
}

// ---------------------------------------------------------------- rates

#[test]
fn rates_outside_zero_one() {
    for (key, value) in [
        ("failure_rate_threshold", "1.5"),
        ("failure_rate_threshold", "0"),
        ("failure_rate_threshold", "-0.5"),
        ("failure_rate_threshold", "50"),
        ("failure_rate_threshold", "nan"),
        ("slow_call_rate_threshold", "1.01"),
        ("slow_call_rate_threshold", "0.0"),
        ("slow_call_rate_threshold", "inf"),
    ] {
        assert_err(
            &openai(&format!("{key} = {value}")),
            &format!("dependencies.openai.{key}"),
            "must be a fraction in (0, 1]",
        );
    }
    // The bounds: 1 is allowed, a tiny positive rate too.
    Config::from_toml_str(&openai(
        "failure_rate_threshold = 1\nslow_call_rate_threshold = 1e-9",
    ))
    .unwrap();
}

#[test]
fn half_open_credit_outside_zero_one() {
    assert_err(
        "[levels]\nhalf_open_credit = 1.5\n",
        "levels.half_open_credit",
        "[0, 1]",
    );
    assert_err(
        "[levels]\nhalf_open_credit = -0.1\n",
        "levels.half_open_credit",
        "[0, 1]",
    );
}

#[test]
fn backoff_and_jitter_bounds() {
    assert_err(
        &openai("backoff_multiplier = 0.5"),
        "dependencies.openai.backoff_multiplier",
        ">= 1",
    );
    assert_err(
        &openai("backoff_multiplier = inf"),
        "dependencies.openai.backoff_multiplier",
        "finite",
    );
    assert_err(
        &openai("jitter = 1.0"),
        "dependencies.openai.jitter",
        "[0, 1)",
    );
    assert_err(
        &openai("jitter = -0.1"),
        "dependencies.openai.jitter",
        "[0, 1)",
    );
    assert_err(
        &openai("recovery_timeout = \"30s\"\nmax_recovery_timeout = \"10s\""),
        "dependencies.openai.max_recovery_timeout",
        "recovery_timeout",
    );
}

// ---------------------------------------------------------------- thresholds

#[test]
fn thresholds_out_of_order() {
    assert_err(
        "[levels]\ndegraded = 95\n",
        "levels.degraded",
        "strictly decreasing",
    );
    assert_err(
        "[levels]\nlimited = 70\n",
        "levels.limited",
        "strictly decreasing",
    );
    assert_err(
        "[levels]\noptimal = 90\ndegraded = 70\nlimited = 60\nminimal = 65\n",
        "levels.minimal",
        "strictly decreasing",
    );
}

#[test]
fn thresholds_out_of_range() {
    assert_err("[levels]\noptimal = 101\n", "levels.optimal", "(0, 100]");
    assert_err("[levels]\nminimal = 0\n", "levels.minimal", "");
    assert_err("[levels]\nminimal = -10\n", "levels.minimal", "");
    assert_err("[levels]\noptimal = nan\n", "levels.optimal", "(0, 100]");
    assert_err(
        "[levels]\nhysteresis = 100\n",
        "levels.hysteresis",
        "[0, 100)",
    );
    assert_err(
        "[levels]\nhysteresis = -1\n",
        "levels.hysteresis",
        "[0, 100)",
    );
    // 100 is the top of the range.
    Config::from_toml_str("[levels]\noptimal = 100\n").unwrap();
}

// ---------------------------------------------------------------- counts and durations

#[test]
fn zero_counts() {
    for key in [
        "failure_threshold",
        "window",
        "minimum_calls",
        "half_open_max_calls",
    ] {
        assert_err(
            &openai(&format!("{key} = 0")),
            &format!("dependencies.openai.{key}"),
            "must be > 0",
        );
    }
    assert_err(
        &openai(&format!("window = {}", brownout::MAX_WINDOW + 1)),
        "dependencies.openai.window",
        "must be <=",
    );
    assert_err(
        &openai(&format!(
            "failure_threshold = {}",
            brownout::MAX_FAILURE_THRESHOLD + 1
        )),
        "dependencies.openai.failure_threshold",
        "must be <=",
    );
}

#[test]
fn zero_durations() {
    for key in [
        "recovery_timeout",
        "window_duration",
        "slow_call_duration",
        "half_open_timeout",
    ] {
        assert_err(
            &openai(&format!("{key} = \"0s\"")),
            &format!("dependencies.openai.{key}"),
            "must be > 0",
        );
    }
    assert_err(
        &openai("recovery_timeout = \"0ms\"\nmax_recovery_timeout = \"0ms\""),
        "dependencies.openai.recovery_timeout",
        "must be > 0",
    );
}

#[test]
fn invalid_duration_strings() {
    let e = err(&openai("recovery_timeout = \"soon\""));
    assert_eq!(
        e.to_string(),
        "dependencies.openai.recovery_timeout: invalid duration \"soon\""
    );
    assert_err(
        &openai("half_open_timeout = \"5 parsecs\""),
        "dependencies.openai.half_open_timeout",
        "invalid duration \"5 parsecs\"",
    );
    assert_err(
        "[levels]\nupgrade_hold = \"later\"\n",
        "levels.upgrade_hold",
        "invalid duration \"later\"",
    );
    assert_err(
        &openai("window_duration = \"-5s\""),
        "dependencies.openai.window_duration",
        "invalid duration",
    );
}

// ---------------------------------------------------------------- unknown keys

#[test]
fn unknown_keys_at_every_level() {
    assert_err("[level]\noptimal = 90\n", "level", "unknown key");
    assert_err("verbose = true\n", "verbose", "unknown key");
    assert_err("[levels]\noptimum = 90\n", "levels.optimum", "unknown key");
    assert_err(
        &openai("failure_treshold = 5"),
        "dependencies.openai.failure_treshold",
        "unknown key",
    );
    assert_err(
        "[features.search]\nmin_levels = \"OPTIMAL\"\n",
        "features.search.min_levels",
        "unknown key",
    );
    // A dependency named like the unknown key, and an unknown sub-table.
    assert_err(
        "[dependencies.foo]\nweight = 1\nfoo = 2\n",
        "dependencies.foo.foo",
        "unknown key",
    );
    assert_err(
        "[dependencies.a]\nweight = 1\n[dependencies.a.retry]\nmax = 1\n",
        "dependencies.a.retry",
        "unknown key",
    );
}

// ---------------------------------------------------------------- wrong types

#[test]
fn wrong_types() {
    assert_err(
        "[dependencies.openai]\nweight = \"heavy\"\n",
        "dependencies.openai.weight",
        "invalid type",
    );
    assert_err(
        &openai("failure_threshold = \"five\""),
        "dependencies.openai.failure_threshold",
        "invalid type",
    );
    assert_err(
        &openai("failure_threshold = -1"),
        "dependencies.openai.failure_threshold",
        "",
    );
    assert_err(
        &openai("recovery_timeout = 30"),
        "dependencies.openai.recovery_timeout",
        "invalid type",
    );
    assert_err(
        &openai("policy = \"sometimes\""),
        "dependencies.openai.policy",
        "unknown variant",
    );
    assert_err(
        &openai("max_level_when_open = \"HIGH\""),
        "dependencies.openai.max_level_when_open",
        "unknown level",
    );
    assert_err(
        "[levels]\noptimal = \"ninety\"\n",
        "levels.optimal",
        "invalid type",
    );
    assert_err(
        "[features.search]\nmin_level = \"HIGH\"\n",
        "features.search.min_level",
        "unknown level",
    );
    assert_err(
        &format!("{}[features.search]\nrequires = \"openai\"\n", openai("")),
        "features.search.requires",
        "invalid type",
    );
    assert_err("dependencies = 5\n", "dependencies", "invalid type");
}

// ---------------------------------------------------------------- references and names

#[test]
fn a_feature_requiring_an_unknown_dependency() {
    let e = err("[features.search]\nrequires = [\"x\"]\n");
    assert_eq!(e.path(), "features.search.requires");
    assert_eq!(
        e.to_string(),
        "features.search.requires: unknown dependency \"x\""
    );
    // Known ones are fine; one unknown among them is not.
    let toml = format!(
        "{}[features.search]\nrequires = [\"openai\", \"redis\"]\n",
        openai("")
    );
    assert_eq!(
        err(&toml).to_string(),
        "features.search.requires: unknown dependency \"redis\""
    );
}

#[test]
fn duplicate_names_through_the_builder() {
    let e = DegradationManager::builder()
        .dependency("openai", DependencyConfig::new(50.0))
        .dependency("openai", DependencyConfig::new(10.0))
        .build()
        .unwrap_err();
    assert_eq!(e.path(), "dependencies.openai");
    assert!(e.reason().contains("duplicate"), "{e}");

    let e = DegradationManager::builder()
        .feature("search", FeatureConfig::new(Level::Limited))
        .feature("search", FeatureConfig::new(Level::Optimal))
        .build()
        .unwrap_err();
    assert_eq!(e.path(), "features.search");
    assert!(e.reason().contains("duplicate"), "{e}");

    // A name from the config given again in code.
    let config = Config::from_toml_str(REFERENCE).unwrap();
    let e = DegradationManager::builder()
        .config(config)
        .dependency("redis", DependencyConfig::new(1.0))
        .build()
        .unwrap_err();
    assert_eq!(e.path(), "dependencies.redis");
}

#[test]
fn duplicate_names_in_toml_are_syntax_errors() {
    let e = err("[dependencies.openai]\nweight = 1\n[dependencies.openai]\nweight = 2\n");
    assert!(e.reason().starts_with("invalid TOML"), "{e}");
    let e = err("[dependencies.openai]\nweight = 1\nweight = 2\n");
    assert!(e.reason().starts_with("invalid TOML"), "{e}");
}

#[test]
fn builder_inputs_are_validated_like_toml() {
    let mut dep = DependencyConfig::new(50.0);
    dep.breaker.failure_rate_threshold = 2.0;
    let e = DegradationManager::builder()
        .dependency("openai", dep)
        .build()
        .unwrap_err();
    assert_eq!(e.path(), "dependencies.openai.failure_rate_threshold");

    let e = DegradationManager::builder()
        .dependency("db", DependencyConfig::new(f64::NAN))
        .build()
        .unwrap_err();
    assert_eq!(e.to_string(), "dependencies.db.weight: must be > 0");

    let e = DegradationManager::builder()
        .feature("search", FeatureConfig::new(Level::Limited).requires("db"))
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "features.search.requires: unknown dependency \"db\""
    );

    let e = DegradationManager::builder()
        .levels(LevelsConfig {
            limited: 80.0,
            ..LevelsConfig::default()
        })
        .build()
        .unwrap_err();
    assert_eq!(e.path(), "levels.limited");

    let e = DegradationManager::builder()
        .dependency(" ", DependencyConfig::new(1.0))
        .build()
        .unwrap_err();
    assert!(e.path().starts_with("dependencies"), "{e}");
    assert!(e.reason().contains("empty"), "{e}");

    let e = BreakerConfig {
        max_recovery_timeout: Some(Duration::from_secs(1)),
        ..BreakerConfig::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(e.path(), "max_recovery_timeout");
}

// ---------------------------------------------------------------- syntax

#[test]
fn toml_syntax_errors() {
    for bad in [
        "[dependencies.openai\nweight = 50\n",
        "[dependencies.openai]\nweight = \n",
        "[dependencies.openai]\nweight 50\n",
        "[features.search]\nrequires = [\"a\",\n",
        "= 5\n",
    ] {
        let e = err(bad);
        assert_eq!(e.path(), "", "{e}");
        assert!(e.reason().starts_with("invalid TOML: "), "{e}");
        assert!(e.reason().len() > "invalid TOML: ".len(), "{e}");
        assert!(!e.reason().contains('\n'), "one line: {e:?}");
    }
}

#[test]
fn the_first_bad_field_is_named_and_nothing_panics() {
    // Garbage of every kind: errors, never panics.
    for input in [
        "",
        "\u{0}",
        "[[dependencies]]\nweight = 1\n",
        "[dependencies]\nopenai = 5\n",
        "[features]\nsearch = \"OPTIMAL\"\n",
        "[levels]\nupgrade_hold = 5\n",
        "[dependencies.\"\"]\nweight = 1\n",
        "[dependencies.a]\nweight = 1e400\n",
        "[dependencies.a]\nweight = 1\nrecovery_timeout = \"99999999999999999999s\"\n",
    ] {
        let _ = Config::from_toml_str(input);
    }
    assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
}

// ---------------------------------------------------------------- round trips

#[test]
fn reference_round_trips_through_toml() {
    let config = Config::from_toml_str(REFERENCE).unwrap();
    let text = toml::to_string(&config).unwrap();
    let again = Config::from_toml_str(&text).unwrap();
    assert_eq!(again, config, "{text}");
    assert!(text.contains("recovery_timeout = \"30s\""), "{text}");
}

#[test]
fn reference_round_trips_through_json() {
    let config = Config::from_toml_str(REFERENCE).unwrap();
    let json = serde_json::to_string(&config).unwrap();
    let again: Config = serde_json::from_str(&json).unwrap();
    assert_eq!(again, config);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["dependencies"]["openai"]["weight"], 50.0);
    assert_eq!(value["dependencies"]["openai"]["recovery_timeout"], "30s");
    assert_eq!(
        value["dependencies"]["openai"]["policy"],
        "consecutive_failures"
    );
    assert_eq!(value["features"]["ai_suggestions"]["min_level"], "OPTIMAL");
    assert_eq!(value["levels"]["upgrade_hold"], "0s");
}

#[test]
fn every_option_round_trips() {
    let toml = r#"
        [levels]
        optimal = 95.5
        degraded = 75
        limited = 50
        minimal = 25
        hysteresis = 2.5
        upgrade_hold = "1m 30s"
        half_open_credit = 0.25

        [dependencies.search]
        weight = 12.5
        policy = "failure_rate"
        failure_threshold = 7
        window = 50
        window_duration = "60s"
        minimum_calls = 20
        failure_rate_threshold = 0.4
        slow_call_duration = "250ms"
        slow_call_rate_threshold = 0.8
        recovery_timeout = "10s"
        backoff_multiplier = 2.0
        max_recovery_timeout = "5m"
        jitter = 0.1
        half_open_max_calls = 3
        half_open_timeout = "45s"
        max_level_when_open = "limited"

        [features.instant_search]
        min_level = "degraded"
        requires = ["search"]
    "#;
    let config = Config::from_toml_str(toml).unwrap();
    let dep = &config.dependencies["search"];
    assert_eq!(dep.weight, 12.5);
    assert_eq!(dep.max_level_when_open, Some(Level::Limited));
    let b = &dep.breaker;
    assert_eq!(b.policy, Policy::FailureRate);
    assert_eq!(b.window_duration, Some(Duration::from_secs(60)));
    assert_eq!(b.slow_call_duration, Some(Duration::from_millis(250)));
    assert_eq!(b.max_recovery_timeout, Some(Duration::from_secs(300)));
    assert_eq!(b.half_open_timeout, Some(Duration::from_secs(45)));
    assert_eq!(config.levels.upgrade_hold, Duration::from_secs(90));
    assert_eq!(config.features["instant_search"].min_level, Level::Degraded);

    let text = toml::to_string(&config).unwrap();
    assert_eq!(Config::from_toml_str(&text).unwrap(), config, "{text}");
    let json = serde_json::to_string_pretty(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<Config>(&json).unwrap(),
        config,
        "{json}"
    );
    assert!(
        json.contains("\"max_level_when_open\": \"LIMITED\""),
        "{json}"
    );
}

#[test]
fn a_round_tripped_config_builds_the_same_manager() {
    let config = Config::from_toml_str(REFERENCE).unwrap();
    let text = toml::to_string(&config).unwrap();
    let clock = ManualClock::new();
    let a = DegradationManager::builder()
        .config(config)
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = DegradationManager::builder()
        .config(Config::from_toml_str(&text).unwrap())
        .clock(clock)
        .build()
        .unwrap();
    assert_eq!(a.snapshot(), b.snapshot());
}

// ---------------------------------------------------------------- defaults

#[test]
fn documented_defaults() {
    let b = BreakerConfig::default();
    assert_eq!(b.policy, Policy::ConsecutiveFailures);
    assert_eq!(b.failure_threshold, 5);
    assert_eq!(b.window, 100);
    assert_eq!(b.window_duration, None);
    assert_eq!(b.minimum_calls, 10);
    assert_eq!(b.failure_rate_threshold, 0.5);
    assert_eq!(b.slow_call_duration, None);
    assert_eq!(b.slow_call_rate_threshold, 1.0);
    assert_eq!(b.recovery_timeout, Duration::from_secs(30));
    assert_eq!(b.backoff_multiplier, 1.0);
    assert_eq!(b.max_recovery_timeout, None);
    assert_eq!(b.jitter, 0.0);
    assert_eq!(b.half_open_max_calls, 1);
    assert_eq!(b.half_open_timeout, None);
    assert!(b.validate().is_ok());

    let l = LevelsConfig::default();
    assert_eq!(
        (l.optimal, l.degraded, l.limited, l.minimal),
        (90.0, 70.0, 60.0, 40.0)
    );
    assert_eq!(l.hysteresis, 0.0);
    assert_eq!(l.upgrade_hold, Duration::ZERO);
    assert_eq!(l.half_open_credit, 0.0);
    for (level, threshold) in [
        (Level::Optimal, 90.0),
        (Level::Degraded, 70.0),
        (Level::Limited, 60.0),
        (Level::Minimal, 40.0),
        (Level::Emergency, 0.0),
    ] {
        assert_eq!(l.threshold(level), threshold);
    }

    let f = FeatureConfig::default();
    assert_eq!(f.min_level, Level::Minimal);
    assert!(f.requires.is_empty());
}

#[test]
fn only_weight_is_required() {
    let config = Config::from_toml_str("[dependencies.x]\nweight = 1\n[features.y]\n").unwrap();
    assert_eq!(config.levels, LevelsConfig::default());
    assert_eq!(config.dependencies["x"].breaker, BreakerConfig::default());
    assert_eq!(config.dependencies["x"].max_level_when_open, None);
    assert_eq!(config.features["y"], FeatureConfig::default());
    let manager = DegradationManager::from_config(config).unwrap();
    assert!(manager.is_enabled("y"));
}

#[test]
fn levels_parse_in_any_case() {
    for spelling in ["optimal", "Optimal", "OPTIMAL", "oPtImAl"] {
        let config =
            Config::from_toml_str(&format!("[features.f]\nmin_level = \"{spelling}\"\n")).unwrap();
        assert_eq!(config.features["f"].min_level, Level::Optimal);
    }
}

#[test]
fn durations_accept_human_forms() {
    for (text, expected) in [
        ("250ms", Duration::from_millis(250)),
        ("30s", Duration::from_secs(30)),
        ("2m", Duration::from_secs(120)),
        ("1h 30m", Duration::from_secs(5400)),
        (" 5s ", Duration::from_secs(5)),
    ] {
        let config = Config::from_toml_str(&openai(&format!("recovery_timeout = \"{text}\"")))
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(
            config.dependencies["openai"].breaker.recovery_timeout,
            expected
        );
    }
}

#[test]
fn a_fleet_table_belongs_to_the_fleet_crate() {
    let with_fleet = format!(
        "{}\n[fleet]\nurl = \"redis://127.0.0.1/\"\nquorum = 0.5\n",
        openai("")
    );
    let config = Config::from_toml_str(&with_fleet).unwrap();
    assert_eq!(config, Config::from_toml_str(&openai("")).unwrap());
    // Any other unknown table is still an error.
    assert_err(
        &format!("{}\n[flet]\nurl = \"x\"\n", openai("")),
        "flet",
        "unknown key",
    );
}
