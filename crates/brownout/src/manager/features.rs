//! Feature gates: one published flag per feature.

use std::fmt;
use std::sync::Arc;

use crate::level::Level;
use crate::sync::{AtomicBool, Ordering};

/// One feature's definition and its published on/off flag.
#[derive(Debug)]
pub(crate) struct FeatureSlot {
    pub(crate) name: Box<str>,
    pub(crate) min_level: Level,
    /// Indexes of the dependencies whose breaker must not be open.
    pub(crate) requires: Box<[usize]>,
    pub(crate) enabled: AtomicBool,
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
        self.slot.enabled.load(Ordering::Relaxed)
    }

    /// The feature's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.slot.name
    }

    /// The lowest level at which the feature is on.
    #[must_use]
    pub fn min_level(&self) -> Level {
        self.slot.min_level
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
