//! The keys (and fixed values) of the flag metadata the provider attaches
//! to every resolution.

/// The effective level when the flag was resolved (string, `"OPTIMAL"`
/// …). For a feature held off by the level, the level that decision
/// was made at. On every resolution.
pub const LEVEL: &str = "level";

/// The health score when the flag was resolved (float, 0 to 100). On
/// every resolution.
pub const SCORE: &str = "score";

/// The lowest level at which the feature is on (string). Features only.
pub const MIN_LEVEL: &str = "min_level";

/// What holds an off feature off (string): [`HELD_OFF_BY_LEVEL`] or
/// [`HELD_OFF_BY_DEPENDENCY`]. Absent while the feature is on.
pub const HELD_OFF_BY: &str = "held_off_by";

/// [`HELD_OFF_BY`] when the level is below the feature's `min_level`.
pub const HELD_OFF_BY_LEVEL: &str = "level";

/// [`HELD_OFF_BY`] when a dependency the feature requires is open.
pub const HELD_OFF_BY_DEPENDENCY: &str = "dependency";

/// What holds an off feature off, as a sentence (string), such as
/// ``dependency `openai` is open`` or `the level is MINIMAL and the
/// feature needs OPTIMAL`. Absent while the feature is on.
pub const HELD_OFF: &str = "held_off";

/// The name of the required dependency whose open breaker holds the
/// feature off (string). Only with [`HELD_OFF_BY_DEPENDENCY`].
pub const DEPENDENCY: &str = "dependency";

/// That dependency's breaker state (string, `"open"` or
/// `"forced_open"`). Only with [`HELD_OFF_BY_DEPENDENCY`].
pub const DEPENDENCY_STATE: &str = "dependency_state";

/// The best estimate of when the feature may come back, in whole
/// milliseconds (int): the blocking breaker's time to its next trial,
/// or for the level the soonest trial of any open breaker. Only for an
/// off feature, and only when there is an estimate.
pub const RETRY_AFTER_MS: &str = "retry_after_ms";
