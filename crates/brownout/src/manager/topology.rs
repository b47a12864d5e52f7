//! What a configuration decides: the dependencies with their breakers and
//! weights, the features, the level thresholds. Built whole at start and
//! rebuilt whole by a reload, which keeps every breaker and feature slot
//! whose name it keeps.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use super::features::{Definition, FeatureSlot};
use crate::breaker::Breaker;
use crate::clock::ClockSource;
use crate::config::{BreakerConfig, Config};
use crate::level::Level;
use crate::telemetry::ManagerTelemetry;
use crate::transition::TransitionListener;

/// One weighted dependency.
#[derive(Debug)]
pub(crate) struct Dependency {
    pub(crate) breaker: Breaker,
    /// The configured weight, as reported.
    pub(crate) weight: f64,
    /// `weight` scaled by the power of two that brings the largest weight
    /// to at most 1: the score is summed over shares, so no valid weights can
    /// overflow it, and scaling by a power of two is exact.
    pub(crate) share: f64,
    pub(crate) max_level_when_open: Option<Level>,
    /// The health check run as this dependency's half-open trial.
    #[cfg(feature = "tokio")]
    pub(crate) probe: Option<super::probe::Probe>,
    /// How often the probe also runs while the breaker is closed.
    #[cfg(feature = "tokio")]
    pub(crate) probe_interval: Option<std::time::Duration>,
}

/// The dependencies, features and thresholds in force.
#[derive(Debug)]
pub(crate) struct Topology {
    /// Unique across every manager of the process: a thread's cached
    /// topology is the one in force when the ids match.
    pub(crate) id: u64,
    /// The configuration this was built from.
    pub(crate) config: Config,
    /// In name order.
    pub(crate) dependencies: Vec<Dependency>,
    /// The dependencies' breakers, in name order (shared with the features).
    pub(crate) breakers: Arc<[Breaker]>,
    /// In name order.
    pub(crate) features: Vec<Arc<FeatureSlot>>,
    pub(crate) index: HashMap<Box<str>, usize, foldhash::fast::FixedState>,
    pub(crate) telemetry: ManagerTelemetry,
}

/// A topology and what must happen to the one it replaces.
#[derive(Debug)]
pub(crate) struct Rebuilt {
    pub(crate) topology: Topology,
    /// Kept breakers whose settings changed.
    pub(crate) retune: Vec<(Breaker, BreakerConfig)>,
    /// Kept feature slots and what they need now.
    pub(crate) redefine: Vec<(Arc<FeatureSlot>, Definition)>,
    /// Breakers of dependencies the configuration no longer has.
    pub(crate) removed_breakers: Vec<Breaker>,
    /// Slots of features the configuration no longer has.
    pub(crate) removed_features: Vec<Arc<FeatureSlot>>,
}

/// Where the parts of a new topology come from.
pub(crate) struct Sources<'a> {
    pub(crate) clock: &'a ClockSource,
    /// The manager, told about every transition of the breakers made here.
    pub(crate) listener: Weak<dyn TransitionListener>,
    /// The topology being replaced, if any: its breakers, slots and probes are kept.
    pub(crate) previous: Option<&'a Topology>,
    /// Slots of features an earlier reload removed (gates may still hold
    /// them): a feature that comes back takes its slot again.
    pub(crate) retired: &'a [Weak<FeatureSlot>],
    /// Probes given to the builder, by dependency name.
    #[cfg(feature = "tokio")]
    pub(crate) probes: Vec<(String, super::probe::ProbeFn)>,
}

