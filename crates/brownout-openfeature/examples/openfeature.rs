//! brownout's features read through OpenFeature, through a simulated outage.
//!
//! ```sh
//! cargo run -p brownout-openfeature --example openfeature
//! ```
//!
//! A service with four dependencies loses its cache, then its LLM API; an
//! operator forces a level; everything comes back. At each step the
//! example evaluates every flag through an OpenFeature client, as a
//! service would, and prints the value, the reason and what holds each
//! feature off.

use brownout::{DegradationManager, Level};
use brownout_openfeature::{BrownoutProvider, LEVEL_FLAG, SCORE_FLAG, metadata};
use open_feature::{Client, FlagMetadata, FlagMetadataValue, OpenFeature};

const CONFIG: &str = r#"
    [dependencies.openai]
    weight = 50
    failure_threshold = 3
    recovery_timeout = "30s"
    [dependencies.database]
    weight = 30
    failure_threshold = 3
    [dependencies.redis]
    weight = 15
    failure_threshold = 3
    recovery_timeout = "10s"
    [dependencies.s3]
    weight = 5

    [features.order_status]
    min_level = "MINIMAL"
    [features.checkout]
    min_level = "LIMITED"
    [features.cached_search]
    min_level = "LIMITED"
    requires = ["redis"]
    [features.full_text_search]
    min_level = "DEGRADED"
    [features.ai_suggestions]
    min_level = "OPTIMAL"
    requires = ["openai"]
"#;

const FEATURES: [&str; 5] = [
    "order_status",
    "checkout",
    "cached_search",
    "full_text_search",
    "ai_suggestions",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manager = DegradationManager::from_toml_str(CONFIG)?;
    // Listeners are how to hear about changes: OpenFeature's Rust SDK has
    // no provider events.
    manager.on_level_change(|change| {
        println!(
            "  (level change: {} -> {}, score {:.0}: {})",
            change.from, change.to, change.score, change.cause
        );
    });

    OpenFeature::singleton_mut()
        .await
        .set_provider(BrownoutProvider::new(manager.clone()))
        .await;
    let api = OpenFeature::singleton().await;
    println!("provider: {}", api.provider_metadata().await.name);
    let client = api.create_client();
    drop(api);

    show(&client, "all dependencies healthy").await;

    fail(&manager, "redis", 3);
    show(&client, "redis down (3 failures)").await;

    fail(&manager, "openai", 3);
    show(&client, "openai down too").await;

    manager.force_level(Level::Limited, None);
    show(&client, "an operator forces LIMITED").await;

    manager.clear_override();
    for breaker in manager.breakers() {
        breaker.reset();
    }
    show(&client, "override cleared, dependencies back").await;

    println!("\nerrors are errors, never a silent default:");
    for (what, result) in [
        (
            "get_bool_value(\"no_such_flag\")",
            client
                .get_bool_value("no_such_flag", None, None)
                .await
                .map(|v| v.to_string()),
        ),
        (
            "get_int_value(\"checkout\")",
            client
                .get_int_value("checkout", None, None)
                .await
                .map(|v| v.to_string()),
        ),
        (
            "get_bool_value(\"brownout.level\")",
            client
                .get_bool_value(LEVEL_FLAG, None, None)
                .await
                .map(|v| v.to_string()),
        ),
    ] {
        match result {
            Ok(value) => println!("  {what}: unexpectedly {value}"),
            Err(err) => println!(
                "  {what}: {} ({})",
                err.code,
                err.message.unwrap_or_default()
            ),
        }
    }
    Ok(())
}

fn fail(manager: &DegradationManager, dependency: &str, times: usize) {
    let breaker = manager.breaker(dependency).expect("configured");
    for _ in 0..times {
        let _ = breaker.call_sync(|| Err::<(), _>("connection refused"));
    }
}

async fn show(client: &Client, step: &str) {
    let level = client
        .get_string_value(LEVEL_FLAG, None, None)
        .await
        .unwrap_or_else(|e| format!("error: {}", e.code));
    let score = client
        .get_float_value(SCORE_FLAG, None, None)
        .await
        .map_or_else(|e| format!("error: {}", e.code), |s| format!("{s:.0}"));
    println!("\n== {step}: {LEVEL_FLAG} = {level}, {SCORE_FLAG} = {score}");
    for feature in FEATURES {
        match client.get_bool_details(feature, None, None).await {
            Ok(details) => {
                let reason = details.reason.map(|r| r.to_string()).unwrap_or_default();
                let why = held_off(&details.flag_metadata);
                let line = format!("  {feature:<18} {:<5} {reason:<15} {why}", details.value);
                println!("{}", line.trim_end());
            }
            Err(err) => println!("  {feature:<18} error {}", err.code),
        }
    }
}

/// "held off by …" from the flag metadata, empty for a feature that is on.
fn held_off(meta: &FlagMetadata) -> String {
    let get = |key: &str| match meta.values.get(key) {
        Some(FlagMetadataValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let retry = match meta.values.get(metadata::RETRY_AFTER_MS) {
        Some(FlagMetadataValue::Int(ms)) => format!(", retry in {:.0} s", *ms as f64 / 1000.0),
        _ => String::new(),
    };
    match get(metadata::HELD_OFF_BY) {
        Some(metadata::HELD_OFF_BY_DEPENDENCY) => format!(
            "held off by dependency {} ({}){retry}",
            get(metadata::DEPENDENCY).unwrap_or("?"),
            get(metadata::DEPENDENCY_STATE).unwrap_or("?"),
        ),
        Some(metadata::HELD_OFF_BY_LEVEL) => format!(
            "held off by the level: {} < {}{retry}",
            get(metadata::LEVEL).unwrap_or("?"),
            get(metadata::MIN_LEVEL).unwrap_or("?"),
        ),
        _ => get(metadata::HELD_OFF).unwrap_or_default().to_owned(),
    }
}
