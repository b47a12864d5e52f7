//! The admission check every gate makes per request: the tower
//! [`GateLayer`](super::GateLayer), and through it `brownout-axum`'s
//! middleware and extractor.

use std::time::Duration;

use brownout::{DegradationManager, FeatureGate, HeldOff, Level};

use super::DEFAULT_RETRY_AFTER;
use crate::error::Shed;

/// What a gate checks per request, and what it says when it sheds: the
/// decision of [`GateLayer`](super::GateLayer), for adapters that answer in
/// their own way.
///
/// A shed request is counted (`brownout_requests_shed_total`, with the
/// core's `metrics` feature) and comes with the real reason, from
/// [`FeatureGate::held_off`]: an open dependency the feature requires, or
/// the level.
///
/// ```
/// use brownout::{DegradationManager, FeatureConfig, HeldOff, Level};
/// use brownout_tower::gate::Admission;
///
/// let manager = DegradationManager::builder()
///     .feature("ai", FeatureConfig::new(Level::Optimal))
///     .build()?;
/// let ai = Admission::feature(&manager, manager.gate("ai")?);
/// assert_eq!(ai.admit().ok(), Some(Level::Optimal));
/// manager.force_level(Level::Degraded, None);
/// let shed = ai.admit().unwrap_err();
/// assert_eq!(shed.feature(), Some("ai"));
/// assert!(matches!(shed.held_off(), HeldOff::Level { required: Level::Optimal, .. }));
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
    /// Admits while `gate`'s feature is on (its `min_level` is met and none
    /// of the dependencies it requires is open); `gate` comes from
    /// `manager` ([`DegradationManager::gate`], which catches a typo).
    #[must_use]
    pub fn feature(manager: &DegradationManager, gate: FeatureGate) -> Self {
        Admission::new(manager, Rule::Feature(gate))
    }

    /// Admits while the effective level is at least `level`.
    #[must_use]
    pub fn min_level(manager: &DegradationManager, level: Level) -> Self {
        Admission::new(manager, Rule::MinLevel(level))
    }

    fn new(manager: &DegradationManager, rule: Rule) -> Self {
        Admission {
            manager: manager.clone(),
            rule,
            retry_after: DEFAULT_RETRY_AFTER,
        }
    }

    /// The retry hint of a shed request when no breaker gives an estimate
    /// (default [`DEFAULT_RETRY_AFTER`]).
    #[must_use]
    pub fn retry_after(mut self, hint: Duration) -> Self {
        self.retry_after = hint;
        self
    }

    /// The feature's gate, for a gate on a feature.
    #[must_use]
    pub fn feature_gate(&self) -> Option<&FeatureGate> {
        match &self.rule {
            Rule::Feature(gate) => Some(gate),
            Rule::MinLevel(_) => None,
        }
    }

    /// The effective level if a request would pass now; records nothing
    /// (for callers that degrade instead of refusing).
    ///
    /// Reading the level first also applies any time-driven change that is
    /// due (an upgrade hold or an override running out) before the gate is read.
    #[inline]
    #[must_use]
    pub fn peek(&self) -> Option<Level> {
        let level = self.manager.level();
        let passes = match &self.rule {
            Rule::Feature(gate) => gate.is_enabled(),
            Rule::MinLevel(min) => level >= *min,
        };
        passes.then_some(level)
    }

    /// `Ok` with the effective level to call the inner service, or the
    /// counted [`Shed`] saying why not.
    ///
    /// # Errors
    /// [`Shed`] when the feature is off or the level is too low.
    #[inline]
    pub fn admit(&self) -> Result<Level, Shed> {
        match self.peek() {
            Some(level) => Ok(level),
            None => self.shed(),
        }
    }

    /// Counts and explains a shed request.
    #[cold]
    #[inline(never)]
    fn shed(&self) -> Result<Level, Shed> {
        let level = self.manager.level();
        match &self.rule {
            Rule::Feature(gate) => {
                // The feature came back on since `peek`: let it through.
                let Some(why) = gate.held_off() else {
                    return Ok(level);
                };
                gate.record_shed();
                let gate = gate.clone();
                let required = gate.min_level();
                Err(Shed::new(
                    Some(gate),
                    level,
                    required,
                    why,
                    self.retry_after,
                ))
            }
            // The level came back up since `peek`: let it through.
            Rule::MinLevel(min) if level >= *min => Ok(level),
            Rule::MinLevel(min) => {
                self.manager.record_level_shed(*min);
                let why = HeldOff::Level {
                    level,
                    required: *min,
                    retry_after: self.manager.retry_after(),
                };
                Err(Shed::new(None, level, *min, why, self.retry_after))
            }
        }
    }
}
