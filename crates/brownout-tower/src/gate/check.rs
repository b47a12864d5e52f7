//! The admission check a gate makes per request.

use std::time::Duration;

use brownout::{DegradationManager, FeatureGate, Level};

use crate::error::Shed;

/// What a gate checks, and the hint it gives when it sheds.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    manager: DegradationManager,
    rule: Rule,
    retry_after: Duration,
}

#[derive(Debug, Clone)]
enum Rule {
    Feature(FeatureGate),
    MinLevel(Level),
}

impl Check {
    pub(crate) fn feature(manager: DegradationManager, gate: FeatureGate, hint: Duration) -> Self {
        Check {
            manager,
            rule: Rule::Feature(gate),
            retry_after: hint,
        }
    }

    pub(crate) fn min_level(manager: DegradationManager, level: Level, hint: Duration) -> Self {
        Check {
            manager,
            rule: Rule::MinLevel(level),
            retry_after: hint,
        }
    }

    pub(crate) fn set_retry_after(&mut self, hint: Duration) {
        self.retry_after = hint;
    }

    /// `Ok` to call the inner service, or why not.
    ///
    /// Reading the level first also applies any time-driven change that is
    /// due (an upgrade hold or an override running out) before the gate is read.
    #[inline]
    pub(crate) fn admit(&self) -> Result<(), Shed> {
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
