//! Level thresholds, half-open credit and anti-flapping settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::check::Check;
use super::duration;
use crate::error::ConfigError;
use crate::level::Level;

/// The `[levels]` table: score thresholds and anti-flapping.
///
/// A score equal to a threshold belongs to the higher level. Thresholds must
/// be strictly decreasing within (0, 100].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelsConfig {
    /// Lowest score of OPTIMAL. Default: 90.
    pub optimal: f64,
    /// Lowest score of DEGRADED. Default: 70.
    pub degraded: f64,
    /// Lowest score of LIMITED. Default: 60.
    pub limited: f64,
    /// Lowest score of MINIMAL; below it is EMERGENCY. Default: 40.
    pub minimal: f64,
    /// Extra points above a level's threshold an upgrade needs, in [0, 100). Default: 0.
    pub hysteresis: f64,
    /// How long the score must hold before an upgrade applies. Default: `"0s"`.
    #[serde(with = "duration::required")]
    pub upgrade_hold: Duration,
    /// Availability counted for a half-open dependency, in [0, 1]. Default: 0:
    /// a breaker under trial counts as down until it closes, so a dependency
    /// whose probe keeps failing holds the level steady instead of lifting it
    /// for every trial. A credit above 0 raises the level during trials, and
    /// a failing trial drops it again: the level (and any alert on it) flaps
    /// once per recovery timeout.
    pub half_open_credit: f64,
}

impl Default for LevelsConfig {
    fn default() -> Self {
        LevelsConfig {
            optimal: 90.0,
            degraded: 70.0,
            limited: 60.0,
            minimal: 40.0,
            hysteresis: 0.0,
            upgrade_hold: Duration::ZERO,
            half_open_credit: 0.0,
        }
    }
}

impl LevelsConfig {
    /// The lowest score of `level` (EMERGENCY: 0).
    #[must_use]
    pub fn threshold(&self, level: Level) -> f64 {
        match level {
            Level::Optimal => self.optimal,
            Level::Degraded => self.degraded,
            Level::Limited => self.limited,
            Level::Minimal => self.minimal,
            Level::Emergency => 0.0,
        }
    }

    pub(crate) fn validate_at(&self, prefix: &str) -> Result<(), ConfigError> {
        let c = Check::new(prefix);
        let mut above = ("", 100.0_f64, true);
        for (field, value) in [
            ("optimal", self.optimal),
            ("degraded", self.degraded),
            ("limited", self.limited),
            ("minimal", self.minimal),
        ] {
            let (upper_name, upper, inclusive) = above;
            let in_range = value.is_finite() && value > 0.0;
            let below_upper = if inclusive {
                value <= upper
            } else {
                value < upper
            };
            if !in_range || !below_upper {
                let reason = if inclusive {
                    "must be in (0, 100]".to_owned()
                } else {
                    format!("must be in (0, {upper_name}) (thresholds strictly decreasing)")
                };
                return Err(c.err(field, reason));
            }
            above = (field, value, false);
        }
        if !(self.hysteresis.is_finite() && (0.0..100.0).contains(&self.hysteresis)) {
            return Err(c.err("hysteresis", "must be in [0, 100)"));
        }
        if !(self.half_open_credit.is_finite() && (0.0..=1.0).contains(&self.half_open_credit)) {
            return Err(c.err("half_open_credit", "must be in [0, 1]"));
        }
        Ok(())
    }
}
