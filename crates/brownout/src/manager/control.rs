//! Score to level: thresholds, caps, hysteresis, upgrade hold and override.
//! Pure logic, no atomics: the manager calls it under its control lock.

use crate::clock::Nanos;
use crate::config::LevelsConfig;
use crate::level::Level;

/// Scores within this of a threshold count as reaching it, so floating-point
/// rounding never pushes a boundary score down a level.
pub(crate) const TOLERANCE: f64 = 1e-9;

/// The highest level whose threshold plus `bonus` the score reaches. The
/// required score never exceeds 100, so no hysteresis can lock a level out:
/// a score of 100 always reaches OPTIMAL.
#[must_use]
pub(crate) fn level_for(score: f64, levels: &LevelsConfig, bonus: f64) -> Level {
    [
        Level::Optimal,
        Level::Degraded,
        Level::Limited,
        Level::Minimal,
    ]
    .into_iter()
    .find(|&level| score + TOLERANCE >= (levels.threshold(level) + bonus).min(100.0))
    .unwrap_or(Level::Emergency)
}

/// A manual level, with its expiry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Override {
    pub(crate) level: Level,
    pub(crate) until: Option<Nanos>,
    /// Who set it: `None` for [`force_level`](crate::DegradationManager::force_level).
    pub(crate) source: Option<&'static str>,
}

/// What a recomputation does to the manual override.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum OverrideChange {
    /// Leave it as it is.
    Keep,
    /// Force this level.
    Set(Override),
    /// End the override.
    Clear,
    /// End the override if this source set it.
    ClearFrom(&'static str),
}

/// The computed level and its anti-flapping memory.
#[derive(Debug)]
pub(crate) struct Controller {
    computed: Level,
    /// Since when an upgrade has been eligible, while `upgrade_hold` runs.
    pending_since: Option<Nanos>,
    overridden: Option<Override>,
}

impl Controller {
    pub(crate) fn new(score: f64, cap: Level, levels: &LevelsConfig) -> Self {
        Controller {
            computed: level_for(score, levels, 0.0).min(cap),
            pending_since: None,
            overridden: None,
        }
    }

    pub(crate) fn computed(&self) -> Level {
        self.computed
    }

    pub(crate) fn overridden(&self) -> Option<Override> {
        self.overridden
    }

    pub(crate) fn effective(&self) -> Level {
        self.overridden.map_or(self.computed, |o| o.level)
    }

    pub(crate) fn set_override(&mut self, value: Option<Override>) {
        self.overridden = value;
    }

    /// Folds a new score in. Downgrades apply at once; an upgrade needs the
    /// score at the higher threshold plus `hysteresis`, held for
    /// `upgrade_hold`. Returns the next time something changes on its own
    /// (a hold or an override expiring), if any.
    pub(crate) fn update(
        &mut self,
        score: f64,
        cap: Level,
        levels: &LevelsConfig,
        now: Nanos,
    ) -> Option<Nanos> {
        if let Some(o) = self.overridden
            && o.until.is_some_and(|until| now >= until)
        {
            self.overridden = None;
        }
        let target = level_for(score, levels, 0.0).min(cap);
        let eligible = level_for(score, levels, levels.hysteresis).min(cap);
        if target <= self.computed {
            self.computed = target;
            self.pending_since = None;
        } else if eligible <= self.computed {
            self.pending_since = None;
        } else {
            let since = *self.pending_since.get_or_insert(now);
            let due = since.saturating_add(levels.upgrade_hold);
            if now >= due {
                self.computed = eligible;
                self.pending_since = None;
            }
        }
        let hold_due = self
            .pending_since
            .map(|since| since.saturating_add(levels.upgrade_hold));
        let override_due = self.overridden.and_then(|o| o.until);
        match (hold_due, override_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> Nanos {
        Nanos::ZERO.saturating_add(Duration::from_secs(secs))
    }

    #[test]
    fn boundaries_belong_to_the_higher_level() {
        let l = LevelsConfig::default();
        assert_eq!(level_for(90.0, &l, 0.0), Level::Optimal);
        assert_eq!(level_for(89.999_999, &l, 0.0), Level::Degraded);
        assert_eq!(level_for(70.0 - 1e-12, &l, 0.0), Level::Degraded);
        assert_eq!(level_for(60.0, &l, 0.0), Level::Limited);
        assert_eq!(level_for(40.0, &l, 0.0), Level::Minimal);
        assert_eq!(level_for(39.9, &l, 0.0), Level::Emergency);
        assert_eq!(level_for(0.0, &l, 0.0), Level::Emergency);
    }

    #[test]
    fn hysteresis_and_hold_delay_upgrades_only() {
        let levels = LevelsConfig {
            hysteresis: 5.0,
            upgrade_hold: Duration::from_secs(10),
            ..LevelsConfig::default()
        };
        let mut c = Controller::new(100.0, Level::Optimal, &levels);
        assert_eq!(c.update(50.0, Level::Optimal, &levels, at(0)), None);
        assert_eq!(c.computed(), Level::Minimal);
        // 92 reaches OPTIMAL's 90 but not 90 + 5: DEGRADED (70 + 5) is eligible, after the hold.
        assert_eq!(c.update(92.0, Level::Optimal, &levels, at(1)), Some(at(11)));
        assert_eq!(c.computed(), Level::Minimal);
        assert_eq!(c.update(92.0, Level::Optimal, &levels, at(11)), None);
        assert_eq!(c.computed(), Level::Degraded);
        // A dip cancels a pending upgrade; a downgrade is immediate.
        assert!(c.update(96.0, Level::Optimal, &levels, at(12)).is_some());
        assert_eq!(c.update(80.0, Level::Optimal, &levels, at(13)), None);
        assert_eq!(
            c.update(96.0, Level::Optimal, &levels, at(14)),
            Some(at(24))
        );
        assert_eq!(c.update(65.0, Level::Optimal, &levels, at(15)), None);
        assert_eq!(c.computed(), Level::Limited);
    }

    #[test]
    fn no_hysteresis_locks_optimal_out() {
        for (optimal, hysteresis) in [(100.0, 1.0), (90.0, 15.0), (90.0, 99.0)] {
            let levels = LevelsConfig {
                optimal,
                hysteresis,
                ..LevelsConfig::default()
            };
            let mut c = Controller::new(100.0, Level::Optimal, &levels);
            c.update(0.0, Level::Optimal, &levels, at(0));
            assert_eq!(c.computed(), Level::Emergency);
            c.update(100.0, Level::Optimal, &levels, at(1));
            assert_eq!(c.computed(), Level::Optimal, "{optimal} + {hysteresis}");
        }
    }

    #[test]
    fn caps_and_overrides() {
        let levels = LevelsConfig::default();
        let mut c = Controller::new(100.0, Level::Optimal, &levels);
        c.update(70.0, Level::Minimal, &levels, at(0));
        assert_eq!(c.computed(), Level::Minimal);
        c.set_override(Some(Override {
            level: Level::Emergency,
            until: Some(at(5)),
            source: None,
        }));
        assert_eq!(c.update(100.0, Level::Optimal, &levels, at(1)), Some(at(5)));
        assert_eq!(
            (c.effective(), c.computed()),
            (Level::Emergency, Level::Optimal)
        );
        assert_eq!(c.update(100.0, Level::Optimal, &levels, at(5)), None);
        assert_eq!(c.effective(), Level::Optimal);
    }
}
