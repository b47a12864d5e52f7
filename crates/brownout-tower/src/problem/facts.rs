//! The facts an answer shows, apart from how it is written.

use std::time::Duration;

use brownout::{BreakerState, HeldOff, Level};

use super::Kind;

/// `held_off` as the answer shows it (its dependency is [`Facts::dependency`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held {
    Level {
        level: Level,
        required: Level,
        retry_after_ms: Option<u64>,
    },
    Dependency {
        state: BreakerState,
        retry_after_ms: Option<u64>,
    },
    /// A reason this version does not know: serialised as the core does,
    /// and never cached.
    Other,
}

/// Everything in an answer besides the names, as the answer shows it:
/// durations in the whole milliseconds or seconds it prints (the timeout in
/// full, as `detail` prints it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scalars {
    pub(super) kind: Kind,
    /// `level` and `required_level`.
    pub(super) levels: Option<(Level, Level)>,
    pub(super) held_off: Option<Held>,
    pub(super) state: Option<BreakerState>,
    /// `retry_after` and the `Retry-After` header, in whole seconds.
    pub(super) retry_after: Option<u64>,
    pub(super) timeout: Option<Duration>,
}

/// Everything an answer is made of: two refusals with the same facts get
/// the same answer, byte for byte (`detail`, the error's `Display`, prints
/// nothing else either).
#[derive(Debug, Clone, Copy)]
pub(super) struct Facts<'a> {
    pub(super) feature: Option<&'a str>,
    pub(super) dependency: Option<&'a str>,
    /// The reason, for [`Held::Other`].
    pub(super) other: Option<&'a HeldOff>,
    pub(super) scalars: Scalars,
}

/// Whole milliseconds, saturating (as the core serialises durations).
pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl<'a> Facts<'a> {
    /// The facts of a refusal about `dependency` alone, before the caller
    /// adds what its kind shows.
    pub(super) fn of_dependency(kind: Kind, dependency: &'a str) -> Self {
        Facts {
            feature: None,
            dependency: Some(dependency),
            other: None,
            scalars: Scalars {
                kind,
                levels: None,
                held_off: None,
                state: None,
                retry_after: None,
                timeout: None,
            },
        }
    }
}
