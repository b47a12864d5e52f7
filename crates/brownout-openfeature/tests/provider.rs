//! The provider through the OpenFeature API: each test has its own
//! `OpenFeature` instance (not the global singleton), so tests run in
//! parallel without sharing a provider.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{DegradationManager, FeatureConfig, Level};
use brownout_openfeature::{BrownoutProvider, LEVEL_FLAG, SCORE_FLAG, metadata};
use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::{
    Client, EvaluationContext, EvaluationErrorCode, EvaluationReason, FlagMetadata,
    FlagMetadataValue, OpenFeature, StructValue,
};

/// openai 50, database 30, redis 20; each breaker opens on its first failure.
const CONFIG: &str = r#"
    [dependencies.openai]
    weight = 50
    failure_threshold = 1
    recovery_timeout = "30s"
    [dependencies.database]
    weight = 30
    failure_threshold = 1
    recovery_timeout = "20s"
    [dependencies.redis]
    weight = 20
    failure_threshold = 1
    recovery_timeout = "10s"

    [features.ai_suggestions]
    min_level = "OPTIMAL"
    requires = ["openai"]
    [features.search]
    min_level = "DEGRADED"
    requires = ["database"]
    [features.read_only]
    min_level = "MINIMAL"
    [features.status_page]
    min_level = "EMERGENCY"
"#;

fn manager() -> DegradationManager {
    DegradationManager::from_toml_str(CONFIG).expect("valid config")
}

/// A client of a fresh OpenFeature API whose default provider answers from `manager`.
async fn client(manager: &DegradationManager) -> Client {
    let mut api = OpenFeature::default();
    api.set_provider(BrownoutProvider::new(manager.clone()))
        .await;
    api.create_client()
}

fn fail(manager: &DegradationManager, dependency: &str) {
    let breaker = manager.breaker(dependency).expect("configured");
    let _ = breaker.call_sync(|| Err::<(), _>("down"));
    assert!(breaker.state().is_open(), "{dependency} should be open");
}

fn text<'a>(meta: &'a FlagMetadata, key: &str) -> Option<&'a str> {
    match meta.values.get(key)? {
        FlagMetadataValue::String(s) => Some(s),
        other => panic!("metadata `{key}` should be a string, got {other:?}"),
    }
}

fn float(meta: &FlagMetadata, key: &str) -> Option<f64> {
    match meta.values.get(key)? {
        FlagMetadataValue::Float(x) => Some(*x),
        other => panic!("metadata `{key}` should be a float, got {other:?}"),
    }
}

fn int(meta: &FlagMetadata, key: &str) -> Option<i64> {
    match meta.values.get(key)? {
        FlagMetadataValue::Int(n) => Some(*n),
        other => panic!("metadata `{key}` should be an int, got {other:?}"),
    }
}

async fn level(client: &Client) -> open_feature::EvaluationDetails<String> {
    client
        .get_string_details(LEVEL_FLAG, None, None)
        .await
        .expect("the level resolves")
}

async fn is_on(client: &Client, feature: &str) -> bool {
    client
        .get_bool_value(feature, None, None)
        .await
        .unwrap_or_else(|e| panic!("`{feature}` should resolve: {e:?}"))
}

#[tokio::test]
async fn provider_is_named_brownout_and_ready() {
    let provider = BrownoutProvider::new(manager());
    assert_eq!(provider.metadata().name, "brownout");
    assert_eq!(provider.status(), ProviderStatus::Ready);

    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    assert_eq!(api.provider_metadata().await.name, "brownout");
}

#[tokio::test]
async fn a_feature_that_is_on_matches_with_level_score_and_min_level() {
    let manager = manager();
    let client = client(&manager).await;

    let details = client
        .get_bool_details("ai_suggestions", None, None)
        .await
        .unwrap();
    assert_eq!(details.flag_key, "ai_suggestions");
    assert!(details.value);
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(details.variant.as_deref(), Some("on"));
    let meta = &details.flag_metadata;
    assert_eq!(text(meta, metadata::LEVEL), Some("OPTIMAL"));
    assert_eq!(float(meta, metadata::SCORE), Some(100.0));
    assert_eq!(text(meta, metadata::MIN_LEVEL), Some("OPTIMAL"));
    for absent in [
        metadata::HELD_OFF_BY,
        metadata::HELD_OFF,
        metadata::DEPENDENCY,
        metadata::DEPENDENCY_STATE,
        metadata::RETRY_AFTER_MS,
    ] {
        assert!(
            !meta.values.contains_key(absent),
            "{absent} on an on feature"
        );
    }
    assert_eq!(meta.values.len(), 3, "{meta:?}");
}