impl Topology {
    /// Builds the topology of a validated `config`.
    pub(crate) fn build(config: Config, sources: Sources<'_>) -> Rebuilt {
        #[cfg_attr(not(feature = "tokio"), allow(unused_mut))]
        let mut sources = sources;
        let previous = sources.previous;
        let mut retune = Vec::new();
        let scale = share_scale(config.dependencies.values().map(|d| d.weight));
        let dependencies: Vec<Dependency> = config
            .dependencies
            .iter()
            .map(|(name, dep)| {
                let kept = previous.and_then(|p| p.dependency(name));
                let breaker = match kept {
                    Some(kept) => {
                        let before = previous.and_then(|p| p.config.dependencies.get(name));
                        if before.is_none_or(|before| before.breaker != dep.breaker) {
                            retune.push((kept.breaker.clone(), dep.breaker.clone()));
                        }
                        kept.breaker.clone()
                    }
                    None => Breaker::from_valid(
                        name,
                        dep.breaker.clone(),
                        sources.clock.clone(),
                        Some(sources.listener.clone()),
                    ),
                };
                #[cfg(feature = "tokio")]
                let probe = {
                    let timeout = dep
                        .probe_timeout
                        .unwrap_or(crate::config::DEFAULT_PROBE_TIMEOUT);
                    let given = sources
                        .probes
                        .iter()
                        .position(|(probed, _)| probed == name)
                        .map(|i| sources.probes.swap_remove(i).1.with_timeout(timeout));
                    given.or_else(|| {
                        let mut probe = kept?.probe.clone()?;
                        probe.timeout = timeout;
                        Some(probe)
                    })
                };
                Dependency {
                    breaker,
                    weight: dep.weight,
                    share: dep.weight * scale,
                    max_level_when_open: dep.max_level_when_open,
                    #[cfg(feature = "tokio")]
                    probe,
                    #[cfg(feature = "tokio")]
                    probe_interval: dep.probe_interval,
                }
            })
            .collect();
        let breakers: Arc<[Breaker]> = dependencies.iter().map(|d| d.breaker.clone()).collect();
        let mut redefine = Vec::new();
        let features: Vec<Arc<FeatureSlot>> = config
            .features
            .iter()
            .map(|(name, feature)| {
                let definition = Definition {
                    min_level: feature.min_level,
                    dependencies: Arc::clone(&breakers),
                    requires: feature
                        .requires
                        .iter()
                        .filter_map(|r| dependencies.iter().find(|d| d.breaker.name() == r))
                        .map(|d| d.breaker.clone())
                        .collect(),
                };
                let kept = previous.and_then(|p| p.feature(name)).or_else(|| {
                    sources
                        .retired
                        .iter()
                        .filter_map(Weak::upgrade)
                        .find(|slot| &*slot.name == name)
                });
                match kept {
                    Some(slot) => {
                        redefine.push((Arc::clone(&slot), definition));
                        slot
                    }
                    None => Arc::new(FeatureSlot::new(name, definition)),
                }
            })
            .collect();
        let (removed_breakers, removed_features) = match previous {
            Some(previous) => (
                previous
                    .dependencies
                    .iter()
                    .filter(|d| !config.dependencies.contains_key(d.breaker.name()))
                    .map(|d| d.breaker.clone())
                    .collect(),
                previous
                    .features
                    .iter()
                    .filter(|f| !config.features.contains_key(&*f.name))
                    .cloned()
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let index = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let telemetry = ManagerTelemetry::new(features.iter().map(|f| &*f.name));
        Rebuilt {
            topology: Topology {
                id: next_id(),
                config,
                dependencies,
                breakers,
                features,
                index,
                telemetry,
            },
            retune,
            redefine,
            removed_breakers,
            removed_features,
        }
    }

    /// The dependency called `name`.
    pub(crate) fn dependency(&self, name: &str) -> Option<&Dependency> {
        self.dependencies.iter().find(|d| d.breaker.name() == name)
    }

    /// The slot of the feature called `name`.
    pub(crate) fn feature(&self, name: &str) -> Option<Arc<FeatureSlot>> {
        self.index
            .get(name)
            .and_then(|&i| self.features.get(i))
            .cloned()
    }
}

/// A topology id never used before (ids start at 1; 0 means none).
fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The power of two that brings the largest weight to at most 1.
fn share_scale(weights: impl Iterator<Item = f64>) -> f64 {
    let heaviest = weights.fold(0.0, f64::max);
    if heaviest > 1.0 {
        // heaviest <= f64::MAX < 2^1024: the exponent fits in an i32.
        0.5_f64.powi(heaviest.log2().ceil() as i32)
    } else {
        1.0
    }
}
