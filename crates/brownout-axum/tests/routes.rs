//! `/health`, `/health/live`, `/health/ready` and `/status`.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use brownout::{BreakerState, DegradationManager, FeatureConfig, Level};
use brownout_axum::health_router;
use brownout_axum::routes::{Readiness, RoutesConfig, health_router_with};
use http::StatusCode;
use serde_json::Value;

use support::{get, json, manager, trip};

const DEPENDENCIES: [&str; 4] = ["database", "openai", "redis", "s3"];

/// Asserts `t` is an RFC 3339 UTC timestamp with milliseconds
/// (`2025-01-01T12:00:00.000Z`) and returns its seconds since midnight.
fn time_of_day(t: &Value) -> u64 {
    let t = t
        .as_str()
        .unwrap_or_else(|| panic!("time is not a string: {t}"));
    let b = t.as_bytes();
    let shape = b.len() == 24
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b'.'
        && b[23] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 23].contains(&i) || c.is_ascii_digit());
    assert!(shape, "not an RFC 3339 UTC timestamp: {t}");
    let n = |r: std::ops::Range<usize>| t[r].parse::<u64>().unwrap();
    assert!(
        (1..=12).contains(&n(5..7)) && (1..=31).contains(&n(8..10)),
        "{t}"
    );
    n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

/// Seconds from `earlier` to `later`, both times of day within a day.
fn seconds_between(earlier: &Value, later: &Value) -> u64 {
    (time_of_day(later) + 86_400 - time_of_day(earlier)) % 86_400
}

/// The table row of the status page whose first cell is `name`.
fn row<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!("<tr><td>{name}</td>"))
        .unwrap_or_else(|| panic!("no row for {name}"));
    let end = start + page[start..].find("</tr>").expect("row ends");
    &page[start..end]
}

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
        assert_eq!(level.health().as_str(), health);
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
        assert_eq!(checks.len(), DEPENDENCIES.len() + 1);

        let lvl = &checks["brownout:level"][0];
        assert_eq!(lvl["observedValue"], level.as_str());
        assert_eq!(lvl["status"], health);
        assert_eq!(lvl["score"], 100.0);
        assert_eq!(lvl["override"]["level"], level.as_str());
        time_of_day(&lvl["time"]);
        if level != Level::Optimal {
            assert_eq!(lvl["cause"], "override", "{level}");
        }

        for dep in DEPENDENCIES {
            let check = &checks[&format!("{dep}:circuit")][0];
            assert_eq!(check["componentId"], dep);
            assert_eq!(check["observedValue"], "closed");
            assert_eq!(check["status"], "pass");
            assert!(check.get("output").is_none());
            assert!(check.get("lastTrip").is_none());
            // Never changed: the time of the answer.
            time_of_day(&check["time"]);
        }
    }
}

#[tokio::test]
async fn health_reports_an_open_breaker_with_since_and_trip_cause() {
    let (manager, clock) = manager();
    let app = health_router(manager.clone());
    trip(&manager, "openai");
    clock.advance(Duration::from_secs(90));
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
    // Opened 90 s ago on the manager's clock: the recovery timeout of 30 s is over.
    assert_eq!(openai["retryAfterMs"], 0);
    assert_eq!(openai["lastTrip"]["cause"], "consecutive_failures");
    assert_eq!(openai["lastTrip"]["consecutiveFailures"], 5);
    assert_eq!(
        openai["output"],
        "circuit breaker open, opened by 5 consecutive failures"
    );

    // `time`: when the breaker changed state, 90 s before the answer; a
    // breaker that never changed reports the time of the answer.
    let database = &body["checks"]["database:circuit"][0];
    assert_eq!(database["status"], "pass");
    let waited = seconds_between(&openai["time"], &database["time"]);
    assert!((89..=91).contains(&waited), "{waited} s");
    assert!(seconds_between(&openai["lastTrip"]["time"], &openai["time"]) <= 1);

    // The level check: since when, from what, why.
    let lvl = &body["checks"]["brownout:level"][0];
    assert_eq!(lvl["observedValue"], "MINIMAL");
    assert_eq!(lvl["status"], "warn");
    assert_eq!(lvl["from"], "OPTIMAL");
    assert_eq!(lvl["cause"], "breaker openai closed -> open");
    assert!(lvl.get("override").is_none());
    assert!(seconds_between(&openai["time"], &lvl["time"]) <= 1);
    assert!(
        lvl["output"]
            .as_str()
            .unwrap()
            .contains("breaker openai closed -> open")
    );

    // database too: 20 points, EMERGENCY, fail and 503.
    trip(&manager, "database");
    let (status, _, body) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body = json(&body);
    assert_eq!(body["status"], "fail");
    assert_eq!(
        body["checks"]["database:circuit"][0]["lastTrip"]["consecutiveFailures"],
        3
    );
}

