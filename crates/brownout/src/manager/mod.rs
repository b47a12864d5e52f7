//! The degradation manager: breakers → health score → level → feature gates.

#[cfg(feature = "tokio")]
mod background;
pub(crate) mod builder;
mod changes;
mod control;
mod core;
mod features;
#[cfg(feature = "tokio")]
mod probe;
mod reload;
mod snapshot;
mod topology;

use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "tokio")]
pub use self::background::Background;
pub use self::changes::ListenerId;
use self::control::{Override, OverrideChange};
use self::core::Core;
pub use self::features::{FeatureGate, HeldOff};
pub use self::snapshot::{
    DependencySnapshot, FeatureSnapshot, LevelChangeSnapshot, OverrideSnapshot, Snapshot,
};
use crate::breaker::Breaker;
use crate::change::{ChangeCause, LevelChange};
use crate::error::{UnknownDependency, UnknownFeature};
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
        self.set_override(level, ttl, None);
    }

    /// [`force_level`](Self::force_level) on behalf of `source` (such as
    /// `"fleet"`): the snapshot reports who forced the level, and
    /// [`clear_override_from`](Self::clear_override_from) ends it only while
    /// it is still this source's. The latest override wins, whoever set it.
    ///
    /// ```
    /// use brownout::{DegradationManager, Level};
    ///
    /// let manager = DegradationManager::builder().build()?;
    /// manager.force_level_from(Level::Limited, None, "fleet");
    /// assert_eq!(manager.override_source(), Some("fleet"));
    /// manager.force_level(Level::Minimal, None); // an operator on this replica
    /// assert!(!manager.clear_override_from("fleet"), "no longer the fleet's");
    /// assert_eq!(manager.level(), Level::Minimal);
    /// # Ok::<(), brownout::ConfigError>(())
    /// ```
    pub fn force_level_from(&self, level: Level, ttl: Option<Duration>, source: &'static str) {
        self.set_override(level, ttl, Some(source));
    }

    fn set_override(&self, level: Level, ttl: Option<Duration>, source: Option<&'static str>) {
        let until = ttl.map(|ttl| self.core.clock.now().saturating_add(ttl));
        self.core.recompute(
            OverrideChange::Set(Override {
                level,
                until,
                source,
            }),
            ChangeCause::Override,
        );
    }

    /// Ends a manual override: the computed level applies again.
    pub fn clear_override(&self) {
        self.core
            .recompute(OverrideChange::Clear, ChangeCause::Override);
    }

    /// Ends the override if `source` set it (see
    /// [`force_level_from`](Self::force_level_from)); returns whether it did.
    /// An override someone else set since is left alone.
    pub fn clear_override_from(&self, source: &'static str) -> bool {
        if self.core.overridden().and_then(|o| o.source) != Some(source) {
            return false;
        }
        self.core
            .recompute(OverrideChange::ClearFrom(source), ChangeCause::Override);
        self.core.overridden().and_then(|o| o.source) != Some(source)
    }

    /// Who set the override in force: the source given to
    /// [`force_level_from`](Self::force_level_from), `None` for
    /// [`force_level`](Self::force_level) or when no override is in force.
    #[must_use]
    pub fn override_source(&self) -> Option<&'static str> {
        self.core.refresh_if_due();
        self.core.overridden().and_then(|o| o.source)
    }

    /// Re-evaluates time-driven changes (an upgrade hold or an override TTL
    /// running out). [`level`](Self::level), [`is_enabled`](Self::is_enabled)
    /// and [`snapshot`](Self::snapshot) do this on their own; call it
    /// periodically if you read only [`FeatureGate`]s.
    pub fn refresh(&self) {
        self.core
            .recompute(OverrideChange::Keep, ChangeCause::Refresh);
    }

    /// Calls `listener` after every change of the effective level, in order,
    /// once per change, after the manager's locks are released (a listener
    /// may call back into the manager). A listener that panics is caught,
    /// logged and kept; the manager carries on.
    ///
    /// The thread that made a change runs the listeners for it when nothing
    /// older is waiting; otherwise the change goes to the manager's delivery
    /// thread, so no caller ever waits for listener work caused by another
    /// thread. At most 256 changes wait: listeners that fall further behind
    /// lose the oldest, never the latest.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use brownout::{DegradationManager, Level};
    ///
    /// let manager = DegradationManager::builder().build()?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&seen);
    /// manager.on_level_change(move |change| log.lock().unwrap().push((change.from, change.to)));
    /// manager.force_level(Level::Limited, None);
    /// manager.clear_override();
    /// assert_eq!(
    ///     *seen.lock().unwrap(),
    ///     [(Level::Optimal, Level::Limited), (Level::Limited, Level::Optimal)]
    /// );
    /// # Ok::<(), brownout::ConfigError>(())
    /// ```
    pub fn on_level_change<F>(&self, listener: F) -> ListenerId
    where
        F: Fn(&LevelChange) + Send + Sync + 'static,
    {
        self.core.changes.add(Arc::new(listener))
    }

    /// Removes a listener; `false` if it was not (or no longer) registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.core.changes.remove(id)
    }

    /// A receiver of level changes (feature `tokio`).
    ///
    /// Its current value is the latest change (at first, the manager's
    /// initial level with [`ChangeCause::Initial`]). Like every
    /// `tokio::sync::watch` receiver it sees changes in order and never twice,
    /// but a receiver that reads less often than the level changes sees only
    /// the latest: it loses the intermediate states it did not read, never
    /// the current one.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    #[must_use]
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<LevelChange> {
        self.core.changes.subscribe()
    }

    /// Starts the background task on the current tokio runtime (feature
    /// `tokio`): it runs each dependency's [probe](crate::ManagerBuilder::probe) as
    /// the half-open trial once the recovery timeout has elapsed (and on the
    /// backoff schedule until the breaker closes), and applies upgrade holds
    /// and override TTLs on time even when no breaker changes state.
    ///
    /// The task stops when the returned handle is shut down or dropped.
    ///
    /// # Errors
    /// [`NoRuntime`](crate::NoRuntime) when called outside a tokio runtime.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn spawn_background(&self) -> Result<Background, crate::NoRuntime> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| crate::NoRuntime)?;
        Ok(Background::spawn(Arc::clone(&self.core), &runtime))
    }

    /// Whether `feature` is on. Unknown names answer `false` (fail closed) and
    /// log a warning once per name.
    #[must_use]
    pub fn is_enabled(&self, feature: &str) -> bool {
        self.core.refresh_if_due();
        let known = self.core.with_topology(|topology| {
            topology
                .index
                .get(feature)
                .map(|&i| topology.features.get(i).is_some_and(|f| f.is_on()))
        });
        known.unwrap_or_else(|| {
            self.core.warn_unknown(feature);
            false
        })
    }

    /// A handle whose [`is_enabled`](FeatureGate::is_enabled) is one atomic load.
    ///
    /// # Errors
    /// [`UnknownFeature`] for a name the manager does not know, so startup code can catch typos.
    pub fn gate(&self, feature: &str) -> Result<FeatureGate, UnknownFeature> {
        self.core
            .topology()
            .feature(feature)
            .map(FeatureGate::new)
            .ok_or_else(|| UnknownFeature {
                name: feature.to_owned(),
            })
    }

    /// The names of the features that are on now, in name order.
    #[must_use]
    pub fn enabled_features(&self) -> Vec<String> {
        self.core.refresh_if_due();
        self.core
            .topology()
            .features
            .iter()
            .filter(|f| f.is_on())
            .map(|f| f.name.to_string())
            .collect()
    }

    /// The breaker of `dependency`.
    ///
    /// # Errors
    /// [`UnknownDependency`] for a name the manager does not know (the same
    /// shape as [`gate`](Self::gate), so startup code can catch typos).
    pub fn breaker(&self, dependency: &str) -> Result<Breaker, UnknownDependency> {
        self.core
            .topology()
            .dependency(dependency)
            .map(|d| d.breaker.clone())
            .ok_or_else(|| UnknownDependency {
                name: dependency.to_owned(),
            })
    }

    /// Why `feature` is off now (`None` while it is on, and for unknown
    /// names): the level, or the open dependency holding it off, with the
    /// time until that breaker's next trial. See [`FeatureGate::held_off`].
    #[must_use]
    pub fn held_off(&self, feature: &str) -> Option<HeldOff> {
        self.core.refresh_if_due();
        self.core.topology().feature(feature)?.held_off()
    }

    /// Counts one request shed because the level is below `min_level`
    /// (`brownout_requests_shed_total{level}`, feature `metrics`; a no-op
    /// without it). Adapters that refuse requests by level call it; feature
    /// gates count through [`FeatureGate::record_shed`].
    #[inline]
    pub fn record_level_shed(&self, min_level: Level) {
        self.core.record_level_shed(min_level);
    }

    /// The latest change of the effective level (at first, the initial
    /// state with [`ChangeCause::Initial`]): when and why the level became
    /// what it is.
    #[must_use]
    pub fn last_change(&self) -> LevelChange {
        self.core.refresh_if_due();
        self.core.last_change()
    }

    /// Every dependency's breaker, in name order.
    #[must_use]
    pub fn breakers(&self) -> Vec<Breaker> {
        self.core.topology().breakers.to_vec()
    }

    /// The soonest time any open breaker allows a trial (which may raise
    /// the level), if one is open: the retry hint of a request refused for
    /// the level.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        features::earliest_trial(&self.core.topology().breakers)
    }

    /// Hands every breaker's per-call counts to the `metrics` recorder now
    /// (feature `metrics`; a no-op without it). Transitions, snapshots and
    /// the background task do this on their own; call it before a scrape if
    /// you run without the background task and need counts to the call.
    pub fn flush_metrics(&self) {
        for dependency in &self.core.topology().dependencies {
            dependency.breaker.flush_metrics();
        }
    }

    /// Score, levels, override, dependencies and features, for status pages
    /// and logs. Half-open trials past their `half_open_timeout` are expired
    /// first (re-opening their breakers), so the snapshot, the score and the
    /// level agree with what the next call would see.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        for dependency in &self.core.topology().dependencies {
            dependency.breaker.expire_trials();
        }
        self.core.refresh_if_due();
        Snapshot::of(&self.core)
    }
}
