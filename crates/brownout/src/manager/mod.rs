//! The degradation manager: breakers → health score → level → feature gates.

mod builder;
mod control;
mod core;
mod features;
mod snapshot;

use std::sync::Arc;
use std::time::Duration;

pub use self::builder::ManagerBuilder;
use self::control::Override;
use self::core::Core;
pub use self::features::FeatureGate;
pub use self::snapshot::{DependencySnapshot, FeatureSnapshot, OverrideSnapshot, Snapshot};
use crate::breaker::Breaker;
use crate::config::Config;
use crate::error::{ConfigError, UnknownFeature};
use crate::level::Level;

/// Owns the breakers of all dependencies and the feature gates.
///
/// Cheap to clone (clones share state), `Send + Sync`. The score, the level
/// and every gate are recomputed when a breaker changes state, by the thread
/// that changed it, never per call.
///
/// ```
/// use brownout::{DegradationManager, Level};
///
/// let manager = DegradationManager::from_toml_str(r#"
///     [dependencies.openai]
///     weight = 50
///     [dependencies.database]
///     weight = 50
///     failure_threshold = 1
///     [features.search]
///     min_level = "DEGRADED"
///     requires = ["database"]
/// "#)?;
/// assert_eq!(manager.level(), Level::Optimal);
/// let db = manager.breaker("database").unwrap();
/// let _ = db.call_sync(|| Err::<(), _>("down"));
/// assert_eq!(manager.health_score(), 50.0);
/// assert_eq!(manager.level(), Level::Minimal);
/// assert!(!manager.is_enabled("search"));
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct DegradationManager {
    core: Arc<Core>,
}

impl DegradationManager {
    /// A builder for code-first setup.
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::new()
    }

    /// A manager from a validated [`Config`] on the system clock.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field.
    pub fn from_config(config: Config) -> Result<Self, ConfigError> {
        ManagerBuilder::new().config(config).build()
    }

    /// A manager from TOML (see [`Config::from_toml_str`]).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field.
    pub fn from_toml_str(source: &str) -> Result<Self, ConfigError> {
        Self::from_config(Config::from_toml_str(source)?)
    }

    pub(crate) fn from_core(core: Arc<Core>) -> Self {
        DegradationManager { core }
    }

    /// The health score, 0 to 100: `100 × Σ(weight × availability) / Σ weight`.
    #[must_use]
    pub fn health_score(&self) -> f64 {
        self.core.score()
    }

    /// The effective level: the override if one is in force, else the computed level.
    #[must_use]
    pub fn level(&self) -> Level {
        self.core.refresh_if_due();
        self.core.level()
    }

    /// The level the score, caps and anti-flapping rules give, ignoring any override.
    #[must_use]
    pub fn computed_level(&self) -> Level {
        self.core.refresh_if_due();
        self.core.computed_level()
    }

    /// The manual level in force, if any.
    #[must_use]
    pub fn override_level(&self) -> Option<Level> {
        self.core.refresh_if_due();
        self.core.overridden().map(|o| o.level)
    }

    /// Forces the effective level, for `ttl` or until [`clear_override`](Self::clear_override).
    /// The computed level is still tracked and reported.
    pub fn force_level(&self, level: Level, ttl: Option<Duration>) {
        let until = ttl.map(|ttl| self.core.clock.now().saturating_add(ttl));
        self.core.recompute(Some(Some(Override { level, until })));
    }

    /// Ends a manual override: the computed level applies again.
    pub fn clear_override(&self) {
        self.core.recompute(Some(None));
    }

    /// Re-evaluates time-driven changes (an upgrade hold or an override TTL
    /// running out). [`level`](Self::level), [`is_enabled`](Self::is_enabled)
    /// and [`snapshot`](Self::snapshot) do this on their own; call it
    /// periodically if you read only [`FeatureGate`]s.
    pub fn refresh(&self) {
        self.core.recompute(None);
    }

    /// Whether `feature` is on. Unknown names answer `false` (fail closed) and
    /// log a warning once per name.
    #[must_use]
    pub fn is_enabled(&self, feature: &str) -> bool {
        self.core.refresh_if_due();
        match self.core.index.get(feature) {
            Some(&i) => self.core.features[i]
                .enabled
                .load(crate::sync::Ordering::Relaxed),
            None => {
                self.core.warn_unknown(feature);
                false
            }
        }
    }

    /// A handle whose [`is_enabled`](FeatureGate::is_enabled) is one atomic load.
    ///
    /// # Errors
    /// [`UnknownFeature`] for a name the manager does not know, so startup code can catch typos.
    pub fn gate(&self, feature: &str) -> Result<FeatureGate, UnknownFeature> {
        self.core
            .index
            .get(feature)
            .map(|&i| FeatureGate::new(Arc::clone(&self.core.features[i])))
            .ok_or_else(|| UnknownFeature {
                name: feature.to_owned(),
            })
    }

    /// The names of the features that are on now.
    #[must_use]
    pub fn enabled_features(&self) -> Vec<&str> {
        self.core.refresh_if_due();
        self.core
            .features
            .iter()
            .filter(|f| f.enabled.load(crate::sync::Ordering::Relaxed))
            .map(|f| &*f.name)
            .collect()
    }

    /// The breaker of `dependency`, if there is one by that name.
    #[must_use]
    pub fn breaker(&self, dependency: &str) -> Option<Breaker> {
        self.core
            .dependencies
            .iter()
            .find(|d| d.breaker.name() == dependency)
            .map(|d| d.breaker.clone())
    }

    /// Every dependency's breaker, in name order.
    pub fn breakers(&self) -> impl Iterator<Item = &Breaker> {
        self.core.dependencies.iter().map(|d| &d.breaker)
    }

    /// Score, levels, override, dependencies and features, for status pages and logs.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        self.core.refresh_if_due();
        Snapshot::of(&self.core)
    }
}
