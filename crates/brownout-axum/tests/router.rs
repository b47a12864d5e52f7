//! Middleware, extractors and rejections through `Router::oneshot`.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use brownout::{DegradationManager, Level};
use brownout_axum::rejection::{FEATURE_UNAVAILABLE, LEVEL_TOO_LOW, PROBLEM_JSON};
use brownout_axum::{CurrentLevel, FeatureName, GateLayer, RequireFeature, Unavailable};
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
async fn a_feature_gate_sheds_with_problem_json_and_recovers() {
    let (manager, clock) = manager();
    let app = Router::new()
        .route("/ai", get(|| async { "suggestions" }))
        .route_layer(GateLayer::feature(&manager, "ai_suggestions").unwrap())
        .route("/open", get(|| async { "always" }));

    let (status, _, body) = send(&app, "/ai").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "suggestions"));

    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);
    let (status, headers, body) = send(&app, "/ai").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], PROBLEM_JSON);
    // openai's breaker tries again in 30 s: that is the retry hint.
    assert_eq!(headers["retry-after"], "30");
    let problem = json(&body);
    assert_eq!(problem["type"], FEATURE_UNAVAILABLE);
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["feature"], "ai_suggestions");
    assert_eq!(problem["dependency"], "openai");
    assert_eq!(problem["level"], "MINIMAL");
    assert_eq!(problem["required_level"], "OPTIMAL");
    assert_eq!(problem["retry_after"], 30);
    assert!(problem["title"].is_string());
    assert_eq!(
        problem["detail"],
        "feature `ai_suggestions` is off because dependency `openai` is open; retry after 30 s"
    );

    // Routes outside the layer are untouched.
    assert_eq!(send(&app, "/open").await.0, StatusCode::OK);

    recover(&manager, &clock, "openai");
    assert_eq!(send(&app, "/ai").await.0, StatusCode::OK);
}

#[tokio::test]
async fn feature_off_because_a_required_dependency_is_open_names_it() {
    // cached_search needs LIMITED and redis: redis alone open keeps the
    // level at DEGRADED (score 85) but the feature goes off. The answer
    // says redis, not the level.
    let (manager, _clock) = manager();
    let app = Router::new()
        .route("/search", get(|| async { "hits" }))
        .route_layer(GateLayer::feature(&manager, "cached_search").unwrap());
    trip(&manager, "redis");
    assert_eq!(manager.level(), Level::Degraded);
    let (status, headers, body) = send(&app, "/search").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "15");
    let problem = json(&body);
    assert_eq!(problem["level"], "DEGRADED");
    assert_eq!(problem["required_level"], "LIMITED");
    assert_eq!(problem["dependency"], "redis");
    assert_eq!(problem["held_off"]["kind"], "dependency");
    assert_eq!(problem["held_off"]["state"], "open");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("dependency `redis` is open"), "{detail}");
    assert!(!detail.contains("at level"), "{detail}");
}

#[test]
fn unknown_feature_is_an_error_at_startup() {
    let (manager, _) = manager();
    let err = GateLayer::feature(&manager, "ai_sugestions").unwrap_err();
    assert!(err.to_string().contains("ai_sugestions"), "{err}");
    assert!(RequireFeature::<Typo>::check(&manager).is_err());
    assert!(RequireFeature::<Ai>::check(&manager).is_ok());
}

#[tokio::test]
async fn a_level_gate_with_a_custom_retry_after() {
    let (manager, _) = manager();
    let app = Router::new()
        .route("/orders", get(|| async { "created" }))
        .route_layer(
            GateLayer::min_level(&manager, Level::Limited)
                .retry_after(Duration::from_millis(29_001)),
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
        assert_eq!(headers["content-type"], PROBLEM_JSON);
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
async fn the_require_feature_extractor_and_its_optional_form() {
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
async fn unknown_feature_in_an_extractor_fails_closed_with_a_500() {
    let (manager, _) = manager();
    let app = Router::new()
        .route(
            "/typo",
            get(|_: RequireFeature<Typo>| async { "unreachable" }),
        )
        .route(
            "/typo-optional",
            get(|_: Option<RequireFeature<Typo>>| async { "unreachable" }),
        )
        .with_state(manager);
    for path in ["/typo", "/typo-optional"] {
        let (status, headers, body) = send(&app, path).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(!headers.contains_key("retry-after"), "{path}");
        assert!(body.contains("unknown feature `ai_sugestions`"), "{body}");
    }
}

/// The middleware and the extractor make the same check and give the same answer.
#[tokio::test]
async fn the_middleware_and_the_extractor_answer_alike() {
    let (manager, _) = manager();
    let app = Router::new()
        .route("/layer", get(|| async { "ok" }))
        .route_layer(GateLayer::feature(&manager, "ai_suggestions").unwrap())
        .route("/extractor", get(|_: RequireFeature<Ai>| async { "ok" }))
        .with_state(manager.clone());
    for path in ["/layer", "/extractor"] {
        assert_eq!(send(&app, path).await.0, StatusCode::OK);
    }
    trip(&manager, "openai");
    let by_layer = send(&app, "/layer").await;
    let by_extractor = send(&app, "/extractor").await;
    assert_eq!(by_layer.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(by_layer.0, by_extractor.0);
    assert_eq!(by_layer.1, by_extractor.1);
    assert_eq!(json(&by_layer.2), json(&by_extractor.2));
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
fn a_tower_gate_error_answers_as_the_middleware_does() {
    use brownout_tower::BoxError;
    use tower::{Service, ServiceExt};

    let (manager, _) = manager();
    manager.force_level(Level::Minimal, None);
    let mut svc = tower::ServiceBuilder::new()
        .layer(brownout_tower::GateLayer::feature(&manager, "checkout").unwrap())
        .service_fn(|()| async { Ok::<_, BoxError>(()) });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt
        .block_on(async { svc.ready().await.unwrap().call(()).await })
        .unwrap_err();
    let rejection = Unavailable::try_from(err).unwrap();
    let shed = rejection.shed().unwrap();
    assert_eq!(shed.feature(), Some("checkout"));
    assert_eq!(shed.level(), Level::Minimal);
    assert_eq!(shed.required_level(), Level::Limited);
    assert_eq!(rejection.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&rejection.body_text())["feature"], "checkout");

    // Anything else is handed back.
    let other = Unavailable::try_from(BoxError::from("boom")).unwrap_err();
    assert_eq!(other.to_string(), "boom");
}
