//! What a replica knows about its fleet, for status pages and logs.

use std::collections::BTreeMap;
use std::time::Duration;

use brownout::{BreakerState, Level};
use serde::{Serialize, Serializer};

use crate::wire::ReportedState;

/// What this replica knows about its fleet: the connection, the live
/// replicas, the fleet override and the quorum's decisions.
/// Serialises to JSON (durations in milliseconds, `*_ms`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FleetStatus {
    /// This replica's id.
    pub replica_id: String,
    /// The key prefix (the fleet's namespace).
    pub prefix: String,
    /// Whether the last Redis command succeeded.
    pub connected: bool,
    /// Time since the last successful exchange with Redis (`None`: never).
    #[serde(rename = "last_contact_ago_ms", serialize_with = "millis_opt")]
    pub last_contact_ago: Option<Duration>,
    /// The last error, while disconnected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Whether breaker knowledge is shared (`shared_breakers`).
    pub shared_breakers: bool,
    /// The quorum share and the least number of replicas reporting open.
    pub quorum: QuorumSettings,
    /// The live replicas, this one included, in id order. Peers are those
    /// whose heartbeat had not expired at the last successful read; once
    /// that read is older than the heartbeat TTL (Redis unreachable), only
    /// this replica is listed.
    pub live_replicas: Vec<ReplicaStatus>,
    /// The fleet override this replica knows of, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_override: Option<FleetOverrideStatus>,
    /// The latest quorum decisions, newest first (at most 32).
    pub decisions: Vec<QuorumDecision>,
}

/// The quorum rule in force.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuorumSettings {
    /// The share of live replicas (this one included) that must report a
    /// dependency open.
    pub share: f64,
    /// The least number of replicas that must report it open.
    pub min_replicas: usize,
}

/// One live replica as last read from Redis (this one: as it is now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// Its id.
    pub id: String,
    /// Whether it is this replica.
    pub is_self: bool,
    /// Its effective level, as it reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Its breakers as it reported them (empty unless it shares breakers).
    pub breakers: BTreeMap<String, ReportedState>,
}

impl ReplicaStatus {
    /// The dependencies it reports open on its own evidence (the ones that
    /// count toward a quorum).
    #[must_use]
    pub fn open(&self) -> Vec<&str> {
        self.breakers
            .iter()
            .filter(|(_, s)| s.counts_as_open())
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// The fleet override this replica last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FleetOverrideStatus {
    /// The override's id (each `force_level` makes a new one).
    pub id: String,
    /// The level it forces.
    pub level: Level,
    /// Who set it, as the operator named itself.
    pub set_by: String,
    /// Time left, as this replica counts it (`None`: no TTL).
    #[serde(rename = "expires_in_ms", serialize_with = "millis_opt")]
    pub expires_in: Option<Duration>,
    /// Whether it is the override in force on this replica's manager now
    /// (`false` once a local operator override replaced it).
    pub in_force: bool,
}

/// One quorum decision: when this replica acted on its peers' word, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct QuorumDecision {
    /// The dependency.
    pub dependency: String,
    /// The replicas that reported it open on their own evidence.
    pub replicas_open: Vec<String>,
    /// The live replicas that reported the dependency at all, this one included.
    pub replicas_live: usize,
    /// `replicas_open / replicas_live`.
    pub share: f64,
    /// What this replica did.
    pub action: DecisionAction,
    /// How long ago (milliseconds in JSON).
    #[serde(rename = "ago_ms", serialize_with = "millis")]
    pub ago: Duration,
}

/// What a replica did on a quorum decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecisionAction {
    /// The quorum was reached and the local breaker, closed, was opened
    /// with `trip_by_peers` (`TripCause::Peers`).
    Tripped,
    /// The quorum was reached but the local breaker was not closed, so it
    /// was left alone.
    NotClosed {
        /// The local breaker's state.
        state: BreakerState,
    },
    /// The quorum no longer holds. Nothing is forced closed: local
    /// recovery (trials, probes) decides.
    Released,
}

fn millis<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
}

#[allow(clippy::ref_option)] // serde's serialize_with passes &Option<T>
fn millis_opt<S: Serializer>(value: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => millis(d, serializer),
        None => serializer.serialize_none(),
    }
}
