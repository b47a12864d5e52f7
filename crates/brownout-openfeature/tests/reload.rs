//! Features added and removed by `DegradationManager::reconfigure` while the
//! provider is in use: looked up by name at every evaluation, never cached.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use brownout::{Config, DegradationManager, Level};
use brownout_openfeature::{BrownoutProvider, metadata};
use open_feature::{
    Client, EvaluationErrorCode, EvaluationReason, FlagMetadata, FlagMetadataValue, OpenFeature,
};

const WITHOUT_BETA: &str = r#"
    [dependencies.openai]
    weight = 50
    failure_threshold = 1
    [dependencies.database]
    weight = 50
    failure_threshold = 1
    [features.search]
    min_level = "DEGRADED"
    requires = ["database"]
"#;

const WITH_BETA: &str = r#"
    [dependencies.openai]
    weight = 50
    failure_threshold = 1
    [dependencies.database]
    weight = 50
    failure_threshold = 1
    [features.search]
    min_level = "MINIMAL"
    requires = ["database"]
    [features.beta]
    min_level = "OPTIMAL"
    requires = ["openai"]
"#;

async fn client(manager: &DegradationManager) -> Client {
    let mut api = OpenFeature::default();
    api.set_provider(BrownoutProvider::new(manager.clone()))
        .await;
    api.create_client()
}

fn text<'a>(meta: &'a FlagMetadata, key: &str) -> Option<&'a str> {
    match meta.values.get(key)? {
        FlagMetadataValue::String(s) => Some(s),
        other => panic!("metadata `{key}` should be a string, got {other:?}"),
    }
}

fn reload(manager: &DegradationManager, toml: &str) {
    manager
        .reconfigure(Config::from_toml_str(toml).expect("valid config"))
        .expect("valid reload");
}

#[tokio::test]
async fn features_a_reload_adds_and_removes_follow_at_the_next_evaluation() {
    let manager = DegradationManager::from_toml_str(WITHOUT_BETA).unwrap();
    let client = client(&manager).await;

    let err = client.get_bool_value("beta", None, None).await.unwrap_err();
    assert_eq!(err.code, EvaluationErrorCode::FlagNotFound);

    reload(&manager, WITH_BETA);
    let beta = client.get_bool_details("beta", None, None).await.unwrap();
    assert!(beta.value);
    assert_eq!(beta.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(
        text(&beta.flag_metadata, metadata::MIN_LEVEL),
        Some("OPTIMAL")
    );
    // A kept feature follows its new definition.
    let search = client.get_bool_details("search", None, None).await.unwrap();
    assert_eq!(
        text(&search.flag_metadata, metadata::MIN_LEVEL),
        Some("MINIMAL")
    );

    // The database fails: 50, MINIMAL. beta is held off by the level,
    // search (MINIMAL now) by its dependency.
    let _ = manager
        .breaker("database")
        .unwrap()
        .call_sync(|| Err::<(), _>("down"));
    let beta = client.get_bool_details("beta", None, None).await.unwrap();
    assert!(!beta.value);
    assert_eq!(
        text(&beta.flag_metadata, metadata::HELD_OFF_BY),
        Some("level")
    );
    let search = client.get_bool_details("search", None, None).await.unwrap();
    assert_eq!(
        text(&search.flag_metadata, metadata::DEPENDENCY),
        Some("database")
    );

    reload(&manager, WITHOUT_BETA);
    let err = client
        .get_bool_details("beta", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, EvaluationErrorCode::FlagNotFound);
    let search = client.get_bool_details("search", None, None).await.unwrap();
    assert_eq!(
        text(&search.flag_metadata, metadata::MIN_LEVEL),
        Some("DEGRADED")
    );

    // Back again, with the state brownout has now.
    reload(&manager, WITH_BETA);
    manager.breaker("database").unwrap().reset();
    assert_eq!(client.get_bool_value("beta", None, None).await, Ok(true));
}

/// While another thread reloads with and without `beta`, every evaluation
/// of `beta` answers consistently or `FLAG_NOT_FOUND`, never anything else,
/// and `search`, present in both, always resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluations_racing_reloads_answer_or_say_not_found() {
    let manager = DegradationManager::from_toml_str(WITH_BETA).unwrap();
    let client = Arc::new(client(&manager).await);
    let stop = Arc::new(AtomicBool::new(false));
    let reloads = Arc::new(AtomicU32::new(0));

    let churn = {
        let manager = manager.clone();
        let stop = Arc::clone(&stop);
        let reloads = Arc::clone(&reloads);
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                match i % 4 {
                    0 => reload(&manager, WITHOUT_BETA),
                    1 => manager.force_level(Level::Limited, None),
                    2 => reload(&manager, WITH_BETA),
                    _ => manager.clear_override(),
                }
                i = i.wrapping_add(1);
                reloads.store(i, Ordering::Relaxed);
                std::thread::yield_now();
            }
        })
    };

    let mut tasks = Vec::new();
    for feature in ["beta", "search"] {
        let client = Arc::clone(&client);
        let reloads = Arc::clone(&reloads);
        tasks.push(tokio::spawn(async move {
            let mut evaluations = 0;
            while evaluations < 200 || reloads.load(Ordering::Relaxed) < 200 {
                evaluations += 1;
                match client.get_bool_details(feature, None, None).await {
                    Ok(d) if d.value => {
                        assert_eq!(d.reason, Some(EvaluationReason::TargetingMatch));
                        assert!(!d.flag_metadata.values.contains_key(metadata::HELD_OFF));
                    }
                    Ok(d) => {
                        assert_eq!(d.reason, Some(EvaluationReason::Disabled));
                        assert!(
                            text(&d.flag_metadata, metadata::HELD_OFF).is_some(),
                            "{feature} off without a cause: {:?}",
                            d.flag_metadata
                        );
                    }
                    Err(err) => {
                        assert_eq!(feature, "beta", "search vanished: {err:?}");
                        assert_eq!(err.code, EvaluationErrorCode::FlagNotFound);
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
