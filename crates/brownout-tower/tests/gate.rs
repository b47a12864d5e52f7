//! `GateLayer`: shedding by feature and by level, without calling the inner service.

mod support;

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{BreakerState, DegradationManager, DependencyConfig, FeatureConfig, HeldOff, Level};
use brownout_tower::gate::DEFAULT_RETRY_AFTER;
use brownout_tower::{BoxError, GateLayer, Shed};
use support::Counter;
use tokio_test::{assert_pending, assert_ready_ok};
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_test::mock;

fn manager(clock: &ManualClock) -> DegradationManager {
    let mut openai = DependencyConfig::new(50.0);
    openai.breaker.failure_threshold = 1;
    openai.breaker.recovery_timeout = Duration::from_secs(30);
    DegradationManager::builder()
        .clock(clock.clone())
        .dependency("openai", openai)
        .dependency("database", DependencyConfig::new(50.0))
        .feature(
            "ai_suggestions",
            FeatureConfig::new(Level::Optimal).requires("openai"),
        )
        .feature("search", FeatureConfig::new(Level::Minimal))
        .build()
        .unwrap()
}

fn echo(counter: &Counter) -> impl Service<u32, Response = u32, Error = BoxError> + Clone + use<> {
    let counter = counter.clone();
    service_fn(move |n: u32| {
        counter.hit();
        async move { Ok::<_, BoxError>(n) }
    })
}

fn trip_openai(manager: &DegradationManager) {
    let openai = manager.breaker("openai").unwrap();
    let _ = openai.call_sync(|| Err::<(), _>("down"));
}

#[tokio::test]
async fn a_feature_held_off_by_an_open_dependency_names_it() {
    let clock = ManualClock::new();
    let manager = manager(&clock);
    let counter = Counter::default();
    let mut svc = ServiceBuilder::new()
        .layer(
            GateLayer::feature(&manager, "ai_suggestions")
                .unwrap()
                .retry_after(Duration::from_secs(7)),
        )
        .service(echo(&counter));

    assert_eq!(svc.ready().await.unwrap().call(1).await.unwrap(), 1);
    trip_openai(&manager);
    assert_eq!(manager.level(), Level::Minimal);

    let err = svc.ready().await.unwrap().call(2).await.unwrap_err();
    let shed = err.downcast_ref::<Shed>().expect("a Shed");
    assert_eq!(shed.feature(), Some("ai_suggestions"));
    assert_eq!(shed.level(), Level::Minimal);
    assert_eq!(shed.required_level(), Level::Optimal);
    assert_eq!(shed.dependency(), Some("openai"));
    assert!(matches!(
        shed.held_off(),
        HeldOff::Dependency { dependency, state: BreakerState::Open, retry_after: Some(left) }
            if dependency == "openai" && *left == Duration::from_secs(30)
    ));
    // The breaker's time to its next trial, not the configured hint.
    assert_eq!(shed.retry_after(), Duration::from_secs(30));
    assert_eq!(
        shed.to_string(),
        "feature `ai_suggestions` is off because dependency `openai` is open; retry after 30 s"
    );
    assert_eq!(counter.get(), 1);

    // The hint follows the breaker, rounded up in the message.
    clock.advance(Duration::from_millis(12_500));
    let err = svc.ready().await.unwrap().call(2).await.unwrap_err();
    let shed = err.downcast_ref::<Shed>().unwrap();
    assert_eq!(shed.retry_after(), Duration::from_millis(17_500));
    assert!(shed.to_string().ends_with("retry after 18 s"), "{shed}");

    // The dependency recovers: the feature is back on.
    clock.advance(Duration::from_millis(17_500));
    let openai = manager.breaker("openai").unwrap();
    openai.call_sync(|| Ok::<_, ()>(())).unwrap();
    assert_eq!(manager.level(), Level::Optimal);
    assert_eq!(svc.ready().await.unwrap().call(3).await.unwrap(), 3);
    assert_eq!(counter.get(), 2);
}

