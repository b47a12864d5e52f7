//! Code-first construction of a [`DegradationManager`].

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use super::DegradationManager;
use super::control::OverrideChange;
use super::core::Core;
use super::topology::{Sources, Topology};
use crate::change::ChangeCause;
use crate::clock::{Clock, ClockSource};
use crate::config::{Config, DependencyConfig, FeatureConfig, LevelsConfig};
use crate::error::ConfigError;
use crate::transition::TransitionListener;

/// Builds a [`DegradationManager`]; every input goes through the same
/// validation as a TOML [`Config`].
///
/// ```
/// use brownout::{DegradationManager, DependencyConfig, FeatureConfig, Level};
/// use brownout::clock::ManualClock;
///
/// let clock = ManualClock::new();
/// let manager = DegradationManager::builder()
///     .clock(clock.clone())
///     .dependency("redis", DependencyConfig::new(15.0))
///     .feature("hot_cache", FeatureConfig::new(Level::Degraded).requires("redis"))
///     .build()?;
/// assert!(manager.is_enabled("hot_cache"));
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until .build()"]
pub struct ManagerBuilder {
    config: Config,
    dependencies: Vec<(String, DependencyConfig)>,
    features: Vec<(String, FeatureConfig)>,
    clock: ClockSource,
    #[cfg(feature = "tokio")]
    probes: Vec<(String, super::probe::ProbeFn)>,
}

impl DegradationManager {
    /// A builder for code-first setup.
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    /// A manager from a validated [`Config`] on the system clock.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field.
    pub fn from_config(config: Config) -> Result<Self, ConfigError> {
        Self::builder().config(config).build()
    }

    /// A manager from TOML (see [`Config::from_toml_str`]).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field.
    pub fn from_toml_str(source: &str) -> Result<Self, ConfigError> {
        Self::from_config(Config::from_toml_str(source)?)
    }
}

impl ManagerBuilder {
    /// Starts from a whole configuration (replacing any given before).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Reads time from `clock`; clones of a [`ManualClock`](crate::clock::ManualClock) share one time.
    pub fn clock<C: Clock>(mut self, clock: C) -> Self {
        self.clock = ClockSource::new(clock);
        self
    }

    /// Sets the level thresholds and anti-flapping settings.
    pub fn levels(mut self, levels: LevelsConfig) -> Self {
        self.config.levels = levels;
        self
    }

    /// Adds a dependency; a name given twice is an error at [`build`](Self::build).
    pub fn dependency(mut self, name: impl Into<String>, config: DependencyConfig) -> Self {
        self.dependencies.push((name.into(), config));
        self
    }

    /// Adds a feature; a name given twice is an error at [`build`](Self::build).
    pub fn feature(mut self, name: impl Into<String>, config: FeatureConfig) -> Self {
        self.features.push((name.into(), config));
        self
    }

    /// Registers a health probe for `dependency` (feature `tokio`): a check
    /// such as `SELECT 1`, `PING` or an HTTP health URL, returning `Ok` when
    /// the dependency is healthy.
    ///
    /// The [background task](DegradationManager::spawn_background) runs it as
    /// the breaker's half-open trial once the recovery timeout has elapsed,
    /// and again on the backoff schedule until the breaker closes, so a
    /// dependency whose features are gated off still recovers. A probe that
    /// runs longer than the dependency's `probe_timeout` (default 5 s) counts
    /// as failed. With the dependency's `probe_interval` set, the probe also
    /// runs that often while the breaker is closed: a failing check counts as
    /// a failed call, a passing one records nothing. Registering a second
    /// probe for the same dependency replaces the first.
    ///
    /// ```
    /// use brownout::{DegradationManager, DependencyConfig};
    ///
    /// let manager = DegradationManager::builder()
    ///     .dependency("redis", DependencyConfig::new(15.0))
    ///     .probe("redis", || async { Ok::<_, std::io::Error>(()) /* PING */ })
    ///     .build()?;
    /// # Ok::<(), brownout::ConfigError>(())
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn probe<F, Fut, T, E>(mut self, dependency: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let dependency = dependency.into();
        self.probes.retain(|(name, _)| *name != dependency);
        self.probes
            .push((dependency, super::probe::ProbeFn::new(check)));
        self
    }

    /// Validates everything and builds the manager.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field or duplicate name.
    pub fn build(self) -> Result<DegradationManager, ConfigError> {
        let mut config = self.config;
        merge(&mut config.dependencies, self.dependencies, "dependencies")?;
        merge(&mut config.features, self.features, "features")?;
        config.validate()?;
        #[cfg(feature = "tokio")]
        let probes = self.probes;
        #[cfg(feature = "tokio")]
        if let Some((name, _)) = probes
            .iter()
            .find(|(name, _)| !config.dependencies.contains_key(name))
        {
            return Err(ConfigError::new(
                crate::config::join("probes", name),
                "probe registered for an unknown dependency",
            ));
        }
        let clock = self.clock;
        let core = Arc::new_cyclic(|weak: &Weak<Core>| {
            let listener: Weak<dyn TransitionListener> = weak.clone();
            let rebuilt = Topology::build(
                config,
                Sources {
                    clock: &clock,
                    listener,
                    previous: None,
                    retired: &[],
                    #[cfg(feature = "tokio")]
                    probes,
                },
            );
            Core::new(rebuilt.topology, clock.clone())
        });
        core.recompute(OverrideChange::Keep, ChangeCause::Initial);
        Ok(DegradationManager::from_core(core))
    }
}

fn merge<T>(
    into: &mut BTreeMap<String, T>,
    extra: Vec<(String, T)>,
    table: &str,
) -> Result<(), ConfigError> {
    for (name, value) in extra {
        if into.contains_key(&name) {
            return Err(ConfigError::new(
                crate::config::join(table, &crate::config::key(&name)),
                "duplicate name",
            ));
        }
        into.insert(name, value);
    }
    Ok(())
}
