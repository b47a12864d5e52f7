//! The provider installed in OpenFeature's global singleton, as a service
//! does it. The only test in this binary, so nothing else shares the
//! singleton.

use brownout::{DegradationManager, Level};
use brownout_openfeature::{BrownoutProvider, LEVEL_FLAG, SCORE_FLAG, metadata};
use open_feature::{EvaluationErrorCode, EvaluationReason, FlagMetadataValue, OpenFeature};

#[tokio::test]
async fn the_global_api_answers_from_the_manager() {
    let manager = DegradationManager::from_toml_str(
        r#"
        [dependencies.openai]
        weight = 60
        failure_threshold = 2
        [dependencies.database]
        weight = 40
        [features.ai_suggestions]
        min_level = "OPTIMAL"
        requires = ["openai"]
        [features.export]
        min_level = "LIMITED"
        "#,
    )
    .unwrap();

    OpenFeature::singleton_mut()
        .await
        .set_provider(BrownoutProvider::new(manager.clone()))
        .await;
    let api = OpenFeature::singleton().await;
    assert_eq!(api.provider_metadata().await.name, "brownout");
    let client = api.create_client();
    drop(api);

    assert_eq!(
        client.get_bool_value("ai_suggestions", None, None).await,
        Ok(true)
    );
    assert_eq!(client.get_bool_value("export", None, None).await, Ok(true));

    // Two failures open openai's breaker: score 40, MINIMAL.
    let openai = manager.breaker("openai").unwrap();
    for _ in 0..2 {
        let _ = openai.call_sync(|| Err::<(), _>("down"));
    }
    let ai = client
        .get_bool_details("ai_suggestions", None, None)
        .await
        .unwrap();
    assert!(!ai.value);
    assert_eq!(ai.reason, Some(EvaluationReason::Disabled));
    assert_eq!(
        ai.flag_metadata.values.get(metadata::DEPENDENCY),
        Some(&FlagMetadataValue::String("openai".to_owned()))
    );
    let export = client.get_bool_details("export", None, None).await.unwrap();
    assert!(!export.value);
    assert_eq!(
        export.flag_metadata.values.get(metadata::HELD_OFF_BY),
        Some(&FlagMetadataValue::String("level".to_owned()))
    );
    assert_eq!(
        client
            .get_string_value(LEVEL_FLAG, None, None)
            .await
            .as_deref(),
        Ok("MINIMAL")
    );
    assert_eq!(
        client.get_float_value(SCORE_FLAG, None, None).await,
        Ok(40.0)
    );

    // An override lifts the level (not the breaker): export comes back, the
    // AI feature stays held off by its dependency.
    manager.force_level(Level::Optimal, None);
    assert_eq!(client.get_bool_value("export", None, None).await, Ok(true));
    assert_eq!(
        client.get_bool_value("ai_suggestions", None, None).await,
        Ok(false)
    );

    let err = client.get_bool_value("nope", None, None).await.unwrap_err();
    assert_eq!(err.code, EvaluationErrorCode::FlagNotFound);
    let err = client
        .get_int_value("export", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, EvaluationErrorCode::TypeMismatch);
}
