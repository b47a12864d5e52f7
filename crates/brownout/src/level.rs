//! The five degradation levels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::health::Health;

/// How much of the service is on, from worst to best.
///
/// Ordered `Emergency < Minimal < Limited < Degraded < Optimal`; displays and
/// (de)serialises in upper case (`"OPTIMAL"`); parses in any case.
///
/// ```
/// use brownout::Level;
///
/// assert!(Level::Emergency < Level::Optimal);
/// assert_eq!(Level::Degraded.to_string(), "DEGRADED");
/// assert_eq!("limited".parse::<Level>().unwrap(), Level::Limited);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Below the minimal threshold: nothing but the status page, manual intervention required.
    Emergency = 0,
    /// Read-only service.
    Minimal = 1,
    /// Cache-only, critical APIs only.
    Limited = 2,
    /// Cache with fallback, slow APIs tolerated.
    Degraded = 3,
    /// Everything on.
    Optimal = 4,
}

impl Level {
    /// Every level, from worst to best.
    pub const ALL: [Level; 5] = [
        Level::Emergency,
        Level::Minimal,
        Level::Limited,
        Level::Degraded,
        Level::Optimal,
    ];

    /// The upper-case name, as displayed and serialised.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Emergency => "EMERGENCY",
            Level::Minimal => "MINIMAL",
            Level::Limited => "LIMITED",
            Level::Degraded => "DEGRADED",
            Level::Optimal => "OPTIMAL",
        }
    }

    /// Pass at OPTIMAL, warn from DEGRADED down to MINIMAL (optional work
    /// is shed but the service answers), fail at EMERGENCY.
    #[must_use]
    pub const fn health(self) -> Health {
        match self {
            Level::Optimal => Health::Pass,
            Level::Degraded | Level::Limited | Level::Minimal => Health::Warn,
            Level::Emergency => Health::Fail,
        }
    }

    /// The level as a number, `0` (EMERGENCY) to `4` (OPTIMAL), as exported to metrics.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The inverse of [`Level::as_u8`]; `None` above 4.
    #[must_use]
    pub const fn from_u8(n: u8) -> Option<Level> {
        match n {
            0 => Some(Level::Emergency),
            1 => Some(Level::Minimal),
            2 => Some(Level::Limited),
            3 => Some(Level::Degraded),
            4 => Some(Level::Optimal),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing a [`Level`] from a string that names none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?}, expected one of OPTIMAL, DEGRADED, LIMITED, MINIMAL, EMERGENCY")]
pub struct ParseLevelError(String);

impl FromStr for Level {
    type Err = ParseLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseLevelError(s.to_owned()))
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for (i, level) in Level::ALL.into_iter().enumerate() {
            assert_eq!(Level::from_u8(level.as_u8()), Some(level));
            assert_eq!(level.as_u8() as usize, i);
            assert_eq!(level.to_string().to_lowercase().parse::<Level>(), Ok(level));
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{level}\""));
            assert_eq!(serde_json::from_str::<Level>(&json).unwrap(), level);
        }
        assert!(Level::Minimal < Level::Limited);
        assert!("bogus".parse::<Level>().is_err());
        assert_eq!(Level::from_u8(5), None);
    }
}
