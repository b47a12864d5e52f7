//! Middleware, extractors and rejections through `Router::oneshot`.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use brownout::{DegradationManager, Level};
use brownout_axum::rejection::{FEATURE_UNAVAILABLE, LEVEL_TOO_LOW};
use brownout_axum::{CurrentLevel, FeatureName, RequireFeature, require_feature, require_level};
use http::StatusCode;

use support::{get as send, json, manager, recover, trip};

struct Ai;
impl FeatureName for Ai {
    const NAME: &'static str = "ai_suggestions";
}

struct Typo;
impl FeatureName for Typo {
    const NAME: &'static str = "ai_sugestions";
}

#[tokio::test]
async fn require_feature_sheds_with_problem_json_and_recovers() {
    let (manager, clock) = manager();
    let app = Router::new()
        .route("/ai", get(|| async { "suggestions" }))
        .route_layer(require_feature(&manager, "ai_suggestions").unwrap())
        .route("/open", get(|| async { "always" }));

    let (status, _, body) = send(&app, "/ai").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "suggestions"));

    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);
    let (status, headers, body) = send(&app, "/ai").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(headers["retry-after"], "5");
    let problem = json(&body);
    assert_eq!(problem["type"], FEATURE_UNAVAILABLE);
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["feature"], "ai_suggestions");
    assert_eq!(problem["level"], "MINIMAL");
    assert_eq!(problem["required_level"], "OPTIMAL");
    assert_eq!(problem["retry_after"], 5);
    assert!(problem["title"].is_string());
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("ai_suggestions")
    );

    // Routes outside the layer are untouched.
    assert_eq!(send(&app, "/open").await.0, StatusCode::OK);

    recover(&manager, &clock, "openai");
    assert_eq!(send(&app, "/ai").await.0, StatusCode::OK);
}

#[tokio::test]
async fn feature_off_because_a_required_dependency_is_open() {
    // cached_search needs LIMITED and redis: redis alone open keeps the
    // level at DEGRADED (score 85) but the feature goes off.
    let (manager, _clock) = manager();
    let app = Router::new()
        .route("/search", get(|| async { "hits" }))
        .route_layer(require_feature(&manager, "cached_search").unwrap());
    trip(&manager, "redis");
    assert_eq!(manager.level(), Level::Degraded);
    let (status, _, body) = send(&app, "/search").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let problem = json(&body);
    assert_eq!(problem["level"], "DEGRADED");
    assert_eq!(problem["required_level"], "LIMITED");
}

#[test]
fn unknown_feature_is_an_error_at_startup() {
    let (manager, _) = manager();
    let err = require_feature(&manager, "ai_sugestions").unwrap_err();
    assert!(err.to_string().contains("ai_sugestions"), "{err}");
}

#[tokio::test]
async fn require_level_and_custom_retry_after() {
    let (manager, _) = manager();
    let app = Router::new()
        .route("/orders", get(|| async { "created" }))
        .route_layer(
            require_level(&manager, Level::Limited).retry_after(Duration::from_millis(29_001)),
        );

    for level in [Level::Optimal, Level::Degraded, Level::Limited] {
        manager.force_level(level, None);
        assert_eq!(send(&app, "/orders").await.0, StatusCode::OK, "{level}");
    }
    for level in [Level::Minimal, Level::Emergency] {
        manager.force_level(level, None);
        let (status, headers, body) = send(&app, "/orders").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{level}");
        assert_eq!(headers["retry-after"], "30");
        assert_eq!(headers["content-type"], "application/problem+json");
        let problem = json(&body);
        assert_eq!(problem["type"], LEVEL_TOO_LOW);
        assert_eq!(problem["level"], level.as_str());
        assert_eq!(problem["required_level"], "LIMITED");
        assert_eq!(problem["retry_after"], 30);
        assert!(problem.get("feature").is_none());
    }
    manager.clear_override();
    assert_eq!(send(&app, "/orders").await.0, StatusCode::OK);
}

