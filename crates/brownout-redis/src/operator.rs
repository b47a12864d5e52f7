//! The operator's side: set, clear and read the fleet override, list the
//! live replicas. Needs no manager.

use std::time::Duration;

use brownout::Level;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::config::FleetConfig;
use crate::conn::Link;
use crate::error::FleetError;
use crate::status::ReplicaStatus;
use crate::wire::{Heartbeat, Keys, OverrideRecord, new_id};

/// Reads, in one atomic round trip: the override and its PTTL, and every
/// live replica's heartbeat. Ids whose heartbeat expired are pruned from
/// the set of replicas on the way (inside the script, so a replica that
/// heartbeats concurrently is never pruned).
const READ_SCRIPT: &str = r"
local ids = redis.call('SMEMBERS', KEYS[2])
local beats = {}
for _, id in ipairs(ids) do
  local beat = redis.call('GET', ARGV[1] .. id)
  if beat then
    table.insert(beats, beat)
  else
    redis.call('SREM', KEYS[2], id)
  end
end
return {redis.call('GET', KEYS[1]) or false, redis.call('PTTL', KEYS[1]), beats}
";

/// Clears the override: replaces a `set` record by a `cleared` tombstone
/// that lives as long as the override would have (at least 1 s), so that
/// replicas that were away learn it was cleared, and publishes a
/// notification. Returns the record it cleared, or nil.
const CLEAR_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return false end
local ok, record = pcall(cjson.decode, current)
if not ok or type(record) ~= 'table' or record.op ~= 'set' then return false end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 3600000 end
if ttl < 1000 then ttl = 1000 end
local tombstone = cjson.encode({op = 'cleared', id = record.id, by = ARGV[1]})
redis.call('SET', KEYS[1], tombstone, 'PX', ttl)
redis.call('PUBLISH', KEYS[2], 'override')
return current
";

/// A fleet override as stored in Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FleetOverride {
    /// Its id: every `force_level` makes a new one.
    pub id: String,
    /// The level it forces on every replica.
    pub level: Level,
    /// Who set it.
    pub set_by: String,
    /// Time left (`None`: the key has no TTL, which this crate never writes).
    #[serde(rename = "expires_in_ms", serialize_with = "millis_opt")]
    pub expires_in: Option<Duration>,
}

#[allow(clippy::ref_option)] // serde's serialize_with passes &Option<T>
fn millis_opt<S: serde::Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => serializer.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        None => serializer.serialize_none(),
    }
}

/// What one read of the fleet's keys returned.
#[derive(Debug, Clone, Default)]
pub(crate) struct FleetRead {
    pub(crate) record: Option<OverrideRecord>,
    /// The override key's time left (`None`: no TTL or no key).
    pub(crate) pttl: Option<Duration>,
    /// Every live replica's heartbeat (this one's too).
    pub(crate) heartbeats: Vec<Heartbeat>,
}

pub(crate) async fn read_fleet(link: &mut Link, keys: &Keys) -> Result<FleetRead, FleetError> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(READ_SCRIPT)
        .arg(2)
        .arg(&keys.override_key)
        .arg(&keys.replicas)
        .arg(keys.replica(""));
    let (record, pttl, beats): (Option<String>, i64, Vec<String>) = link.cmd(&cmd).await?;
    let record = record.and_then(|text| {
        let decoded = OverrideRecord::decode(&text);
        if decoded.is_none() {
            tracing::warn!(target: "brownout_redis", key = %keys.override_key, value = %text.chars().take(200).collect::<String>(), "ignoring an override record this version cannot read");
        }
        decoded
    });
    let pttl = u64::try_from(pttl).ok().map(Duration::from_millis);
    let heartbeats = beats.iter().filter_map(|b| Heartbeat::decode(b)).collect();
    Ok(FleetRead {
        record,
        pttl,
        heartbeats,
    })
}

/// Sets and clears the fleet override and lists the live replicas, from
/// anywhere: an admin endpoint, a CLI, a test. It needs no
/// [`DegradationManager`](brownout::DegradationManager); every replica
/// running a [`Fleet`](crate::Fleet) under the same prefix applies what it
/// writes within a second.
///
/// Connects lazily; every command has a deadline (1 s by default) and a
/// failed one reconnects on the next call.
///
/// ```no_run
/// use std::time::Duration;
/// use brownout::Level;
/// use brownout_redis::FleetOperator;
///
/// # async fn run() -> Result<(), brownout_redis::FleetError> {
/// let operator = FleetOperator::new("redis://127.0.0.1:6379/", "brownout:checkout")?
///     .with_name("alice");
/// let set = operator.force_level(Level::Limited, Duration::from_secs(600)).await?;
/// println!("forced {} fleet-wide as {}", set.level, set.id);
/// operator.clear_override().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FleetOperator {
    link: Mutex<Link>,
    keys: Keys,
    name: String,
}