#[tokio::test]
async fn health_expires_overdue_half_open_trials() {
    let (manager, clock) = manager();
    let app = health_router(manager.clone());
    trip(&manager, "openai");
    let openai = manager.breaker("openai").expect("configured");
    clock.advance(Duration::from_secs(31));
    // A trial that never answers.
    let permit = openai.try_acquire().expect("the recovery timeout is over");
    assert_eq!(openai.state(), BreakerState::HalfOpen);
    // Past `half_open_timeout` (the recovery timeout, 30 s).
    clock.advance(Duration::from_secs(31));

    let (_, _, body) = get(&app, "/health").await;
    let body = json(&body);
    let check = &body["checks"]["openai:circuit"][0];
    assert_eq!(check["observedValue"], "open", "{check}");
    assert_eq!(check["status"], "fail");
    assert_eq!(check["lastTrip"]["cause"], "trials_timed_out");
    assert_eq!(check["retryAfterMs"], 30_000);
    assert_eq!(body["level"], "MINIMAL");
    assert_eq!(openai.state(), BreakerState::Open);
    drop(permit);
}

#[tokio::test]
async fn ready_is_200_at_every_level_by_default_and_live_too() {
    let (manager, _) = manager();
    let app = health_router(manager.clone());
    for level in Level::ALL {
        manager.force_level(level, None);
        let (status, headers, body) = get(&app, "/health/live").await;
        assert_eq!(status, StatusCode::OK, "live at {level}");
        assert_eq!(headers["content-type"], "application/health+json");
        assert_eq!(json(&body)["status"], "pass");

        let (status, headers, body) = get(&app, "/health/ready").await;
        assert_eq!(status, StatusCode::OK, "ready at {level}");
        assert_eq!(headers["content-type"], "application/health+json");
        assert_eq!(headers["cache-control"], "no-store");
        let body = json(&body);
        assert_eq!(body["level"], level.as_str());
        let expected = if level == Level::Optimal {
            "pass"
        } else {
            "warn"
        };
        assert_eq!(body["status"], expected, "ready at {level}");
    }

    // Not only forced: two dependencies down, EMERGENCY, still ready.
    manager.clear_override();
    trip(&manager, "openai");
    trip(&manager, "database");
    assert_eq!(manager.level(), Level::Emergency);
    let (status, _, _) = get(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn ready_by_level_is_an_opt_in() {
    let (manager, _) = manager();
    let config = RoutesConfig::new().readiness(Readiness::MinLevel(Level::Minimal));
    let app = health_router_with(manager.clone(), config);
    for level in Level::ALL {
        manager.force_level(level, None);
        let (status, headers, body) = get(&app, "/health/ready").await;
        assert_eq!(headers["content-type"], "application/health+json");
        let body = json(&body);
        assert_eq!(body["level"], level.as_str());
        if level == Level::Emergency {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["status"], "fail");
            assert_eq!(
                body["output"],
                "not ready: degradation level EMERGENCY is below MINIMAL"
            );
        } else {
            assert_eq!(status, StatusCode::OK, "ready at {level}");
            assert_ne!(body["status"], "fail");
        }
        // The other routes are the same.
        assert_eq!(get(&app, "/health/live").await.0, StatusCode::OK);
        assert_eq!(get(&app, "/status").await.0, StatusCode::OK);
    }

    // A higher bar: not ready below LIMITED.
    manager.clear_override();
    let app = health_router_with(
        manager.clone(),
        RoutesConfig::new().readiness(Readiness::MinLevel(Level::Limited)),
    );
    assert_eq!(get(&app, "/health/ready").await.0, StatusCode::OK);
    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);
    assert_eq!(
        get(&app, "/health/ready").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    // `routes_with` on an app state.
    let app: Router = Router::new()
        .merge(brownout_axum::routes::routes_with(
            RoutesConfig::new().readiness(Readiness::MinLevel(Level::Limited)),
        ))
        .with_state(manager);
    assert_eq!(
        get(&app, "/health/ready").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn minimal_is_warn_on_health_and_on_the_page() {
    let (manager, _) = manager();
    let app = health_router(manager.clone());
    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);

    let (_, _, body) = get(&app, "/health").await;
    assert_eq!(json(&body)["status"], "warn");
    let (_, _, page) = get(&app, "/status").await;
    assert!(
        page.contains(r#"<span class="badge warn" id="level">MINIMAL</span>"#),
        "{page}"
    );
    // The open breaker is red, a closed one green: the core's mapping.
    assert!(row(&page, "openai").contains(r#"<span class="badge bad">open</span>"#));
    assert!(row(&page, "database").contains(r#"<span class="badge ok">closed</span>"#));

    // And the other levels agree with `/health` as well.
    for level in Level::ALL {
        manager.force_level(level, None);
        let (_, _, page) = get(&app, "/status").await;
        let class = match level.health() {
            brownout::Health::Pass => "ok",
            brownout::Health::Warn => "warn",
            brownout::Health::Fail => "bad",
        };
        assert!(
            page.contains(&format!(
                r#"<span class="badge {class}" id="level">{level}</span>"#
            )),
            "{level}"
        );
    }
}

#[tokio::test]
async fn status_page_says_why_features_are_off() {
    let (manager, clock) = manager();
    let app = health_router(manager.clone());
    trip(&manager, "openai");
    clock.advance(Duration::from_secs(75));
    let (status, _, page) = get(&app, "/status").await;
    assert_eq!(status, StatusCode::OK);

    // Held off by the open dependency it requires.
    let ai = row(&page, "ai_suggestions");
    assert!(ai.contains(">off<"), "{ai}");
    assert!(
        ai.contains("dependency <strong>openai</strong> is open"),
        "{ai}"
    );
    // Held off by the level.
    let checkout = row(&page, "checkout");
    assert!(checkout.contains(">off<"), "{checkout}");
    assert!(
        checkout.contains("level <strong>MINIMAL</strong> is below LIMITED"),
        "{checkout}"
    );
    // On: no reason.
    let stock = row(&page, "stock_lookup");
    assert!(stock.contains(">on<"), "{stock}");
    assert!(!stock.contains("<strong>"), "{stock}");
    // Off features come first.
    assert!(page.find("<tr><td>ai_suggestions</td>") < page.find("<tr><td>stock_lookup</td>"));

    // What opened the breaker, and since when.
    let openai = row(&page, "openai");
    assert!(openai.contains("5 consecutive failures"), "{openai}");
    assert!(openai.contains("(1 min 15 s ago)"), "{openai}");
    assert!(openai.contains("<time datetime=\""), "{openai}");
    assert!(row(&page, "database").contains("never changed"));

    // The last level change and its cause.
    assert!(page.contains("OPTIMAL → MINIMAL"), "{page}");
    assert!(
        page.contains(r#"<td id="cause">breaker openai closed -&gt; open</td>"#),
        "{page}"
    );
    // When the page was rendered.
    assert!(page.contains("Rendered at <time datetime=\""), "{page}");
    assert!(page.contains("12 of 16 features off"), "{page}");
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
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.contains(r#"<meta http-equiv="refresh" content="5">"#));
    assert!(body.contains(r#"<span class="badge bad" id="level">EMERGENCY</span>"#));
    assert!(body.contains("20.0"), "score shown");
    for dep in DEPENDENCIES {
        assert!(body.contains(&format!("<tr><td>{dep}</td>")), "{dep}");
    }
    assert!(row(&body, "database").contains("3 consecutive failures"));
    assert!(body.contains(">open<"));
    assert!(body.contains("<tr><td>ai_suggestions</td>"));
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