#[tokio::test]
async fn a_forced_level_turns_features_off_and_clearing_it_turns_them_back_on() {
    let manager = manager();
    let client = client(&manager).await;
    for feature in ["ai_suggestions", "search", "read_only", "status_page"] {
        assert!(is_on(&client, feature).await, "{feature} at OPTIMAL");
    }

    manager.force_level(Level::Minimal, None);
    assert!(!is_on(&client, "ai_suggestions").await);
    assert!(!is_on(&client, "search").await);
    assert!(is_on(&client, "read_only").await);
    assert!(is_on(&client, "status_page").await);

    let details = client.get_bool_details("search", None, None).await.unwrap();
    assert!(!details.value);
    assert_eq!(details.reason, Some(EvaluationReason::Disabled));
    assert_eq!(details.variant.as_deref(), Some("off"));
    let meta = &details.flag_metadata;
    assert_eq!(text(meta, metadata::HELD_OFF_BY), Some("level"));
    assert_eq!(text(meta, metadata::LEVEL), Some("MINIMAL"));
    assert_eq!(text(meta, metadata::MIN_LEVEL), Some("DEGRADED"));
    // The override does not touch the breakers: the score stays 100.
    assert_eq!(float(meta, metadata::SCORE), Some(100.0));
    assert_eq!(
        text(meta, metadata::HELD_OFF),
        Some("the level is MINIMAL and the feature needs DEGRADED")
    );
    assert_eq!(text(meta, metadata::DEPENDENCY), None);
    assert_eq!(text(meta, metadata::DEPENDENCY_STATE), None);
    // No breaker is open: no estimate of when the level comes back.
    assert_eq!(int(meta, metadata::RETRY_AFTER_MS), None);

    manager.force_level(Level::Emergency, None);
    assert!(!is_on(&client, "read_only").await);
    assert!(is_on(&client, "status_page").await);

    manager.clear_override();
    for feature in ["ai_suggestions", "search", "read_only", "status_page"] {
        let details = client.get_bool_details(feature, None, None).await.unwrap();
        assert!(details.value, "{feature} after the override");
        assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
        assert_eq!(
            text(&details.flag_metadata, metadata::LEVEL),
            Some("OPTIMAL")
        );
    }
}

#[tokio::test]
async fn an_open_dependency_holds_its_features_off_by_name() {
    let manager = manager();
    let client = client(&manager).await;

    fail(&manager, "openai"); // score 50: MINIMAL
    let details = client
        .get_bool_details("ai_suggestions", None, None)
        .await
        .unwrap();
    assert!(!details.value);
    assert_eq!(details.reason, Some(EvaluationReason::Disabled));
    assert_eq!(details.variant.as_deref(), Some("off"));
    let meta = &details.flag_metadata;
    assert_eq!(text(meta, metadata::HELD_OFF_BY), Some("dependency"));
    assert_eq!(text(meta, metadata::DEPENDENCY), Some("openai"));
    assert_eq!(text(meta, metadata::DEPENDENCY_STATE), Some("open"));
    assert_eq!(
        text(meta, metadata::HELD_OFF),
        Some("dependency `openai` is open")
    );
    assert_eq!(text(meta, metadata::LEVEL), Some("MINIMAL"));
    assert_eq!(float(meta, metadata::SCORE), Some(50.0));
    assert_eq!(text(meta, metadata::MIN_LEVEL), Some("OPTIMAL"));
    let retry = int(meta, metadata::RETRY_AFTER_MS).expect("an open breaker has a retry estimate");
    assert!(retry > 0 && retry <= 30_000, "retry_after_ms {retry}");

    // search does not need openai, but MINIMAL is below its DEGRADED.
    let search = client.get_bool_details("search", None, None).await.unwrap();
    assert!(!search.value);
    assert_eq!(search.reason, Some(EvaluationReason::Disabled));
    assert_eq!(
        text(&search.flag_metadata, metadata::HELD_OFF_BY),
        Some("level")
    );
    assert_eq!(
        text(&search.flag_metadata, metadata::LEVEL),
        Some("MINIMAL")
    );
    // The level comes back no sooner than openai's next trial.
    let retry = int(&search.flag_metadata, metadata::RETRY_AFTER_MS).expect("estimate");
    assert!(retry > 0 && retry <= 30_000, "retry_after_ms {retry}");
    assert!(is_on(&client, "read_only").await);

    // A forced-open breaker is named as such.
    manager.breaker("openai").unwrap().force_open();
    let details = client
        .get_bool_details("ai_suggestions", None, None)
        .await
        .unwrap();
    assert_eq!(
        text(&details.flag_metadata, metadata::DEPENDENCY_STATE),
        Some("forced_open")
    );

    manager.breaker("openai").unwrap().reset();
    assert!(is_on(&client, "ai_suggestions").await);
    assert!(is_on(&client, "search").await);
}

