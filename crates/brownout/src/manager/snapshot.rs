//! A serialisable view of the whole manager.

use std::time::Duration;

use serde::Serialize;

use super::core::Core;
use super::features::HeldOff;
use crate::breaker::BreakerSnapshot;
use crate::change::ChangeCause;
use crate::level::Level;
use crate::serde_millis;

/// Everything the manager knows, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The health score, 0 to 100.
    pub score: f64,
    /// The effective level.
    pub level: Level,
    /// The level from the score alone (with caps and anti-flapping).
    pub computed_level: Level,
    /// The manual override, if one is in force.
    #[serde(rename = "override")]
    pub override_level: Option<OverrideSnapshot>,
    /// The latest change of the effective level: since when the level is
    /// what it is, and why.
    pub last_change: LevelChangeSnapshot,
    /// One entry per dependency, in name order.
    pub dependencies: Vec<DependencySnapshot>,
    /// One entry per feature, in name order.
    pub features: Vec<FeatureSnapshot>,
}

/// A manual level in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OverrideSnapshot {
    /// The forced level.
    pub level: Level,
    /// Who forced it (see
    /// [`force_level_from`](crate::DegradationManager::force_level_from));
    /// `None` for a plain `force_level`.
    pub source: Option<&'static str>,
    /// Time left, if it expires (milliseconds in JSON).
    #[serde(rename = "expires_in_ms", serialize_with = "serde_millis::optional")]
    pub expires_in: Option<Duration>,
}

/// The latest change of the effective level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LevelChangeSnapshot {
    /// The level before.
    pub from: Level,
    /// The level after (the effective level now).
    pub to: Level,
    /// The score right after the change.
    pub score: f64,
    /// What caused it (`initial` when the level never changed).
    pub cause: ChangeCause,
    /// How long ago (milliseconds in JSON).
    #[serde(rename = "ago_ms", serialize_with = "serde_millis::required")]
    pub ago: Duration,
}

/// One dependency: its weight and its breaker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DependencySnapshot {
    /// Share of the health score.
    pub weight: f64,
    /// The level cap while open, if any.
    pub max_level_when_open: Option<Level>,
    /// The breaker's state, counts and timings.
    #[serde(flatten)]
    pub breaker: BreakerSnapshot,
}

/// One feature and whether it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FeatureSnapshot {
    /// The feature's name.
    pub name: String,
    /// The lowest level at which it is on.
    pub min_level: Level,
    /// Whether it is on now.
    pub enabled: bool,
    /// What holds it off, while off: the level, or the open dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_off: Option<HeldOff>,
}

impl Snapshot {
    /// Breakers first (each read under its own lock), then the manager's
    /// published values under its control lock, so the score, the levels,
    /// the override, the last change and the features agree with each other.
    pub(crate) fn of(core: &Core) -> Snapshot {
        let topology = core.topology();
        let dependencies = topology
            .dependencies
            .iter()
            .map(|d| DependencySnapshot {
                weight: d.weight,
                max_level_when_open: d.max_level_when_open,
                breaker: d.breaker.snapshot(),
            })
            .collect();
        core.read_published(|overridden, last| {
            let now = core.clock.now();
            Snapshot {
                score: core.score(),
                level: core.level(),
                computed_level: core.computed_level(),
                override_level: overridden.map(|o| OverrideSnapshot {
                    level: o.level,
                    source: o.source,
                    expires_in: o.until.map(|until| until.saturating_since(now)),
                }),
                last_change: LevelChangeSnapshot {
                    from: last.from,
                    to: last.to,
                    score: last.score,
                    ago: now.saturating_since(last.at),
                    cause: last.cause.clone(),
                },
                dependencies,
                features: topology
                    .features
                    .iter()
                    .map(|f| FeatureSnapshot {
                        name: f.name.to_string(),
                        min_level: f.min_level(),
                        enabled: f.is_on(),
                        held_off: f.held_off(),
                    })
                    .collect(),
            }
        })
    }
}
