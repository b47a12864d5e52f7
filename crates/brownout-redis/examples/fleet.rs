//! Three replicas of one service in one process, coordinating through the
//! Redis at `REDIS_URL` (default `redis://127.0.0.1:6379/`):
//!
//! ```sh
//! redis-server --port 6379 --save '' --appendonly no &
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run -p brownout-redis --example fleet
//! ```
//!
//! 1. replicas `a` and `b` see the database fail; the quorum (2 of 3)
//!    opens `c`'s database breaker too, with `TripCause::Peers`;
//! 2. an operator forces LIMITED fleet-wide for 10 s, then clears it.

use std::time::Duration;

use brownout::{DegradationManager, Level};
use brownout_redis::{Fleet, FleetConfig, FleetOperator, OnUnreachable};

const SERVICE: &str = r#"
[dependencies.database]
weight = 60
failure_threshold = 3
recovery_timeout = "30s"

[dependencies.openai]
weight = 40

[features.search]
min_level = "LIMITED"
requires = ["database"]

[fleet]
prefix = "brownout:example"
shared_breakers = true
quorum = 0.5
min_replicas = 2
on_unreachable = "fail"
"#;

fn show(replicas: &[(&str, DegradationManager, Fleet)]) {
    for (name, manager, fleet) in replicas {
        let status = fleet.status();
        let database = manager.breaker("database").expect("configured");
        let trip = database
            .snapshot()
            .last_trip
            .filter(|_| database.state() == brownout::BreakerState::Open)
            .map(|t| format!(" (tripped: {:?})", t.cause))
            .unwrap_or_default();
        println!(
            "  {name}: level {:<9} database {:<9}{trip} override {:<28} live replicas {} connected {}",
            manager.level().to_string(),
            database.state().to_string(),
            status
                .fleet_override
                .map(|o| format!("{} ({:?} left)", o.level, o.expires_in.unwrap_or_default()))
                .unwrap_or_else(|| "-".to_owned()),
            status.live_replicas.len(),
            status.connected,
        );
    }
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(700)).await;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    let base = FleetConfig::from_toml_str(SERVICE)?;
    let mut replicas = Vec::new();
    for name in ["a", "b", "c"] {
        let manager = DegradationManager::from_toml_str(SERVICE)?;
        let mut config = base.clone().with_replica_id(name);
        config.url.clone_from(&url);
        let fleet = match Fleet::start(&manager, config.with_on_unreachable(OnUnreachable::Fail))
            .await
        {
            Ok(fleet) => fleet,
            Err(error) => {
                eprintln!(
                    "cannot join the fleet: {error}\nstart one with: redis-server --port 6379 --save '' --appendonly no"
                );
                std::process::exit(2);
            }
        };
        replicas.push((name, manager, fleet));
    }
    settle().await;
    println!("three replicas, all healthy:");
    show(&replicas);

    println!("\n`a` and `b` see the database fail (2 of 3 live replicas: the quorum):");
    for (_, manager, _) in &replicas[..2] {
        let database = manager.breaker("database")?;
        for _ in 0..3 {
            let _ = database.call_sync(|| Err::<(), _>("connection refused"));
        }
    }
    settle().await;
    show(&replicas);
    if let Some(decision) = replicas[2].2.status().decisions.first() {
        println!("  c decided: {}", serde_json::to_string(decision)?);
    }

    println!("\nan operator forces LIMITED on the whole fleet for 10 s:");
    let operator = FleetOperator::new(&url, &base.prefix)?.with_name("example-operator");
    for (_, manager, _) in &replicas {
        manager.breaker("database")?.reset();
    }
    operator
        .force_level(Level::Limited, Duration::from_secs(10))
        .await?;
    settle().await;
    show(&replicas);

    println!("\ncleared:");
    operator.clear_override().await?;
    settle().await;
    show(&replicas);

    println!("\nc's fleet status as JSON:");
    println!("{}", serde_json::to_string_pretty(&replicas[2].2.status())?);
    for (_, _, fleet) in replicas {
        fleet.shutdown().await;
    }
    Ok(())
}
