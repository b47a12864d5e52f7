//! The `[fleet]` table: where Redis is, who this replica is, how often it
//! talks and how the quorum decides.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::FleetConfigError;

/// What [`Fleet::start`](crate::Fleet::start) does when Redis cannot be
/// reached at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnreachable {
    /// Start anyway: log a warning and keep retrying in the background (with
    /// backoff). The replica runs on its own view until Redis answers.
    #[default]
    Retry,
    /// Fail: `Fleet::start` returns [`FleetError::Unreachable`](crate::FleetError::Unreachable).
    Fail,
}

/// The fleet's configuration: the `[fleet]` table of a brownout TOML file,
/// or built in code.
///
/// ```
/// use std::time::Duration;
/// use brownout_redis::FleetConfig;
///
/// let config = FleetConfig::from_toml_str(r#"
///     [dependencies.database]       # the core's; ignored here
///     weight = 50
///
///     [fleet]
///     url = "redis://127.0.0.1:6379/"
///     replica_id = "web-1"
///     prefix = "brownout:checkout"
///     shared_breakers = true
///     quorum = 0.5
///     min_replicas = 2
/// "#)?;
/// assert_eq!(config.replica_id, "web-1");
/// assert_eq!(config.heartbeat_interval, Duration::from_secs(1));
/// assert_eq!(config.heartbeat_ttl(), Duration::from_secs(3));
///
/// // The same in code.
/// let config = FleetConfig::new("redis://127.0.0.1:6379/")
///     .with_replica_id("web-1")
///     .with_shared_breakers(true);
/// assert!(config.validate().is_ok());
/// # Ok::<(), brownout_redis::FleetConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct FleetConfig {
    /// The Redis URL, `redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path`. TLS (`rediss://`) is not supported.
    pub url: String,
    /// This replica's name in the fleet; unique per replica. Defaults to
    /// `HOSTNAME-PID`.
    pub replica_id: String,
    /// The namespace of every key and channel, so several services (or
    /// environments) share one Redis. Default `brownout`.
    pub prefix: String,
    /// How often the replica refreshes its heartbeat (and its breakers'
    /// view). Default 1 s.
    #[serde(deserialize_with = "duration")]
    pub heartbeat_interval: Duration,
    /// How long a heartbeat counts: a replica whose last heartbeat is older
    /// is not live. Must exceed both the heartbeat and the poll interval.
    /// Default: three heartbeat intervals.
    #[serde(deserialize_with = "optional_duration")]
    pub heartbeat_ttl: Option<Duration>,
    /// How often the replica reads the fleet's state even without a
    /// notification (the backstop of the subscription). Default 500 ms.
    #[serde(deserialize_with = "duration")]
    pub poll_interval: Duration,
    /// How often the local breakers' states are sampled (one atomic load
    /// each) for the shared view. Default 150 ms.
    #[serde(deserialize_with = "duration")]
    pub breaker_poll_interval: Duration,
    /// The deadline of every Redis command and connection attempt.
    /// Default 250 ms.
    #[serde(deserialize_with = "duration")]
    pub command_timeout: Duration,
    /// Share breaker knowledge through the quorum. Off by default.
    pub shared_breakers: bool,
    /// The share of live replicas (this one included) that must report a
    /// dependency open for the others to open it too, in (0, 1].
    /// Default 0.5.
    pub quorum: f64,
    /// The least number of replicas that must report a dependency open,
    /// whatever the share, so one bad replica cannot open the fleet's
    /// breakers. Default 2.
    pub min_replicas: usize,
    /// What to do when Redis cannot be reached at startup. Default `retry`.
    pub on_unreachable: OnUnreachable,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            url: "redis://127.0.0.1:6379/".to_owned(),
            replica_id: default_replica_id(),
            prefix: "brownout".to_owned(),
            heartbeat_interval: Duration::from_secs(1),
            heartbeat_ttl: None,
            poll_interval: Duration::from_millis(500),
            breaker_poll_interval: Duration::from_millis(150),
            command_timeout: Duration::from_millis(250),
            shared_breakers: false,
            quorum: 0.5,
            min_replicas: 2,
            on_unreachable: OnUnreachable::Retry,
        }
    }
}

/// The longest replica id or prefix accepted, in bytes.
const MAX_NAME: usize = 200;

