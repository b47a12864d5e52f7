//! The state of one circuit breaker.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::health::Health;

/// The state of one circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum BreakerState {
    /// Calls flow; outcomes are counted toward opening.
    Closed = 0,
    /// Calls are rejected until the recovery timeout has elapsed.
    Open = 1,
    /// A limited number of trial calls decide whether to close or re-open.
    HalfOpen = 2,
    /// Opened by hand ([`Breaker::force_open`](crate::Breaker::force_open)); stays open until reset.
    ForcedOpen = 3,
    /// Switched off by hand ([`Breaker::disable`](crate::Breaker::disable)): always permits, counts nothing.
    Disabled = 4,
}

impl BreakerState {
    /// Every state, in code order.
    pub const ALL: [BreakerState; 5] = [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
        BreakerState::ForcedOpen,
        BreakerState::Disabled,
    ];

    /// The snake-case name, as displayed, serialised and used as a metrics label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
            BreakerState::ForcedOpen => "forced_open",
            BreakerState::Disabled => "disabled",
        }
    }

    /// Whether calls are refused outright (open or forced open).
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, BreakerState::Open | BreakerState::ForcedOpen)
    }

    /// Pass when calls flow (closed, disabled), warn under trial
    /// (half-open), fail while calls are refused (open, forced open).
    #[must_use]
    pub const fn health(self) -> Health {
        match self {
            BreakerState::Closed | BreakerState::Disabled => Health::Pass,
            BreakerState::HalfOpen => Health::Warn,
            BreakerState::Open | BreakerState::ForcedOpen => Health::Fail,
        }
    }

    pub(crate) const fn from_code(code: u64) -> BreakerState {
        match code {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            3 => BreakerState::ForcedOpen,
            4 => BreakerState::Disabled,
            _ => BreakerState::Closed,
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
