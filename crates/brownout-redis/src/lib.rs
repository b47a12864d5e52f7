//! Fleet coordination for [`brownout`] over Redis: the replicas of a
//! service act as one, with nothing on the call path.
//!
//! - **Fleet-wide override.** [`FleetOperator::force_level`] (or
//!   [`Fleet::force_level`]) stores an override with a TTL in Redis and
//!   notifies every replica; each applies it to its manager within a
//!   second (subscription, with a poll of the key every 500 ms as a
//!   backstop) with the time left, and drops it when the TTL ends (on its
//!   own clock, even with Redis gone) or when it is cleared.
//! - **Shared breaker knowledge** (off by default, `shared_breakers`). Each
//!   replica heartbeats its breakers' open/closed view; when at least a
//!   `quorum` share of the live replicas, and at least `min_replicas` of
//!   them, report a dependency open on their own evidence, the others open
//!   their breaker with [`Breaker::trip_by_peers`](brownout::Breaker::trip_by_peers)
//!   and recover from it through their own half-open trials and probes.
//! - **Nothing on the call path.** Breaker calls and feature gates never
//!   touch Redis: one background tokio task per replica does all the
//!   talking, with a deadline on every command. Redis down, slow or paused
//!   makes the replica fall back to its own view; the connection heals by
//!   itself.
//!
//! ```no_run
//! use std::time::Duration;
//! use brownout::{DegradationManager, Level};
//! use brownout_redis::{Fleet, FleetConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let source = r#"
//!     [dependencies.database]
//!     weight = 50
//!     [dependencies.openai]
//!     weight = 50
//!
//!     [fleet]
//!     url = "redis://127.0.0.1:6379/"
//!     prefix = "brownout:checkout"
//!     shared_breakers = true
//! "#;
//! // One file for both: the core skips [fleet], the fleet reads only it.
//! let manager = DegradationManager::from_toml_str(source)?;
//! let _probes = manager.spawn_background()?;
//! let fleet = Fleet::start(&manager, FleetConfig::from_toml_str(source)?).await?;
//!
//! // An operator forces LIMITED on every replica for ten minutes.
//! fleet.force_level(Level::Limited, Duration::from_secs(600)).await?;
//!
//! // What this replica knows about its fleet, for a status page.
//! let status = fleet.status();
//! println!("{}", serde_json::to_string_pretty(&status)?);
//!
//! fleet.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The design, its consistency and staleness bounds, and measured
//! propagation times are in `docs/fleet.md`.

mod config;
mod conn;
mod error;
mod fleet;
mod operator;
mod quorum;
mod status;
mod wire;

pub use config::{FleetConfig, OnUnreachable};
pub use error::{FleetConfigError, FleetError};
pub use fleet::{Fleet, OVERRIDE_SOURCE};
pub use operator::{FleetOperator, FleetOverride};
pub use status::{
    DecisionAction, FleetOverrideStatus, FleetStatus, QuorumDecision, QuorumSettings, ReplicaStatus,
};
pub use wire::ReportedState;