#[tokio::test]
async fn the_level_flag_follows_the_level() {
    let manager = manager();
    let client = client(&manager).await;

    let details = level(&client).await;
    assert_eq!(details.value, "OPTIMAL");
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(details.variant.as_deref(), Some("OPTIMAL"));
    assert_eq!(
        text(&details.flag_metadata, metadata::LEVEL),
        Some("OPTIMAL")
    );
    assert_eq!(float(&details.flag_metadata, metadata::SCORE), Some(100.0));

    fail(&manager, "redis"); // 80
    assert_eq!(level(&client).await.value, "DEGRADED");
    fail(&manager, "database"); // 50
    let details = level(&client).await;
    assert_eq!(details.value, "MINIMAL");
    assert_eq!(float(&details.flag_metadata, metadata::SCORE), Some(50.0));
    fail(&manager, "openai"); // 0
    assert_eq!(level(&client).await.value, "EMERGENCY");

    manager.force_level(Level::Limited, None);
    assert_eq!(level(&client).await.value, "LIMITED");
    manager.clear_override();
    assert_eq!(level(&client).await.value, "EMERGENCY");
    for breaker in manager.breakers() {
        breaker.reset();
    }
    assert_eq!(level(&client).await.value, "OPTIMAL");
}

#[tokio::test]
async fn the_score_flag_follows_the_breakers() {
    let manager = manager();
    let client = client(&manager).await;

    let details = client
        .get_float_details(SCORE_FLAG, None, None)
        .await
        .unwrap();
    assert_eq!(details.value, 100.0);
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(details.variant, None);
    assert_eq!(
        text(&details.flag_metadata, metadata::LEVEL),
        Some("OPTIMAL")
    );
    assert_eq!(float(&details.flag_metadata, metadata::SCORE), Some(100.0));

    fail(&manager, "redis");
    assert_eq!(
        client
            .get_float_value(SCORE_FLAG, None, None)
            .await
            .unwrap(),
        80.0
    );
    fail(&manager, "database");
    let details = client
        .get_float_details(SCORE_FLAG, None, None)
        .await
        .unwrap();
    assert_eq!(details.value, 50.0);
    assert_eq!(
        text(&details.flag_metadata, metadata::LEVEL),
        Some("MINIMAL")
    );

    // An override moves the level, not the score.
    manager.force_level(Level::Optimal, None);
    let details = client
        .get_float_details(SCORE_FLAG, None, None)
        .await
        .unwrap();
    assert_eq!(details.value, 50.0);
    assert_eq!(
        text(&details.flag_metadata, metadata::LEVEL),
        Some("OPTIMAL")
    );
}

#[tokio::test]
async fn an_unknown_flag_is_flag_not_found_for_every_type() {
    let manager = manager();
    let client = client(&manager).await;

    for key in ["no_such_feature", "", "brownout.levels", "AI_SUGGESTIONS"] {
        let err = client.get_bool_value(key, None, None).await.unwrap_err();
        assert_eq!(err.code, EvaluationErrorCode::FlagNotFound, "bool {key:?}");
        assert!(err.message.as_deref().unwrap().contains(key), "{err:?}");
        let err = client.get_bool_details(key, None, None).await.unwrap_err();
        assert_eq!(
            err.code,
            EvaluationErrorCode::FlagNotFound,
            "details {key:?}"
        );
        let err = client.get_int_value(key, None, None).await.unwrap_err();
        assert_eq!(err.code, EvaluationErrorCode::FlagNotFound, "int {key:?}");
        let err = client.get_float_value(key, None, None).await.unwrap_err();
        assert_eq!(err.code, EvaluationErrorCode::FlagNotFound, "float {key:?}");
        let err = client.get_string_value(key, None, None).await.unwrap_err();
        assert_eq!(
            err.code,
            EvaluationErrorCode::FlagNotFound,
            "string {key:?}"
        );
        let err = client
            .get_struct_value::<StructValue>(key, None, None)
            .await
            .unwrap_err();
        assert_eq!(
            err.code,
            EvaluationErrorCode::FlagNotFound,
            "struct {key:?}"
        );
    }
}