#[tokio::test]
async fn a_feature_held_off_by_the_level_names_the_level() {
    let clock = ManualClock::new();
    let manager = manager(&clock);
    let svc = GateLayer::feature(&manager, "ai_suggestions")
        .unwrap()
        .layer(echo(&Counter::default()));
    manager.force_level(Level::Degraded, None);
    let err = svc.oneshot(1).await.unwrap_err();
    let shed = err.downcast_ref::<Shed>().unwrap();
    assert_eq!(shed.dependency(), None);
    assert_eq!(
        shed.held_off(),
        &HeldOff::Level {
            level: Level::Degraded,
            required: Level::Optimal,
            retry_after: None,
        }
    );
    // No open breaker gives an estimate: the configured hint.
    assert_eq!(shed.retry_after(), DEFAULT_RETRY_AFTER);
    assert_eq!(
        shed.to_string(),
        "feature `ai_suggestions` is off at level DEGRADED (it needs OPTIMAL); retry after 5 s"
    );
}

#[tokio::test]
async fn a_level_gate_sheds_below_its_minimum() {
    let clock = ManualClock::new();
    let manager = manager(&clock);
    let counter = Counter::default();
    let mut svc = GateLayer::min_level(&manager, Level::Limited).layer(echo(&counter));

    assert_eq!(svc.ready().await.unwrap().call(1).await.unwrap(), 1);
    manager.force_level(Level::Limited, None);
    assert_eq!(svc.ready().await.unwrap().call(2).await.unwrap(), 2);
    manager.force_level(Level::Minimal, None);
    let err = svc.ready().await.unwrap().call(3).await.unwrap_err();
    let shed = err.downcast_ref::<Shed>().unwrap();
    assert_eq!(shed.feature(), None);
    assert_eq!(shed.level(), Level::Minimal);
    assert_eq!(shed.required_level(), Level::Limited);
    assert_eq!(shed.retry_after(), DEFAULT_RETRY_AFTER);
    assert_eq!(
        shed.to_string(),
        "level MINIMAL is below LIMITED; retry after 5 s"
    );
    assert_eq!(counter.get(), 2);

    // An override that runs out is noticed by the gate itself.
    manager.force_level(Level::Emergency, Some(Duration::from_secs(10)));
    assert!(svc.ready().await.unwrap().call(4).await.is_err());
    clock.advance(Duration::from_secs(10));
    assert_eq!(svc.ready().await.unwrap().call(5).await.unwrap(), 5);
}

#[tokio::test]
async fn a_level_gate_retries_at_the_soonest_trial_never_at_zero() {
    let clock = ManualClock::new();
    let manager = manager(&clock);
    let svc = GateLayer::min_level(&manager, Level::Limited).layer(echo(&Counter::default()));
    trip_openai(&manager);
    assert_eq!(manager.level(), Level::Minimal);

    let err = svc.clone().oneshot(1).await.unwrap_err();
    let shed = err.downcast_ref::<Shed>().unwrap();
    assert_eq!(shed.retry_after(), Duration::from_secs(30));
    assert!(matches!(shed.held_off(), HeldOff::Level { .. }));

    // The trial is due: no time left, but never "retry after 0".
    clock.advance(Duration::from_secs(30));
    let err = svc.oneshot(1).await.unwrap_err();
    let shed = err.downcast_ref::<Shed>().unwrap();
    assert_eq!(shed.retry_after(), Duration::ZERO);
    assert!(shed.to_string().ends_with("retry after 1 s"), "{shed}");
}

#[test]
fn an_unknown_feature_is_an_error_at_startup() {
    let manager = manager(&ManualClock::new());
    let err = GateLayer::feature(&manager, "ai_sugestions").unwrap_err();
    assert_eq!(err.name(), "ai_sugestions");
}

#[tokio::test]
async fn readiness_delegates_and_a_closed_gate_never_waits() {
    let clock = ManualClock::new();
    let manager = manager(&clock);
    let (mut svc, mut handle) =
        mock::spawn_layer::<u32, u32, _>(GateLayer::feature(&manager, "ai_suggestions").unwrap());

    handle.allow(0);
    assert_pending!(svc.poll_ready());

    trip_openai(&manager);
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let err = svc.call(1).await.unwrap_err();
    assert!(err.is::<Shed>());
    assert!(
        handle.poll_request().is_pending(),
        "the inner service was not called"
    );
}

#[tokio::test]
async fn clones_read_the_same_gate() {
    let clock = ManualClock::new();
    let manager = manager(&clock);
    let counter = Counter::default();
    let svc = GateLayer::feature(&manager, "ai_suggestions")
        .unwrap()
        .layer(echo(&counter));
    let clone = svc.clone();
    trip_openai(&manager);
    assert!(svc.oneshot(1).await.unwrap_err().is::<Shed>());
    assert!(clone.oneshot(1).await.unwrap_err().is::<Shed>());
    assert_eq!(counter.get(), 0);
}
