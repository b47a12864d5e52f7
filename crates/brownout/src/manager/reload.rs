//! Runtime reconfiguration: a new [`Config`] applied to a running manager.

use std::path::Path;

use super::DegradationManager;
use crate::config::Config;
use crate::error::{ConfigError, ReloadError};

impl DegradationManager {
    /// Applies a new configuration to the running manager, atomically: it
    /// is validated first, and on error nothing changes.
    ///
    /// What a reload keeps and what it changes:
    /// - New weights, level thresholds, hysteresis, upgrade hold, half-open
    ///   credit, caps and feature definitions apply at once: the score, the
    ///   level and every gate are recomputed before this returns (a level
    ///   change it causes carries [`ChangeCause::Reconfigured`](crate::ChangeCause::Reconfigured)).
    /// - A dependency whose breaker settings are unchanged keeps its breaker
    ///   as it is: state, counts, window, open period, generation. A reload
    ///   never restarts or shortens an open period.
    /// - A dependency whose breaker settings changed keeps its breaker and
    ///   its state; the new settings apply from the breaker's next decision:
    ///   the next call is admitted, timed and counted by them, a pending
    ///   count of consecutive failures is judged against the new
    ///   threshold at the next failure, a new `recovery_timeout` or backoff
    ///   applies from the next opening (the current open period keeps its
    ///   end), a sliding window of a different size or kind starts empty, and
    ///   a half-open breaker whose successful trials already meet a lowered
    ///   `half_open_max_calls` closes at once.
    /// - Added dependencies start closed. Removed ones stop counting: they
    ///   leave the score, their transitions no longer reach the manager, and
    ///   a [`Breaker`](crate::Breaker) handle a caller still holds keeps
    ///   working on its own.
    /// - [`FeatureGate`](crate::FeatureGate)s handed out earlier keep
    ///   following their feature; the gate of a removed feature answers
    ///   `false` ([`HeldOff::Removed`](crate::HeldOff::Removed)), and
    ///   follows the feature again if a later reload brings it back.
    /// - Probes stay with their dependency (a changed `probe_timeout`
    ///   applies to the next probe); a dependency a reload adds has none.
    /// - The override, the level history and the listeners are untouched.
    ///
    /// Calls racing a reload never fail because of it: each is decided by
    /// the old settings or the new ones, its outcome is recorded, and a
    /// half-open breaker never admits more trials than the settings in
    /// force allow.
    ///
    /// ```
    /// use brownout::{Config, DegradationManager, Level};
    ///
    /// let manager = DegradationManager::from_toml_str(r#"
    ///     [dependencies.openai]
    ///     weight = 50
    ///     [dependencies.database]
    ///     weight = 50
    ///     failure_threshold = 1
    ///     [features.search]
    ///     min_level = "DEGRADED"
    /// "#)?;
    /// let search = manager.gate("search")?;
    /// let _ = manager.breaker("database")?.call_sync(|| Err::<(), _>("down"));
    /// assert_eq!(manager.level(), Level::Minimal);
    /// assert!(!search.is_enabled());
    ///
    /// // The database matters less than we thought: reweigh it, live.
    /// manager.reconfigure(Config::from_toml_str(r#"
    ///     [dependencies.openai]
    ///     weight = 90
    ///     [dependencies.database]
    ///     weight = 10
    ///     failure_threshold = 1
    ///     [features.search]
    ///     min_level = "DEGRADED"
    /// "#)?)?;
    /// assert_eq!(manager.health_score(), 90.0);
    /// assert_eq!(manager.level(), Level::Optimal);
    /// assert!(search.is_enabled());
    /// // The database's breaker kept its state through the reload.
    /// assert_eq!(manager.breaker("database")?.state(), brownout::BreakerState::Open);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field; the manager is
    /// left exactly as it was.
    pub fn reconfigure(&self, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        self.core.reconfigure(config);
        Ok(())
    }

    /// Reads a TOML file and [reconfigures](Self::reconfigure) the manager
    /// with it (what a SIGHUP handler calls). On error the manager keeps the
    /// configuration it had.
    ///
    /// # Errors
    /// [`ReloadError::Read`] when the file cannot be read,
    /// [`ReloadError::Empty`] when it is empty (a save caught half-way:
    /// applying it would remove every dependency and feature),
    /// [`ReloadError::Invalid`] naming the first invalid field.
    pub fn reload_file(&self, path: impl AsRef<Path>) -> Result<(), ReloadError> {
        let path = path.as_ref();
        let source = std::fs::read_to_string(path).map_err(|source| ReloadError::Read {
            path: path.to_owned(),
            source,
        })?;
        if source.trim().is_empty() {
            return Err(ReloadError::Empty {
                path: path.to_owned(),
            });
        }
        let invalid = |source| ReloadError::Invalid {
            path: path.to_owned(),
            source,
        };
        let config = Config::from_toml_str(&source).map_err(invalid)?;
        self.reconfigure(config).map_err(invalid)
    }

    /// The configuration in force: the one the manager was built with, or
    /// the latest [`reconfigure`](Self::reconfigure) applied.
    #[must_use]
    pub fn config(&self) -> Config {
        self.core.topology().config.clone()
    }
}
