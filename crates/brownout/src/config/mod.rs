//! The serde surface of the configuration: levels, dependencies, features.
//!
//! The TOML shape (every key but `weight` optional):
//!
//! ```
//! let config = brownout::Config::from_toml_str(r#"
//!     [levels]
//!     optimal = 90
//!     degraded = 70
//!
//!     [dependencies.openai]
//!     weight = 50
//!     failure_threshold = 5
//!     recovery_timeout = "30s"
//!     half_open_max_calls = 2
//!
//!     [features.ai_suggestions]
//!     min_level = "OPTIMAL"
//!     requires = ["openai"]
//! "#).unwrap();
//! assert_eq!(config.dependencies["openai"].breaker.half_open_max_calls, 2);
//! ```

mod breaker;
mod check;
mod duration;
mod levels;
mod toml_errors;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::breaker::{BreakerConfig, MAX_FAILURE_THRESHOLD, MAX_WINDOW, Policy};
use self::check::Check;
pub(crate) use self::check::{join, key};
pub use self::levels::LevelsConfig;
use crate::error::ConfigError;
use crate::level::Level;

/// The whole configuration: level thresholds, dependencies and features.
///
/// Dependencies and features are keyed by name (kept in name order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Thresholds and anti-flapping settings of the levels.
    pub levels: LevelsConfig,
    /// One weighted breaker per dependency.
    pub dependencies: BTreeMap<String, DependencyConfig>,
    /// Feature gates.
    pub features: BTreeMap<String, FeatureConfig>,
}

/// One dependency: its weight in the health score and its breaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyConfig {
    /// Share of the health score, a finite number > 0. Required.
    pub weight: f64,
    /// While this dependency's breaker is open, the level is at most this,
    /// whatever the score. Default: unset (no cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_level_when_open: Option<Level>,
    /// How long a health probe may run before it counts as a failed trial
    /// (probes need the `tokio` feature). Default: unset, meaning 5 s.
    #[serde(
        default,
        with = "duration::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub probe_timeout: Option<Duration>,
    /// Also run the probe this often while the breaker is closed (needs the
    /// `tokio` feature, a registered probe and the background task): a
    /// failing probe counts as a failed call, a passing one records
    /// nothing. So a dependency whose features are gated off, and that
    /// nobody calls, is still found out when it fails. Default: unset (the
    /// probe runs only as the half-open trial).
    #[serde(
        default,
        with = "duration::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub probe_interval: Option<Duration>,
    /// The breaker's settings, as keys beside `weight`.
    #[serde(flatten)]
    pub breaker: BreakerConfig,
}

/// The probe timeout when `probe_timeout` is unset.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

impl DependencyConfig {
    /// A dependency of this weight with a default breaker.
    #[must_use]
    pub fn new(weight: f64) -> Self {
        DependencyConfig {
            weight,
            max_level_when_open: None,
            probe_timeout: None,
            probe_interval: None,
            breaker: BreakerConfig::default(),
        }
    }

    pub(crate) fn validate_at(&self, prefix: &str) -> Result<(), ConfigError> {
        if !(self.weight.is_finite() && self.weight > 0.0) {
            return Err(Check::new(prefix).err("weight", "must be > 0"));
        }
        Check::new(prefix).nonzero("probe_timeout", self.probe_timeout)?;
        Check::new(prefix).nonzero("probe_interval", self.probe_interval)?;
        self.breaker.validate_at(prefix)
    }
}

/// A feature gate: on when the level is at least `min_level` and none of the
/// `requires` dependencies is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// The lowest level at which the feature is on. Default: `MINIMAL`
    /// (on everywhere but EMERGENCY).
    pub min_level: Level,
    /// Dependencies whose breaker must not be open or forced open. Default: none.
    pub requires: Vec<String>,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            min_level: Level::Minimal,
            requires: Vec::new(),
        }
    }
}

impl FeatureConfig {
    /// A feature on from `min_level` up, with no required dependency.
    #[must_use]
    pub fn new(min_level: Level) -> Self {
        FeatureConfig {
            min_level,
            requires: Vec::new(),
        }
    }

    /// Adds a dependency that must not be open for the feature to be on.
    #[must_use]
    pub fn requires(mut self, dependency: impl Into<String>) -> Self {
        self.requires.push(dependency.into());
        self
    }
}

impl Config {
    /// Parses and validates TOML.
    ///
    /// A top-level `[fleet]` table is skipped: it belongs to the fleet
    /// crate (`brownout-redis`), which reads it from the same file.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field path and the reason, for syntax
    /// errors, unknown keys, values of the wrong type and invalid values alike.
    pub fn from_toml_str(source: &str) -> Result<Config, ConfigError> {
        let config = toml_errors::parse(source)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value; the error names the first bad field by its full path.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field path and the reason.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.levels.validate_at("levels")?;
        for (name, dep) in &self.dependencies {
            let path = join("dependencies", &key(name));
            if name.trim().is_empty() {
                return Err(ConfigError::new(path, "name must not be empty"));
            }
            dep.validate_at(&path)?;
        }
        for (name, feature) in &self.features {
            let path = join("features", &key(name));
            if name.trim().is_empty() {
                return Err(ConfigError::new(path, "name must not be empty"));
            }
            for dep in &feature.requires {
                if !self.dependencies.contains_key(dep) {
                    return Err(ConfigError::new(
                        join(&path, "requires"),
                        format!("unknown dependency {dep:?}"),
                    ));
                }
            }
        }
        Ok(())
    }
}
