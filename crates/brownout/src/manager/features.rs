//! Feature gates: one published flag per feature, and why it is off.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::breaker::Breaker;
use crate::level::Level;
use crate::name::DependencyName;
use crate::state::BreakerState;
use crate::sync::{AtomicU32, Ordering, Swap};
use crate::telemetry::ShedTelemetry;

/// `FeatureSlot::held` when the feature is on.
const ON: u32 = 0;
/// `FeatureSlot::held` low byte: the level holds it off.
const BY_LEVEL: u32 = 1;
/// The part of `FeatureSlot::held` below the level.
const CODE_MASK: u32 = 0x00FF_FFFF;
/// `FeatureSlot::held` low bits: a reload removed the feature.
const REMOVED: u32 = CODE_MASK;
/// `FeatureSlot::held` low bits from here on: the `requires[code - 2]`
/// dependency holds it off.
const BY_DEPENDENCY: u32 = 2;

/// What a feature needs, as the current configuration says.
#[derive(Debug)]
pub(crate) struct Definition {
    pub(crate) min_level: Level,
    /// Every dependency of the manager, in name order.
    pub(crate) dependencies: Arc<[Breaker]>,
    /// The breakers that must not be open.
    pub(crate) requires: Box<[Breaker]>,
}

/// One feature's definition and its published on/off flag. A reload keeps
/// the slot of a feature it keeps (so gates handed out earlier follow the
/// new definition) and retires the slot of a feature it removes.
#[derive(Debug)]
pub(crate) struct FeatureSlot {
    pub(crate) name: Box<str>,
    /// Whether the feature is on, and if not what holds it off: the level
    /// in the top byte, and in the low 24 bits `ON`, `BY_LEVEL`, `REMOVED`,
    /// or `BY_DEPENDENCY + i` for `requires[i]`. One word, so the flag and
    /// its reason are always published together.
    held: AtomicU32,
    /// Replaced only under the manager's control lock, by a reload; read
    /// without a lock.
    definition: Swap<Definition>,
    shed: ShedTelemetry,
}

impl FeatureSlot {
    pub(crate) fn new(name: &str, definition: Definition) -> Self {
        FeatureSlot {
            shed: ShedTelemetry::feature(name),
            name: name.into(),
            held: AtomicU32::new(ON),
            definition: Swap::new(definition),
        }
    }

    /// The lowest level at which the feature is on.
    pub(crate) fn min_level(&self) -> Level {
        self.definition.load().min_level
    }

    /// Replaces what the feature needs (a reload); the next
    /// [`publish`](Self::publish) decides with it.
    pub(crate) fn define(&self, definition: Definition) {
        self.definition.store(Arc::new(definition));
    }

    /// Switches a feature a reload removed off for good.
    pub(crate) fn retire(&self) {
        let definition = self.definition.load_full();
        self.definition.store(Arc::new(Definition {
            min_level: definition.min_level,
            dependencies: Arc::clone(&definition.dependencies),
            requires: Box::default(),
        }));
        let level = self.held.load(Ordering::Acquire) & !CODE_MASK;
        self.held.store(level | REMOVED, Ordering::Release);
    }

    /// Decides the feature at `level` from the live breaker states and
    /// publishes the answer; returns whether it is on. Called under the
    /// manager's control lock.
    pub(crate) fn publish(&self, level: Level) -> bool {
        let definition = self.definition.load();
        let blocking = definition
            .requires
            .iter()
            .position(|breaker| breaker.state().is_open());
        let code = match blocking {
            // At most one per dependency of the manager: far below `REMOVED`.
            Some(i) => BY_DEPENDENCY.saturating_add(i as u32).min(REMOVED - 1),
            None if level < definition.min_level => BY_LEVEL,
            None => ON,
        };
        self.held
            .store((u32::from(level.as_u8()) << 24) | code, Ordering::Release);
        code == ON
    }

    /// Whether the feature is on, as last published: one load.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.held.load(Ordering::Relaxed) & CODE_MASK == ON
    }

    /// What holds the feature off, as last published.
    pub(crate) fn held_off(&self) -> Option<HeldOff> {
        let held = self.held.load(Ordering::Acquire);
        let level = Level::from_u8((held >> 24) as u8).unwrap_or(Level::Emergency);
        let definition = self.definition.load();
        match held & CODE_MASK {
            ON => None,
            REMOVED => Some(HeldOff::Removed),
            BY_LEVEL => Some(HeldOff::Level {
                level,
                required: definition.min_level,
                retry_after: earliest_trial(&definition.dependencies),
            }),
            code => match definition.requires.get((code - BY_DEPENDENCY) as usize) {
                Some(breaker) => Some(HeldOff::Dependency {
                    dependency: breaker.dependency_name().clone(),
                    state: breaker.state(),
                    retry_after: breaker.retry_after(),
                }),
                // A reload changed `requires` since this was published; the
                // publication it made follows at once.
                None => Some(HeldOff::Level {
                    level,
                    required: definition.min_level,
                    retry_after: earliest_trial(&definition.dependencies),
                }),
            },
        }
    }
}

