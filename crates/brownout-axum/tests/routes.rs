//! `/health`, `/health/live`, `/health/ready` and `/status`.

#[path = "support/mod.rs"]
mod support;

use axum::Router;
use brownout::{DegradationManager, FeatureConfig, Level};
use brownout_axum::health_router;
use http::StatusCode;

use support::{get, json, manager, trip};

const DEPENDENCIES: [&str; 4] = ["database", "openai", "redis", "s3"];

#[tokio::test]
async fn health_maps_every_level() {
    let (manager, _) = manager();
    let app = health_router(manager.clone());
    let expected = [
        (Level::Optimal, "pass", StatusCode::OK),
        (Level::Degraded, "warn", StatusCode::OK),
        (Level::Limited, "warn", StatusCode::OK),
        (Level::Minimal, "warn", StatusCode::OK),
        (Level::Emergency, "fail", StatusCode::SERVICE_UNAVAILABLE),
    ];
    for (level, health, code) in expected {
        manager.force_level(level, None);
        let (status, headers, body) = get(&app, "/health").await;
        assert_eq!(status, code, "{level}");
        assert_eq!(headers["content-type"], "application/health+json");
        assert_eq!(headers["cache-control"], "no-store");
        let body = json(&body);
        assert_eq!(body["status"], health, "{level}");
        assert_eq!(body["level"], level.as_str());
        assert_eq!(body["computedLevel"], "OPTIMAL");
        assert_eq!(body["score"], 100.0);
        assert_eq!(body.get("output").is_some(), health != "pass");
        let checks = body["checks"].as_object().unwrap();
        assert_eq!(checks.len(), DEPENDENCIES.len());
        for dep in DEPENDENCIES {
            let check = &checks[&format!("{dep}:circuit")][0];
            assert_eq!(check["componentId"], dep);
            assert_eq!(check["observedValue"], "closed");
            assert_eq!(check["status"], "pass");
        }
    }
}

#[tokio::test]
async fn health_reports_an_open_breaker_per_dependency() {
    let (manager, _) = manager();
    let app = health_router(manager.clone());
    trip(&manager, "openai");
    let (status, _, body) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::OK);
    let body = json(&body);
    assert_eq!(body["status"], "warn");
    assert_eq!(body["level"], "MINIMAL");
    assert_eq!(body["score"], 50.0);
    let openai = &body["checks"]["openai:circuit"][0];
    assert_eq!(openai["status"], "fail");
    assert_eq!(openai["observedValue"], "open");
    assert_eq!(openai["componentType"], "component");
    assert_eq!(openai["retryAfterMs"], 30_000);
    assert!(openai["output"].is_string());
    assert_eq!(body["checks"]["database:circuit"][0]["status"], "pass");

    // database too: 20 points, EMERGENCY, fail and 503.
    trip(&manager, "database");
    let (status, _, body) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&body)["status"], "fail");
}

#[tokio::test]
async fn ready_and_live() {
    let (manager, _) = manager();
    let app = health_router(manager.clone());
    for level in Level::ALL {
        manager.force_level(level, None);
        let (status, headers, body) = get(&app, "/health/live").await;
        assert_eq!(status, StatusCode::OK, "live at {level}");
        assert_eq!(headers["content-type"], "application/health+json");
        assert_eq!(json(&body)["status"], "pass");

        let (status, _, body) = get(&app, "/health/ready").await;
        let body = json(&body);
        assert_eq!(body["level"], level.as_str());
        if level == Level::Emergency {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["status"], "fail");
        } else {
            assert_eq!(status, StatusCode::OK, "ready at {level}");
            assert_ne!(body["status"], "fail");
        }
    }
}

#[tokio::test]
async fn status_page_is_html_refreshes_and_stays_up_at_emergency() {
    let (manager, _) = manager();
    let app: Router = health_router(manager.clone());
    trip(&manager, "openai");
    trip(&manager, "database");
    assert_eq!(manager.level(), Level::Emergency);

    let (status, headers, body) = get(&app, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        headers["content-type"]
    );
    assert!(body.contains(r#"<meta http-equiv="refresh" content="5">"#));
    assert!(body.contains("EMERGENCY"));
    assert!(body.contains("20.0"), "score shown");
    for dep in DEPENDENCIES {
        assert!(body.contains(&format!("<td>{dep}</td>")), "{dep}");
    }
    assert!(body.contains(">open<"));
    assert!(body.contains("<td>ai_suggestions</td>"));
    assert!(body.contains(">off<"));
    // Self-contained: no external assets.
    for external in ["<script", "<link", "src=", "http://", "https://", "@import"] {
        assert!(!body.contains(external), "{external}");
    }
}

#[tokio::test]
async fn status_page_shows_features_on_and_escapes_names() {
    let manager = DegradationManager::builder()
        .feature(
            "<script>alert('x')</script>&",
            FeatureConfig::new(Level::Minimal),
        )
        .build()
        .unwrap();
    let app = health_router(manager);
    let (status, _, body) = get(&app, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("<script>"));
    assert!(body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
    assert!(body.contains(">on<"));
    assert!(body.contains("OPTIMAL"));
}