impl FleetConfig {
    /// The defaults, with `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        FleetConfig {
            url: url.into(),
            ..FleetConfig::default()
        }
    }

    /// Sets [`replica_id`](Self::replica_id).
    #[must_use]
    pub fn with_replica_id(mut self, id: impl Into<String>) -> Self {
        self.replica_id = id.into();
        self
    }

    /// Sets [`prefix`](Self::prefix).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`shared_breakers`](Self::shared_breakers).
    #[must_use]
    pub fn with_shared_breakers(mut self, on: bool) -> Self {
        self.shared_breakers = on;
        self
    }

    /// Sets [`quorum`](Self::quorum) and [`min_replicas`](Self::min_replicas).
    #[must_use]
    pub fn with_quorum(mut self, share: f64, min_replicas: usize) -> Self {
        self.quorum = share;
        self.min_replicas = min_replicas;
        self
    }

    /// Sets [`heartbeat_interval`](Self::heartbeat_interval) and
    /// [`heartbeat_ttl`](Self::heartbeat_ttl) (`None`: three intervals).
    #[must_use]
    pub fn with_heartbeat(mut self, interval: Duration, ttl: Option<Duration>) -> Self {
        self.heartbeat_interval = interval;
        self.heartbeat_ttl = ttl;
        self
    }

    /// Sets [`poll_interval`](Self::poll_interval).
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets [`command_timeout`](Self::command_timeout).
    #[must_use]
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Sets [`on_unreachable`](Self::on_unreachable).
    #[must_use]
    pub fn with_on_unreachable(mut self, on_unreachable: OnUnreachable) -> Self {
        self.on_unreachable = on_unreachable;
        self
    }

    /// The heartbeat's time to live: [`heartbeat_ttl`](Self::heartbeat_ttl),
    /// or three heartbeat intervals.
    #[must_use]
    pub fn heartbeat_ttl(&self) -> Duration {
        self.heartbeat_ttl
            .unwrap_or_else(|| self.heartbeat_interval.saturating_mul(3))
    }

    /// Reads the `[fleet]` table of a brownout TOML file and validates it.
    /// Every other table is ignored (the core's [`brownout::Config`] skips
    /// `[fleet]` in turn, so one file serves both). A file without a
    /// `[fleet]` table is an error: there is no Redis to talk to.
    ///
    /// # Errors
    /// [`FleetConfigError`] naming the field (`fleet.quorum: ...`) for a
    /// syntax error, an unknown key, a value of the wrong type or an
    /// invalid value.
    pub fn from_toml_str(source: &str) -> Result<Self, FleetConfigError> {
        let mut table: toml::Table = toml::from_str(source).map_err(|e| FleetConfigError {
            field: String::new(),
            reason: e.message().to_owned(),
        })?;
        let fleet = table.remove("fleet").ok_or_else(|| FleetConfigError {
            field: "fleet".to_owned(),
            reason: "missing table".to_owned(),
        })?;
        let config: FleetConfig = fleet.try_into().map_err(|e: toml::de::Error| {
            let message = e.message().to_owned();
            // "unknown field `x`, expected ..." names the key: report it as a path.
            let field = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .map_or_else(|| "fleet".to_owned(), |key| format!("fleet.{key}"));
            FleetConfigError {
                field,
                reason: message,
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// [`from_toml_str`](Self::from_toml_str) on the contents of a file.
    ///
    /// # Errors
    /// [`FleetConfigError`] for a file that cannot be read or is invalid.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, FleetConfigError> {
        let path = path.as_ref();
        let source = std::fs::read_to_string(path).map_err(|e| FleetConfigError {
            field: String::new(),
            reason: format!("cannot read {}: {e}", path.display()),
        })?;
        Self::from_toml_str(&source)
    }

    /// Checks every value.
    ///
    /// # Errors
    /// [`FleetConfigError`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), FleetConfigError> {
        let bad = |field: &str, reason: &str| {
            Err(FleetConfigError {
                field: format!("fleet.{field}"),
                reason: reason.to_owned(),
            })
        };
        if self.url.trim().is_empty() {
            return bad("url", "must not be empty");
        }
        if !name_ok(&self.replica_id) {
            return bad(
                "replica_id",
                "must be 1 to 200 bytes without whitespace or control characters",
            );
        }
        if !name_ok(&self.prefix) {
            return bad(
                "prefix",
                "must be 1 to 200 bytes without whitespace or control characters",
            );
        }
        for (field, value) in [
            ("heartbeat_interval", self.heartbeat_interval),
            ("poll_interval", self.poll_interval),
            ("breaker_poll_interval", self.breaker_poll_interval),
            ("command_timeout", self.command_timeout),
        ] {
            if value < Duration::from_millis(1) {
                return bad(field, "must be at least 1ms");
            }
            if value > Duration::from_secs(3600) {
                return bad(field, "must be at most 1h");
            }
        }
        if self.heartbeat_ttl() <= self.heartbeat_interval {
            return bad(
                "heartbeat_ttl",
                "must be longer than heartbeat_interval (a replica would flicker out between heartbeats)",
            );
        }
        if self.heartbeat_ttl() <= self.poll_interval {
            return bad(
                "heartbeat_ttl",
                "must be longer than poll_interval (peers would count as gone between reads)",
            );
        }
        if self.heartbeat_ttl() > Duration::from_secs(3 * 3600) {
            return bad("heartbeat_ttl", "must be at most 3h");
        }
        if !(self.quorum > 0.0 && self.quorum <= 1.0) {
            return bad("quorum", "must be a share in (0, 1]");
        }
        if self.min_replicas == 0 {
            return bad("min_replicas", "must be at least 1");
        }
        Ok(())
    }
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `HOSTNAME-PID`: the hostname from the environment or the kernel, else
/// `replica`.
pub(crate) fn default_replica_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .take(64)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "replica".to_owned());
    format!("{host}-{}", std::process::id())
}