impl FleetOperator {
    /// An operator for the fleet under `prefix` in the Redis at `url`.
    ///
    /// # Errors
    /// [`FleetError::InvalidUrl`] for a URL that cannot be used,
    /// [`FleetError::Config`] for an invalid prefix.
    pub fn new(url: &str, prefix: &str) -> Result<Self, FleetError> {
        let config = FleetConfig::new(url).with_prefix(prefix);
        config.validate()?;
        Ok(FleetOperator {
            link: Mutex::new(Link::open(url, Duration::from_secs(1))?),
            keys: Keys::new(prefix),
            name: format!("operator@{}", crate::config::default_replica_id()),
        })
    }

    /// An operator for the fleet a [`FleetConfig`] describes.
    ///
    /// # Errors
    /// As [`new`](Self::new), and for an invalid configuration.
    pub fn from_config(config: &FleetConfig) -> Result<Self, FleetError> {
        config.validate()?;
        Self::new(&config.url, &config.prefix)
    }

    /// Names who sets overrides (shown in every replica's
    /// [`FleetStatus`](crate::FleetStatus) and logs). Default
    /// `operator@HOSTNAME-PID`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the deadline of each command (default 1 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.link
            .get_mut()
            .set_timeout(timeout.max(Duration::from_millis(1)));
        self
    }

    /// Forces `level` on every replica for `ttl`: stores the override
    /// with that TTL (so replicas that start later see it) and notifies the
    /// replicas, in one transaction. A later `force_level` replaces it.
    ///
    /// # Errors
    /// [`FleetError::InvalidTtl`] for a zero TTL; [`FleetError::Unreachable`]
    /// or [`FleetError::Command`] when Redis did not take it.
    pub async fn force_level(
        &self,
        level: Level,
        ttl: Duration,
    ) -> Result<FleetOverride, FleetError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            return Err(FleetError::InvalidTtl(ttl));
        }
        let id = new_id();
        let record = OverrideRecord::Set {
            id: id.clone(),
            level,
            by: self.name.clone(),
        };
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&self.keys.override_key)
            .arg(record.encode())
            .arg("PX")
            .arg(millis)
            .ignore()
            .cmd("PUBLISH")
            .arg(&self.keys.channel)
            .arg("override")
            .ignore();
        self.link.lock().await.pipe::<()>(&pipe).await?;
        tracing::info!(target: "brownout_redis", %level, ttl = %humantime::format_duration(ttl), %id, by = %self.name, "fleet override set");
        Ok(FleetOverride {
            id,
            level,
            set_by: self.name.clone(),
            expires_in: Some(ttl),
        })
    }

    /// Clears the fleet override: every replica whose override in force
    /// is the fleet's drops it. Returns the override it cleared (`None`:
    /// there was none).
    ///
    /// # Errors
    /// [`FleetError::Unreachable`] or [`FleetError::Command`] when Redis
    /// did not take it.
    pub async fn clear_override(&self) -> Result<Option<FleetOverride>, FleetError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(CLEAR_SCRIPT)
            .arg(2)
            .arg(&self.keys.override_key)
            .arg(&self.keys.channel)
            .arg(&self.name);
        let cleared: Option<String> = self.link.lock().await.cmd(&cmd).await?;
        let cleared = cleared
            .and_then(|text| OverrideRecord::decode(&text))
            .and_then(|record| match record {
                OverrideRecord::Set { id, level, by } => Some(FleetOverride {
                    id,
                    level,
                    set_by: by,
                    expires_in: None,
                }),
                OverrideRecord::Cleared { .. } => None,
            });
        if let Some(cleared) = &cleared {
            tracing::info!(target: "brownout_redis", level = %cleared.level, id = %cleared.id, by = %self.name, "fleet override cleared");
        }
        Ok(cleared)
    }

    /// The fleet override in force in Redis, if any.
    ///
    /// # Errors
    /// [`FleetError::Unreachable`] or [`FleetError::Command`].
    pub async fn current_override(&self) -> Result<Option<FleetOverride>, FleetError> {
        let read = read_fleet(&mut *self.link.lock().await, &self.keys).await?;
        Ok(match read.record {
            Some(OverrideRecord::Set { id, level, by }) => Some(FleetOverride {
                id,
                level,
                set_by: by,
                expires_in: read.pttl,
            }),
            _ => None,
        })
    }

    /// Every live replica (heartbeat not expired), in id order, as it
    /// last reported itself.
    ///
    /// # Errors
    /// [`FleetError::Unreachable`] or [`FleetError::Command`].
    pub async fn replicas(&self) -> Result<Vec<ReplicaStatus>, FleetError> {
        let read = read_fleet(&mut *self.link.lock().await, &self.keys).await?;
        let mut replicas: Vec<ReplicaStatus> = read
            .heartbeats
            .into_iter()
            .map(|hb| ReplicaStatus {
                id: hb.id,
                is_self: false,
                level: hb.level,
                breakers: hb.breakers,
            })
            .collect();
        replicas.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(replicas)
    }
}
