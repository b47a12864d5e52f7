//! A simulated outage walking the reference deployment through the levels.
//!
//! Loads `examples/brownout.toml` (openai 50, database 30, redis 15,
//! s3 5; sixteen features), then fails the dependencies one by one and brings
//! them back, printing the score, the level and the features still on after
//! every step. Time is a `ManualClock`, so the half-hour outage plays in an
//! instant.
//!
//! Run: `cargo run -p brownout-examples --example demo`

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerState, Config, DegradationManager, Level};

const REFERENCE: &str = include_str!("../brownout.toml");

/// An operator reloads the config mid-outage: the database matters less
/// than thought, so its weight drops from 30 to 10. The breakers keep their
/// state; the score and the level follow at once. Then it goes back.
fn reload(manager: &DegradationManager, show: &dyn Fn(&str)) -> Result<(), brownout::ConfigError> {
    for (weight, step) in [
        (10.0, "reload: database weight 30 -> 10 (breakers kept)"),
        (30.0, "reload: database weight back to 30"),
    ] {
        let mut config = manager.config();
        if let Some(database) = config.dependencies.get_mut("database") {
            database.weight = weight;
        }
        manager.reconfigure(config)?;
        show(step);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new();
    let manager = DegradationManager::builder()
        .config(Config::from_toml_str(REFERENCE)?)
        .clock(clock.clone())
        .build()?;
    let dep = |name: &str| -> Result<Breaker, String> {
        manager.breaker(name).map_err(|e| e.to_string())
    };

    println!("{:<52} {:>6}  {:<9} features on", "step", "score", "level");
    let show = |step: &str| {
        let on = manager.enabled_features();
        println!(
            "{step:<52} {:>6.1}  {:<9} {:>2}/16 {}",
            manager.health_score(),
            manager.level().to_string(),
            on.len(),
            if on.is_empty() {
                "(status page only)".to_owned()
            } else {
                String::new()
            },
        );
    };
    show("all dependencies healthy");

    // The outage: each dependency fails until its breaker opens.
    for (name, step) in [
        ("database", "database fails 3 times: breaker opens"),
        ("s3", "s3 fails 4 times: breaker opens"),
        ("redis", "redis fails 5 times: breaker opens"),
        ("openai", "openai fails 5 times: breaker opens"),
    ] {
        let breaker = dep(name)?;
        while !breaker.state().is_open() {
            let _ = breaker.call_sync(|| Err::<(), _>("connection refused"));
        }
        show(step);
        if name == "redis" {
            reload(&manager, &show)?;
        }
    }

    // Calls to an open dependency fail fast, without running.
    let rejected = dep("openai")?
        .call_sync(|| Ok::<_, &str>("never runs"))
        .expect_err("open breaker rejects");
    println!("  {rejected}");

    // Recovery: once its recovery timeout has elapsed, a dependency's next
    // calls are half-open trials; enough successes close the breaker.
    let mut now = 0;
    for (name, at) in [("redis", 15), ("database", 20), ("s3", 25), ("openai", 30)] {
        clock.advance(Duration::from_secs(at - now));
        now = at;
        let breaker = dep(name)?;
        while breaker.state() != BreakerState::Closed {
            breaker.call_sync(|| Ok::<_, std::io::Error>(()))?;
            show(&format!(
                "t={at}s: {name} trial call succeeds, now {}",
                breaker.state()
            ));
        }
    }

    assert_eq!(manager.level(), Level::Optimal);
    println!(
        "\nback to OPTIMAL with all {} features on",
        manager.enabled_features().len()
    );
    Ok(())
}
