//! The admission check a gate makes per request, shared with other adapters
//! (`brownout-axum`'s route middleware makes the same decision).

use std::time::Duration;

use brownout::{DegradationManager, FeatureGate, Level};

use crate::error::Shed;

/// What a gate checks per request, and the hint it gives when it sheds: the
/// decision of [`GateLayer`](super::GateLayer), for adapters that answer in
/// their own way.
///
/// ```
/// use brownout::{DegradationManager, FeatureConfig, Level};
/// use brownout_tower::gate::Admission;
/// use std::time::Duration;
///
/// let manager = DegradationManager::builder()
///     .feature("ai", FeatureConfig::new(Level::Optimal))
///     .build()?;
/// let ai = Admission::feature(manager.clone(), manager.gate("ai")?, Duration::from_secs(5));
/// assert!(ai.admit().is_ok());
/// manager.force_level(Level::Degraded, None);
/// let shed = ai.admit().unwrap_err();
/// assert_eq!(shed.feature(), Some("ai"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Admission {
    manager: DegradationManager,
    rule: Rule,
    retry_after: Duration,
}

#[derive(Debug, Clone)]
enum Rule {
    Feature(FeatureGate),
    MinLevel(Level),
}

impl Admission {
    /// Admits while `gate`'s feature is on; sheds with `hint` as `Retry-After`.
    #[must_use]
    pub fn feature(manager: DegradationManager, gate: FeatureGate, hint: Duration) -> Self {
        Admission {
            manager,
            rule: Rule::Feature(gate),
            retry_after: hint,
        }
    }

    /// Admits while the level is at least `level`; sheds with `hint` as `Retry-After`.
    #[must_use]
    pub fn min_level(manager: DegradationManager, level: Level, hint: Duration) -> Self {
        Admission {
            manager,
            rule: Rule::MinLevel(level),
            retry_after: hint,
        }
    }

    /// Changes the `Retry-After` hint given when shedding.
    pub fn set_retry_after(&mut self, hint: Duration) {
        self.retry_after = hint;
    }

    /// `Ok` to call the inner service, or why not.
    ///
    /// Reading the level first also applies any time-driven change that is
    /// due (an upgrade hold or an override running out) before the gate is read.
    ///
    /// # Errors
    /// [`Shed`] when the feature is off or the level is too low.
    #[inline]
    pub fn admit(&self) -> Result<(), Shed> {
        let level = self.manager.level();
        match &self.rule {
            Rule::Feature(gate) if gate.is_enabled() => Ok(()),
            Rule::Feature(gate) => Err(Shed::new(
                Some(gate.clone()),
                level,
                gate.min_level(),
                self.retry_after,
            )),
            Rule::MinLevel(min) if level >= *min => Ok(()),
            Rule::MinLevel(min) => Err(Shed::new(None, level, *min, self.retry_after)),
        }
    }
}