#[tokio::test]
async fn a_known_flag_asked_as_another_type_is_type_mismatch() {
    let manager = manager();
    let client = client(&manager).await;
    let mismatch = |result: Result<(), open_feature::EvaluationError>, what: &str| {
        let err = result.expect_err(what);
        assert_eq!(
            err.code,
            EvaluationErrorCode::TypeMismatch,
            "{what}: {err:?}"
        );
        assert!(err.message.is_some(), "{what}");
    };

    // A feature is a bool flag.
    let f = "ai_suggestions";
    mismatch(
        client.get_int_value(f, None, None).await.map(drop),
        "int of a feature",
    );
    mismatch(
        client.get_float_value(f, None, None).await.map(drop),
        "float of a feature",
    );
    mismatch(
        client.get_string_value(f, None, None).await.map(drop),
        "string of a feature",
    );
    mismatch(
        client
            .get_struct_value::<StructValue>(f, None, None)
            .await
            .map(drop),
        "struct of a feature",
    );
    // Off or on, the type is the same.
    manager.force_level(Level::Emergency, None);
    mismatch(
        client.get_int_details(f, None, None).await.map(drop),
        "int of an off feature",
    );
    manager.clear_override();

    // The level is a string flag.
    mismatch(
        client
            .get_bool_value(LEVEL_FLAG, None, None)
            .await
            .map(drop),
        "bool of the level",
    );
    mismatch(
        client
            .get_bool_details(LEVEL_FLAG, None, None)
            .await
            .map(drop),
        "bool details of the level",
    );
    mismatch(
        client.get_int_value(LEVEL_FLAG, None, None).await.map(drop),
        "int of the level",
    );
    mismatch(
        client
            .get_float_value(LEVEL_FLAG, None, None)
            .await
            .map(drop),
        "float of the level",
    );
    mismatch(
        client
            .get_struct_value::<StructValue>(LEVEL_FLAG, None, None)
            .await
            .map(drop),
        "struct of the level",
    );

    // The score is a float flag, never rounded to an int.
    mismatch(
        client
            .get_bool_value(SCORE_FLAG, None, None)
            .await
            .map(drop),
        "bool of the score",
    );
    mismatch(
        client.get_int_value(SCORE_FLAG, None, None).await.map(drop),
        "int of the score",
    );
    mismatch(
        client
            .get_string_value(SCORE_FLAG, None, None)
            .await
            .map(drop),
        "string of the score",
    );
    mismatch(
        client
            .get_struct_value::<StructValue>(SCORE_FLAG, None, None)
            .await
            .map(drop),
        "struct of the score",
    );

    let err = client.get_int_value(f, None, None).await.unwrap_err();
    let message = err.message.unwrap();
    assert!(
        message.contains("ai_suggestions") && message.contains("bool") && message.contains("int"),
        "{message}"
    );
}

#[tokio::test]
async fn the_evaluation_context_does_not_change_the_answer() {
    let manager = manager();
    let client = client(&manager).await;
    let context = EvaluationContext::default()
        .with_targeting_key("user-42")
        .with_custom_field("plan", "enterprise");

    assert!(
        client
            .get_bool_value("ai_suggestions", Some(&context), None)
            .await
            .unwrap()
    );
    fail(&manager, "openai");
    assert!(
        !client
            .get_bool_value("ai_suggestions", Some(&context), None)
            .await
            .unwrap()
    );
    assert_eq!(
        client
            .get_string_value(LEVEL_FLAG, Some(&context), None)
            .await
            .unwrap(),
        "MINIMAL"
    );
}

#[tokio::test]
async fn an_expired_override_applies_at_the_next_evaluation() {
    let clock = ManualClock::new();
    let manager = DegradationManager::builder()
        .clock(clock.clone())
        .feature("recommendations", FeatureConfig::new(Level::Optimal))
        .build()
        .unwrap();
    let client = client(&manager).await;

    manager.force_level(Level::Limited, Some(Duration::from_secs(10)));
    assert!(!is_on(&client, "recommendations").await);
    clock.advance(Duration::from_secs(11));
    // No refresh() and no background task: the evaluation applies the expiry itself.
    let details = client
        .get_bool_details("recommendations", None, None)
        .await
        .unwrap();
    assert!(details.value);
    assert_eq!(
        text(&details.flag_metadata, metadata::LEVEL),
        Some("OPTIMAL")
    );
}

