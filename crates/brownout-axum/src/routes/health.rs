use axum::extract::State;
use axum::response::{IntoResponse, Response};
use brownout::{BreakerState, DegradationManager, DependencySnapshot, Level};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

/// The media type of the health answers.
const HEALTH_JSON: &str = "application/health+json";

/// The health status of a level: `pass` at OPTIMAL, `fail` at EMERGENCY,
/// `warn` in between.
#[must_use]
pub fn health_status(level: Level) -> &'static str {
    match level {
        Level::Optimal => "pass",
        Level::Emergency => "fail",
        Level::Degraded | Level::Limited | Level::Minimal => "warn",
    }
}

fn breaker_status(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed | BreakerState::Disabled => "pass",
        BreakerState::HalfOpen => "warn",
        BreakerState::Open | BreakerState::ForcedOpen => "fail",
    }
}

fn health_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static(HEALTH_JSON)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body.to_string(),
    )
        .into_response()
}

fn check(dependency: &DependencySnapshot) -> Value {
    let breaker = &dependency.breaker;
    let status = breaker_status(breaker.state);
    let mut check = Map::new();
    check.insert("componentId".into(), breaker.name.as_str().into());
    check.insert("componentType".into(), "component".into());
    check.insert("observedValue".into(), breaker.state.as_str().into());
    check.insert("status".into(), status.into());
    check.insert("weight".into(), json!(dependency.weight));
    if let Some(retry) = breaker.retry_after {
        check.insert(
            "retryAfterMs".into(),
            u64::try_from(retry.as_millis()).unwrap_or(u64::MAX).into(),
        );
    }
    if status != "pass" {
        check.insert(
            "output".into(),
            format!("circuit breaker {}", breaker.state).into(),
        );
    }
    Value::Array(vec![Value::Object(check)])
}

/// `GET /health`: the level as `pass`/`warn`/`fail` and one check per
/// dependency, as `application/health+json`; `503` at EMERGENCY.
pub async fn health(State(manager): State<DegradationManager>) -> Response {
    let snapshot = manager.snapshot();
    let status = health_status(snapshot.level);
    let checks: Map<String, Value> = snapshot
        .dependencies
        .iter()
        .map(|d| (format!("{}:circuit", d.breaker.name), check(d)))
        .collect();
    let mut body = Map::new();
    body.insert("status".into(), status.into());
    body.insert("level".into(), snapshot.level.as_str().into());
    body.insert(
        "computedLevel".into(),
        snapshot.computed_level.as_str().into(),
    );
    body.insert("score".into(), json!(snapshot.score));
    if status != "pass" {
        body.insert(
            "output".into(),
            format!(
                "degradation level {} (health score {:.1})",
                snapshot.level, snapshot.score
            )
            .into(),
        );
    }
    body.insert("checks".into(), Value::Object(checks));
    let code = if snapshot.level == Level::Emergency {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    health_json(code, &Value::Object(body))
}

/// `GET /health/live`: always `200 {"status":"pass"}`.
pub async fn live() -> Response {
    health_json(StatusCode::OK, &json!({ "status": "pass" }))
}

/// `GET /health/ready`: `200` with `pass`/`warn` and the level, or `503`
/// with `fail` at EMERGENCY (take the instance out of the load balancer).
pub async fn ready(State(manager): State<DegradationManager>) -> Response {
    let level = manager.level();
    let code = if level == Level::Emergency {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    health_json(
        code,
        &json!({ "status": health_status(level), "level": level.as_str() }),
    )
}