#[tokio::test]
async fn current_level_extractor_never_rejects() {
    let (manager, _) = manager();
    let app = Router::new()
        .route(
            "/level",
            get(|CurrentLevel(level): CurrentLevel| async move { level.to_string() }),
        )
        .with_state(manager.clone());
    for level in Level::ALL {
        manager.force_level(level, None);
        let (status, _, body) = send(&app, "/level").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, level.as_str()));
    }
}

#[tokio::test]
async fn require_feature_extractor_and_its_optional_form() {
    let (manager, _) = manager();
    let app = Router::new()
        .route(
            "/ai",
            get(|ai: RequireFeature<Ai>| async move {
                assert!(ai.gate().is_enabled());
                format!("{} at {}", ai.gate().name(), ai.level())
            }),
        )
        .route(
            "/product",
            get(|ai: Option<RequireFeature<Ai>>| async move {
                if ai.is_some() {
                    "with suggestions"
                } else {
                    "plain"
                }
            }),
        )
        .with_state(manager.clone());

    let (status, _, body) = send(&app, "/ai").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "ai_suggestions at OPTIMAL")
    );
    assert_eq!(send(&app, "/product").await.2, "with suggestions");

    manager.force_level(Level::Degraded, None);
    let (status, headers, body) = send(&app, "/ai").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(headers.contains_key("retry-after"));
    let problem = json(&body);
    assert_eq!(problem["feature"], "ai_suggestions");
    assert_eq!(problem["level"], "DEGRADED");
    assert_eq!(problem["required_level"], "OPTIMAL");
    let (status, _, body) = send(&app, "/product").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "plain"));
}

#[tokio::test]
async fn unknown_feature_in_an_extractor_fails_closed() {
    let (manager, _) = manager();
    let app = Router::new()
        .route(
            "/typo",
            get(|_: RequireFeature<Typo>| async { "unreachable" }),
        )
        .with_state(manager);
    let (status, _, body) = send(&app, "/typo").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let problem = json(&body);
    assert_eq!(problem["feature"], "ai_sugestions");
    assert_eq!(problem["level"], "OPTIMAL");
    assert!(problem.get("required_level").is_none());
}

#[derive(Clone)]
struct AppState {
    manager: DegradationManager,
    name: &'static str,
}

impl FromRef<AppState> for DegradationManager {
    fn from_ref(state: &AppState) -> Self {
        state.manager.clone()
    }
}

#[tokio::test]
async fn extractors_and_routes_work_with_an_app_state() {
    let (manager, _) = manager();
    let state = AppState {
        manager: manager.clone(),
        name: "inventory",
    };
    let app = Router::new()
        .route(
            "/",
            get(
                |axum::extract::State(state): axum::extract::State<AppState>,
                 CurrentLevel(level): CurrentLevel| async move {
                    format!("{} {level}", state.name)
                },
            ),
        )
        .merge(brownout_axum::routes())
        .with_state(state);
    assert_eq!(send(&app, "/").await.2, "inventory OPTIMAL");
    assert_eq!(send(&app, "/health").await.0, StatusCode::OK);
}

#[test]
fn rejection_mirrors_a_tower_shed() {
    use brownout_tower::GateLayer;
    use tower::{Service, ServiceExt};

    let (manager, _) = manager();
    manager.force_level(Level::Minimal, None);
    let mut svc = tower::ServiceBuilder::new()
        .layer(GateLayer::feature(&manager, "checkout").unwrap())
        .service_fn(|()| async { Ok::<_, brownout_tower::BoxError>(()) });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt
        .block_on(async { svc.ready().await.unwrap().call(()).await })
        .unwrap_err();
    let shed = err.downcast_ref::<brownout_tower::Shed>().unwrap();
    let rejection = brownout_axum::Unavailable::from(shed);
    assert_eq!(rejection.feature(), Some("checkout"));
    assert_eq!(rejection.level(), Level::Minimal);
    assert_eq!(rejection.required_level(), Some(Level::Limited));
    assert_eq!(rejection.status(), StatusCode::SERVICE_UNAVAILABLE);
}