#[tokio::test]
async fn the_reserved_keys_win_over_a_feature_of_the_same_name() {
    let manager = DegradationManager::builder()
        .feature(LEVEL_FLAG, FeatureConfig::new(Level::Minimal))
        .build()
        .unwrap();
    let client = client(&manager).await;

    let err = client
        .get_bool_value(LEVEL_FLAG, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, EvaluationErrorCode::TypeMismatch);
    assert_eq!(
        client
            .get_string_value(LEVEL_FLAG, None, None)
            .await
            .unwrap(),
        "OPTIMAL"
    );
}

#[tokio::test]
async fn a_provider_built_before_a_change_answers_the_state_after_it() {
    // Nothing is cached: the provider, its clones and the manager's clones
    // all see the same live state.
    let manager = manager();
    let provider = BrownoutProvider::from(manager.clone());
    let mut api = OpenFeature::default();
    api.set_provider(provider.clone()).await;
    let client = api.create_client();
    assert!(is_on(&client, "search").await);

    fail(&manager, "database");
    assert!(!is_on(&client, "search").await);
    let direct = provider
        .resolve_bool_value("search", &EvaluationContext::default())
        .await
        .unwrap();
    assert!(!direct.value);
    assert_eq!(direct.reason, Some(EvaluationReason::Disabled));
}

/// While another thread moves the level and the breakers, every answer is
/// internally consistent: the value, the reason, the variant and the
/// metadata describe the same decision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stay_consistent_while_the_level_changes() {
    let manager = manager();
    let client = Arc::new(client(&manager).await);
    let stop = Arc::new(AtomicBool::new(false));
    let changes = Arc::new(AtomicU32::new(0));

    let churn = {
        let manager = manager.clone();
        let stop = Arc::clone(&stop);
        let changes = Arc::clone(&changes);
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                match i % 6 {
                    0 => manager.force_level(Level::Minimal, None),
                    1 => manager.clear_override(),
                    2 => fail(&manager, "openai"),
                    3 => fail(&manager, "database"),
                    4 => manager.breaker("openai").unwrap().reset(),
                    _ => manager.breaker("database").unwrap().reset(),
                }
                i = i.wrapping_add(1);
                changes.store(i, Ordering::Relaxed);
                std::thread::yield_now();
            }
        })
    };

    let mut tasks = Vec::new();
    for feature in ["ai_suggestions", "search", "read_only", "status_page"] {
        let client = Arc::clone(&client);
        let changes = Arc::clone(&changes);
        tasks.push(tokio::spawn(async move {
            // Evaluate from before the churn starts until well after, at
            // least 200 times.
            let mut evaluations = 0;
            while evaluations < 200 || changes.load(Ordering::Relaxed) < 300 {
                evaluations += 1;
                let d = client.get_bool_details(feature, None, None).await.unwrap();
                let meta = &d.flag_metadata;
                let level: Level = text(meta, metadata::LEVEL).unwrap().parse().unwrap();
                let score = float(meta, metadata::SCORE).unwrap();
                assert!((0.0..=100.0).contains(&score));
                if d.value {
                    assert_eq!(d.reason, Some(EvaluationReason::TargetingMatch));
                    assert_eq!(d.variant.as_deref(), Some("on"));
                    assert!(!meta.values.contains_key(metadata::HELD_OFF_BY));
                } else {
                    assert_eq!(d.reason, Some(EvaluationReason::Disabled));
                    assert_eq!(d.variant.as_deref(), Some("off"));
                    match text(meta, metadata::HELD_OFF_BY) {
                        Some("level") => {
                            let min: Level =
                                text(meta, metadata::MIN_LEVEL).unwrap().parse().unwrap();
                            assert!(level < min, "{feature} held off at {level} needing {min}");
                            assert!(!meta.values.contains_key(metadata::DEPENDENCY));
                        }
                        Some("dependency") => {
                            let dep = text(meta, metadata::DEPENDENCY).unwrap();
                            assert!(["openai", "database"].contains(&dep), "{dep}");
                        }
                        other => panic!("{feature} off without a cause: {other:?}"),
                    }
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
}
