//! Helpers shared by the integration tests (included with `#[path]`).
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use brownout::clock::ManualClock;
use brownout::{BreakerState, Config, DegradationManager};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const REFERENCE: &str = include_str!("../../../../examples/brownout.toml");

/// The reference deployment on a manual clock.
pub fn manager() -> (DegradationManager, ManualClock) {
    let clock = ManualClock::new();
    let manager = DegradationManager::builder()
        .config(Config::from_toml_str(REFERENCE).expect("reference config parses"))
        .clock(clock.clone())
        .build()
        .expect("reference config is valid");
    (manager, clock)
}

/// Fails `dependency` until its breaker opens.
pub fn trip(manager: &DegradationManager, dependency: &str) {
    let breaker = manager.breaker(dependency).expect("configured");
    while breaker.state() != BreakerState::Open {
        let _ = breaker.call_sync(|| Err::<(), _>("upstream down"));
    }
}

/// Lets the recovery timeout pass and succeeds until the breaker closes.
pub fn recover(manager: &DegradationManager, clock: &ManualClock, dependency: &str) {
    let breaker = manager.breaker(dependency).expect("configured");
    clock.advance(Duration::from_secs(60));
    for _ in 0..10 {
        if breaker.state() == BreakerState::Closed {
            return;
        }
        let _ = breaker.call_sync(|| Ok::<(), &str>(()));
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

/// One GET through `Router::oneshot`: status, headers, body text.
pub async fn get(app: &Router, uri: &str) -> (StatusCode, HeaderMap, String) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}
