//! A tower client stack for one flaky dependency: `ServiceBuilder` +
//! `BreakerLayer::from_manager`, with the breaker owned by a
//! `DegradationManager` so the service's level follows it. The dependency's
//! `call_timeout` (100 ms) is applied by the layer itself: a hung call is
//! dropped at the deadline, answered `CallTimedOut` and counted as a failure.
//!
//! Run with `cargo run -p brownout-examples --example tower_client`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brownout::{DegradationManager, DependencyConfig, FeatureConfig, Level};
use brownout_tower::{BoxError, BreakerLayer, CallTimedOut, CircuitOpen};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

/// What the scripted dependency does on each call it receives.
#[derive(Clone, Copy, Debug)]
enum Step {
    Answer,
    Fail,
    Hang,
}

/// The dependency's script: healthy, then a hang and two errors (three
/// failures in a row open the breaker), then healthy again.
const SCRIPT: [Step; 6] = [
    Step::Answer,
    Step::Answer,
    Step::Hang,
    Step::Fail,
    Step::Fail,
    Step::Answer,
];

const RECOVERY: Duration = Duration::from_millis(500);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let mut inventory = DependencyConfig::new(30.0);
    inventory.breaker.failure_threshold = 3;
    inventory.breaker.recovery_timeout = RECOVERY;
    inventory.breaker.half_open_max_calls = 1;
    inventory.breaker.call_timeout = Some(Duration::from_millis(100));
    let manager = DegradationManager::builder()
        .dependency("inventory_api", inventory)
        .dependency("database", DependencyConfig::new(70.0))
        .feature(
            "live_stock",
            FeatureConfig::new(Level::Optimal).requires("inventory_api"),
        )
        .build()?;

    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let flaky = service_fn(move |sku: u32| {
        let step = SCRIPT[counter.fetch_add(1, Ordering::SeqCst) % SCRIPT.len()];
        async move {
            match step {
                Step::Answer => Ok(format!("sku {sku}: 12 in stock")),
                Step::Fail => Err(BoxError::from("502 bad gateway")),
                Step::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(format!("sku {sku}: too late"))
                }
            }
        }
    });

    let mut client = ServiceBuilder::new()
        .layer(BreakerLayer::from_manager(&manager, "inventory_api")?)
        .service(flaky);

    for sku in 1..=7 {
        send(&mut client, &manager, sku).await?;
    }
    println!(
        "the dependency was called {} times for 7 requests",
        calls.load(Ordering::SeqCst)
    );

    // The open path reads a coarse clock (a few milliseconds of resolution),
    // so wait a little past the recovery timeout.
    let wait = RECOVERY + Duration::from_millis(50);
    println!("waiting {wait:?} for the recovery timeout...");
    tokio::time::sleep(wait).await;
    for sku in 8..=9 {
        send(&mut client, &manager, sku).await?;
    }
    Ok(())
}

async fn send<S>(client: &mut S, manager: &DegradationManager, sku: u32) -> Result<(), BoxError>
where
    S: Service<u32, Response = String, Error = BoxError>,
{
    let result = client.ready().await?.call(sku).await;
    let what = match result {
        Ok(answer) => format!("ok: {answer}"),
        Err(err) => match err.downcast_ref::<CircuitOpen>() {
            Some(open) => format!(
                "rejected without calling it: `{}` is {}, retry after {}ms",
                open.dependency(),
                open.state(),
                open.retry_after().as_millis()
            ),
            None => match err.downcast_ref::<CallTimedOut>() {
                Some(late) => format!("failed: no answer within {:?}", late.timeout()),
                None => format!("failed: {err}"),
            },
        },
    };
    let breaker = manager.breaker("inventory_api").expect("configured");
    println!(
        "request {sku}: {what:<66} breaker={:<9} score={:>5.1} level={} live_stock={}",
        breaker.state().to_string(),
        manager.health_score(),
        manager.level(),
        if manager.is_enabled("live_stock") {
            "on"
        } else {
            "off"
        },
    );
    Ok(())
}
