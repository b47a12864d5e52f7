//! The fleet override from the command line, without a manager:
//!
//! ```sh
//! cargo run -p brownout-redis --example fleetctl -- force LIMITED 10m
//! cargo run -p brownout-redis --example fleetctl -- show
//! cargo run -p brownout-redis --example fleetctl -- clear
//! ```
//!
//! `REDIS_URL` (default `redis://127.0.0.1:6379/`) and `BROWNOUT_PREFIX`
//! (default `brownout`) say which fleet.

use std::process::ExitCode;

use brownout::Level;
use brownout_redis::FleetOperator;

const USAGE: &str = "usage: fleetctl force LEVEL TTL | clear | show";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fleetctl: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    let prefix = std::env::var("BROWNOUT_PREFIX").unwrap_or_else(|_| "brownout".to_owned());
    let operator = FleetOperator::new(&url, &prefix).map_err(|e| e.to_string())?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["force", level, ttl] => {
            let level: Level = level.parse().map_err(|e| format!("{e}"))?;
            let ttl = humantime::parse_duration(ttl).map_err(|e| format!("TTL {ttl:?}: {e}"))?;
            let set = operator
                .force_level(level, ttl)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "forced {} on fleet {prefix:?} for {} (id {})",
                set.level,
                humantime::format_duration(ttl),
                set.id
            );
        }
        ["clear"] => match operator.clear_override().await.map_err(|e| e.to_string())? {
            Some(cleared) => println!("cleared {} (id {})", cleared.level, cleared.id),
            None => println!("no fleet override to clear"),
        },
        ["show"] => {
            match operator
                .current_override()
                .await
                .map_err(|e| e.to_string())?
            {
                Some(o) => println!(
                    "override: {} set by {} ({:?} left)",
                    o.level, o.set_by, o.expires_in
                ),
                None => println!("override: none"),
            }
            for replica in operator.replicas().await.map_err(|e| e.to_string())? {
                let level = replica.level.map(|l| l.to_string()).unwrap_or_default();
                println!(
                    "replica {:<24} {level:<9} open: {:?}",
                    replica.id,
                    replica.open()
                );
            }
        }
        _ => return Err(USAGE.to_owned()),
    }
    Ok(())
}
