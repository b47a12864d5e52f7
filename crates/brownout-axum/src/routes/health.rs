use std::time::SystemTime;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use brownout::{DegradationManager, DependencySnapshot, Health, Level, Snapshot};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use super::Readiness;
use super::describe;
use super::time::{before, rfc3339_millis};

/// The media type of the health answers.
const HEALTH_JSON: &str = "application/health+json";

/// The health status of a level as a string: [`Level::health`]`.as_str()`,
/// `pass` at OPTIMAL, `fail` at EMERGENCY, `warn` in between. Prefer
/// [`Level::health`], the one mapping the routes use.
#[must_use]
pub fn health_status(level: Level) -> &'static str {
    level.health().as_str()
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

fn millis(duration: std::time::Duration) -> Value {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .into()
}

/// The `"<name>:circuit"` check of one dependency.
fn circuit_check(dependency: &DependencySnapshot, now: SystemTime) -> Value {
    let breaker = &dependency.breaker;
    let status = breaker.state.health();
    let since = breaker.last_transition.map_or(now, |t| before(now, t.ago));
    let mut check = Map::new();
    check.insert("componentId".into(), breaker.name.as_str().into());
    check.insert("componentType".into(), "component".into());
    check.insert("observedValue".into(), breaker.state.as_str().into());
    check.insert("status".into(), status.as_str().into());
    check.insert("time".into(), rfc3339_millis(since).into());
    check.insert("weight".into(), json!(dependency.weight));
    if let Some(retry) = breaker.retry_after {
        check.insert("retryAfterMs".into(), millis(retry));
    }
    if let Some(trip) = &breaker.last_trip {
        let mut last = Map::new();
        last.insert("cause".into(), describe::cause_name(trip.cause).into());
        last.insert(
            "consecutiveFailures".into(),
            trip.consecutive_failures.into(),
        );
        if let Some(w) = trip.window {
            last.insert(
                "window".into(),
                json!({ "calls": w.calls, "failures": w.failures, "slowCalls": w.slow_calls }),
            );
        }
        last.insert("time".into(), rfc3339_millis(before(now, trip.ago)).into());
        check.insert("lastTrip".into(), Value::Object(last));
    }
    if status != Health::Pass {
        let mut output = format!("circuit breaker {}", breaker.state);
        if let Some(trip) = &breaker.last_trip {
            output.push_str(", opened by ");
            output.push_str(&describe::trip(trip));
        }
        check.insert("output".into(), output.into());
    }
    Value::Array(vec![Value::Object(check)])
}

/// The `"brownout:level"` check: the effective level, since when and why.
fn level_check(snapshot: &Snapshot, now: SystemTime) -> Value {
    let change = &snapshot.last_change;
    let status = snapshot.level.health();
    let since = rfc3339_millis(before(now, change.ago));
    let mut check = Map::new();
    check.insert("componentType".into(), "system".into());
    check.insert("observedValue".into(), snapshot.level.as_str().into());
    check.insert("status".into(), status.as_str().into());
    check.insert("time".into(), since.clone().into());
    check.insert("score".into(), json!(snapshot.score));
    check.insert("from".into(), change.from.as_str().into());
    check.insert("cause".into(), change.cause.to_string().into());
    if let Some(forced) = &snapshot.override_level {
        let mut o = Map::new();
        o.insert("level".into(), forced.level.as_str().into());
        if let Some(source) = forced.source {
            o.insert("source".into(), source.into());
        }
        if let Some(left) = forced.expires_in {
            o.insert("expiresInMs".into(), millis(left));
        }
        check.insert("override".into(), Value::Object(o));
    }
    if status != Health::Pass {
        check.insert(
            "output".into(),
            format!(
                "level {} since {since}, from {} ({})",
                snapshot.level, change.from, change.cause
            )
            .into(),
        );
    }
    Value::Array(vec![Value::Object(check)])
}

/// `GET /health`: the effective level as `pass`/`warn`/`fail`
/// ([`Level::health`]), one check per dependency (`"<name>:circuit"`, status
/// [`BreakerState::health`](brownout::BreakerState::health), `time` the
/// breaker's last state change) and a `"brownout:level"` check (`time` the
/// last level change, with its cause), as `application/health+json`; `503`
/// at EMERGENCY. Half-open trials past their timeout are expired first.
pub async fn health(State(manager): State<DegradationManager>) -> Response {
    let snapshot = manager.snapshot();
    let now = SystemTime::now();
    let status = snapshot.level.health();
    let mut checks = Map::new();
    checks.insert("brownout:level".into(), level_check(&snapshot, now));
    for d in &snapshot.dependencies {
        checks.insert(format!("{}:circuit", d.breaker.name), circuit_check(d, now));
    }
    let mut body = Map::new();
    body.insert("status".into(), status.as_str().into());
    body.insert("level".into(), snapshot.level.as_str().into());
    body.insert(
        "computedLevel".into(),
        snapshot.computed_level.as_str().into(),
    );
    body.insert("score".into(), json!(snapshot.score));
    if status != Health::Pass {
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
    let code = if status == Health::Fail {
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

/// `GET /health/ready` with the default [`Readiness::Always`]: `200` at
/// every level, `pass` at OPTIMAL and `warn` below, with the level. For a
/// level-based readiness, mount the routes with
/// [`RoutesConfig::readiness`](super::RoutesConfig::readiness).
pub async fn ready(State(manager): State<DegradationManager>) -> Response {
    readiness_response(&manager, Readiness::Always)
}

/// The `/health/ready` answer under `readiness`: `200` with `pass`/`warn`
/// while ready, `503` with `fail` when not.
pub(super) fn readiness_response(manager: &DegradationManager, readiness: Readiness) -> Response {
    if readiness != Readiness::Always {
        // The level decides: let overdue half-open trials re-open their
        // breakers first, as the next call would.
        for breaker in manager.breakers() {
            breaker.expire_trials();
        }
    }
    let level = manager.level();
    let mut body = Map::new();
    let code = if readiness.is_ready(level) {
        // Ready answers are 2xx, so never `fail`.
        let status = level.health().max(Health::Warn);
        body.insert("status".into(), status.as_str().into());
        if status != Health::Pass {
            body.insert(
                "output".into(),
                format!("ready, serving at degradation level {level}").into(),
            );
        }
        StatusCode::OK
    } else {
        body.insert("status".into(), Health::Fail.as_str().into());
        if let Readiness::MinLevel(min) = readiness {
            body.insert(
                "output".into(),
                format!("not ready: degradation level {level} is below {min}").into(),
            );
        }
        StatusCode::SERVICE_UNAVAILABLE
    };
    body.insert("level".into(), level.as_str().into());
    health_json(code, &Value::Object(body))
}