fn parse_duration<E: serde::de::Error>(text: &str) -> Result<Duration, E> {
    humantime::parse_duration(text.trim())
        .map_err(|e| E::custom(format!("invalid duration {text:?}: {e}")))
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text)
}

fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config = FleetConfig::from_toml_str("[fleet]\n").unwrap();
        assert_eq!(config.prefix, "brownout");
        assert!(!config.shared_breakers);
        assert_eq!(config.quorum, 0.5);
        assert_eq!(config.min_replicas, 2);
        assert_eq!(config.poll_interval, Duration::from_millis(500));
        assert_eq!(config.command_timeout, Duration::from_millis(250));
        assert_eq!(config.on_unreachable, OnUnreachable::Retry);
        assert!(
            config
                .replica_id
                .ends_with(&format!("-{}", std::process::id()))
        );
    }

    #[test]
    fn reads_only_the_fleet_table() {
        let config = FleetConfig::from_toml_str(
            r#"
            [dependencies.db]
            weight = 10
            unknown_to_us = true
            [fleet]
            url = "redis://10.0.0.1:6380/2"
            replica_id = "a"
            heartbeat_interval = "250ms"
            heartbeat_ttl = "1s"
            on_unreachable = "fail"
            quorum = 0.6
            min_replicas = 3
            "#,
        )
        .unwrap();
        assert_eq!(config.url, "redis://10.0.0.1:6380/2");
        assert_eq!(config.heartbeat_ttl(), Duration::from_secs(1));
        assert_eq!(config.on_unreachable, OnUnreachable::Fail);
        assert_eq!(config.min_replicas, 3);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("[fleet]\nqourum = 0.5\n", "fleet.qourum"),
            ("[fleet]\nquorum = 0.0\n", "fleet.quorum"),
            ("[fleet]\nquorum = 1.5\n", "fleet.quorum"),
            ("[fleet]\nmin_replicas = 0\n", "fleet.min_replicas"),
            ("[fleet]\nreplica_id = \"a b\"\n", "fleet.replica_id"),
            ("[fleet]\nprefix = \"\"\n", "fleet.prefix"),
            ("[fleet]\nheartbeat_ttl = \"1s\"\n", "fleet.heartbeat_ttl"),
            (
                "[fleet]\nheartbeat_interval = \"100ms\"\nheartbeat_ttl = \"300ms\"\n",
                "fleet.heartbeat_ttl",
            ),
            (
                "[fleet]\ncommand_timeout = \"0s\"\n",
                "fleet.command_timeout",
            ),
            ("[dependencies.db]\nweight = 1\n", "fleet"),
        ];
        for (source, field) in cases {
            let err = FleetConfig::from_toml_str(source).unwrap_err();
            assert_eq!(err.field, field, "{source}: {err}");
        }
        let err =
            FleetConfig::from_toml_str("[fleet]\nheartbeat_interval = \"soon\"\n").unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
        let err = FleetConfig::from_toml_str("[fleet\n").unwrap_err();
        assert!(!err.reason.is_empty());
        let err = FleetConfig::from_toml_str("[fleet]\non_unreachable = \"panic\"\n").unwrap_err();
        assert!(err.to_string().contains("panic"), "{err}");
    }

    #[test]
    fn the_core_accepts_the_same_file() {
        let source = "[dependencies.db]\nweight = 10\n[fleet]\nurl = \"redis://127.0.0.1/\"\n";
        assert!(brownout::Config::from_toml_str(source).is_ok());
        assert!(FleetConfig::from_toml_str(source).is_ok());
    }
}
