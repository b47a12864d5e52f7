//! What is stored in Redis: key names, the override record and a replica's
//! heartbeat. JSON, versioned, small.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use brownout::{BreakerState, Level};
use serde::{Deserialize, Serialize};

/// Every key and channel of one fleet, under its prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// The fleet override (a string with a TTL).
    pub(crate) override_key: String,
    /// Notifications: a message means "read the fleet state again".
    pub(crate) channel: String,
    /// The set of replica ids that have heartbeated (pruned of expired ones).
    pub(crate) replicas: String,
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Keys {
            override_key: format!("{prefix}:override"),
            channel: format!("{prefix}:events"),
            replicas: format!("{prefix}:replicas"),
            prefix: prefix.to_owned(),
        }
    }

    /// One replica's heartbeat key (expires after the heartbeat TTL).
    pub(crate) fn replica(&self, id: &str) -> String {
        format!("{}:replica:{id}", self.prefix)
    }
}

/// The value of the override key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum OverrideRecord {
    /// Force `level` on every replica until the key's TTL ends.
    Set {
        id: String,
        level: Level,
        #[serde(default)]
        by: String,
    },
    /// The override `id` was cleared (a tombstone, kept as long as the
    /// override it ends would have lived, so replicas that were away learn it).
    Cleared {
        id: String,
        #[serde(default)]
        by: String,
    },
}

impl OverrideRecord {
    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// What a replica reports about one of its breakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportedState {
    /// Closed: calls flow.
    Closed,
    /// Open on the replica's own evidence (its calls or trials failed):
    /// the only state that counts toward a quorum.
    Open,
    /// Open because the quorum opened it ([`brownout::TripCause::Peers`]):
    /// not counted, or a quorum could keep itself alive.
    OpenByPeers,
    /// Half-open: trials are deciding.
    HalfOpen,
    /// Forced open by hand on that replica: a local decision, not counted.
    ForcedOpen,
    /// Switched off by hand on that replica.
    Disabled,
    /// A state this version does not know (a newer replica).
    #[serde(other)]
    Unknown,
}

impl ReportedState {
    /// The report for a breaker state; `by_peers` for an open breaker
    /// whose last trip was [`brownout::TripCause::Peers`].
    pub(crate) fn of(state: BreakerState, by_peers: bool) -> Self {
        match state {
            BreakerState::Closed => ReportedState::Closed,
            BreakerState::Open if by_peers => ReportedState::OpenByPeers,
            BreakerState::Open => ReportedState::Open,
            BreakerState::HalfOpen => ReportedState::HalfOpen,
            BreakerState::ForcedOpen => ReportedState::ForcedOpen,
            BreakerState::Disabled => ReportedState::Disabled,
        }
    }

    /// Whether it counts as an "open" vote toward a quorum.
    #[must_use]
    pub fn counts_as_open(self) -> bool {
        self == ReportedState::Open
    }
}

/// The value of a replica's heartbeat key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Heartbeat {
    /// Format version.
    pub(crate) v: u32,
    pub(crate) id: String,
    /// The replica's effective level when it wrote this.
    pub(crate) level: Option<Level>,
    /// Its breakers (empty when it does not share breakers).
    #[serde(default)]
    pub(crate) breakers: BTreeMap<String, ReportedState>,
    /// Whether it shares breaker knowledge.
    #[serde(default)]
    pub(crate) shared_breakers: bool,
}

impl Heartbeat {
    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A fresh random id (64 bits, hex) for an override.
pub(crate) fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let set = OverrideRecord::Set {
            id: "ab".into(),
            level: Level::Limited,
            by: "ops".into(),
        };
        assert_eq!(
            set.encode(),
            r#"{"op":"set","id":"ab","level":"LIMITED","by":"ops"}"#
        );
        assert_eq!(OverrideRecord::decode(&set.encode()), Some(set));
        let cleared = OverrideRecord::Cleared {
            id: "ab".into(),
            by: String::new(),
        };
        assert_eq!(OverrideRecord::decode(&cleared.encode()), Some(cleared));
        assert_eq!(OverrideRecord::decode("LIMITED"), None);
        assert_eq!(
            OverrideRecord::decode(r#"{"op":"set","id":"x","level":"SOMEWHAT"}"#),
            None
        );
    }

    #[test]
    fn heartbeats_tolerate_newer_states() {
        let hb = Heartbeat::decode(
            r#"{"v":1,"id":"a","level":"OPTIMAL","breakers":{"db":"open","x":"melted"},"extra":1}"#,
        )
        .unwrap();
        assert_eq!(hb.breakers["db"], ReportedState::Open);
        assert_eq!(hb.breakers["x"], ReportedState::Unknown);
    }

    #[test]
    fn ids_differ() {
        assert_ne!(new_id(), new_id());
        assert_eq!(new_id().len(), 16);
    }
}