/// The soonest time any open breaker allows a trial, if one is open.
pub(crate) fn earliest_trial(dependencies: &[Breaker]) -> Option<Duration> {
    dependencies.iter().filter_map(Breaker::retry_after).min()
}

/// Why a feature is off.
///
/// ```
/// use brownout::{DegradationManager, HeldOff, Level};
///
/// let manager = DegradationManager::from_toml_str(r#"
///     [dependencies.openai]
///     weight = 50
///     failure_threshold = 1
///     recovery_timeout = "30s"
///     [dependencies.database]
///     weight = 50
///     [features.ai_suggestions]
///     min_level = "MINIMAL"
///     requires = ["openai"]
/// "#)?;
/// let gate = manager.gate("ai_suggestions")?;
/// let _ = manager.breaker("openai").unwrap().call_sync(|| Err::<(), _>("timeout"));
/// match gate.held_off() {
///     Some(HeldOff::Dependency { dependency, retry_after, .. }) => {
///         assert_eq!(dependency, "openai");
///         assert!(retry_after.unwrap() <= std::time::Duration::from_secs(30));
///     }
///     other => panic!("expected the open dependency, got {other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeldOff {
    /// The effective level is below the feature's minimum.
    Level {
        /// The effective level.
        level: Level,
        /// The lowest level at which the feature is on.
        required: Level,
        /// The soonest time an open breaker allows a trial (which may raise
        /// the level), if any breaker is open (milliseconds in JSON).
        #[serde(
            rename = "retry_after_ms",
            serialize_with = "crate::serde_millis::optional"
        )]
        retry_after: Option<Duration>,
    },
    /// A dependency the feature requires is open or forced open.
    Dependency {
        /// The dependency.
        dependency: DependencyName,
        /// Its breaker's state.
        state: BreakerState,
        /// Time until its breaker allows a trial, while open (milliseconds in JSON).
        #[serde(
            rename = "retry_after_ms",
            serialize_with = "crate::serde_millis::optional"
        )]
        retry_after: Option<Duration>,
    },
    /// A [reload](crate::DegradationManager::reconfigure) removed the
    /// feature: a gate resolved before it answers `false` from then on.
    Removed,
}

impl HeldOff {
    /// The best estimate of when asking again may succeed, if there is one.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HeldOff::Level { retry_after, .. } | HeldOff::Dependency { retry_after, .. } => {
                *retry_after
            }
            HeldOff::Removed => None,
        }
    }
}

impl fmt::Display for HeldOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeldOff::Level {
                level, required, ..
            } => write!(f, "the level is {level} and the feature needs {required}"),
            HeldOff::Dependency {
                dependency, state, ..
            } => write!(f, "dependency `{dependency}` is {state}"),
            HeldOff::Removed => f.write_str("the feature is no longer configured"),
        }
    }
}

/// A pre-resolved handle to one feature: checking it is one atomic load.
///
/// Get it once with [`DegradationManager::gate`](crate::DegradationManager::gate)
/// and keep it; cheap to clone.
///
/// ```
/// use brownout::{DegradationManager, FeatureConfig, Level};
///
/// let manager = DegradationManager::builder()
///     .feature("recommendations", FeatureConfig::new(Level::Optimal))
///     .build()?;
/// let gate = manager.gate("recommendations")?;
/// assert!(gate.is_enabled());
/// manager.force_level(Level::Degraded, None);
/// assert!(!gate.is_enabled());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FeatureGate {
    slot: Arc<FeatureSlot>,
}

impl FeatureGate {
    pub(crate) fn new(slot: Arc<FeatureSlot>) -> Self {
        FeatureGate { slot }
    }

    /// Whether the feature is on now.
    #[inline]
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.slot.is_on()
    }

    /// The feature's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.slot.name
    }

    /// The lowest level at which the feature is on.
    #[must_use]
    pub fn min_level(&self) -> Level {
        self.slot.min_level()
    }

    /// Why the feature is off (`None` while it is on): the level, or the
    /// first required dependency whose breaker is open, with the time until
    /// that breaker's next trial. Meant for the shedding path (a few loads
    /// and a coarse clock read), not for every request.
    #[must_use]
    pub fn held_off(&self) -> Option<HeldOff> {
        self.slot.held_off()
    }

    /// Counts one request shed because this feature is off
    /// (`brownout_requests_shed_total{feature}`, feature `metrics`; a no-op
    /// without it). Adapters that refuse requests call it.
    #[inline]
    pub fn record_shed(&self) {
        self.slot.shed.increment();
    }
}

impl fmt::Debug for FeatureGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureGate")
            .field("name", &self.name())
            .field("enabled", &self.is_enabled())
            .finish()
    }
}
