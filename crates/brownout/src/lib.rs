//! Graceful degradation for Rust services.
//!
//! Every external dependency gets a weighted circuit breaker. Breaker states
//! fold into one health score (0–100), the score picks one of five
//! [`Level`]s, and the level switches features on and off, so a service sheds
//! optional work step by step and heals itself when dependencies return.
//!
//! ```
//! use brownout::{DegradationManager, Level};
//!
//! let manager = DegradationManager::from_toml_str(r#"
//!     [dependencies.openai]
//!     weight = 50
//!     failure_threshold = 5
//!     recovery_timeout = "30s"
//!
//!     [dependencies.database]
//!     weight = 50
//!
//!     [features.ai_suggestions]
//!     min_level = "OPTIMAL"
//!     requires = ["openai"]
//! "#)?;
//!
//! let openai = manager.breaker("openai").expect("configured above");
//! for _ in 0..5 {
//!     let _ = openai.call_sync(|| Err::<String, _>("503 from upstream"));
//! }
//! assert_eq!(manager.health_score(), 50.0);
//! assert_eq!(manager.level(), Level::Minimal);
//! assert!(!manager.is_enabled("ai_suggestions"));
//! # Ok::<(), brownout::ConfigError>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tracing` | yes | breaker transitions and level changes as `tracing` events (target `brownout`) |
//! | `metrics` | no | calls, breaker states and transitions, score, level and feature gates through the `metrics` facade ([`metric_names`]) |
//! | `tokio` | no | health probes and the background task (`DegradationManager::spawn_background`), `DegradationManager::subscribe`, `clock::TokioClock` |
//!
//! # How it works
#![doc = include_str!("../../../docs/semantics.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod breaker;
mod change;
pub mod clock;
mod config;
mod error;
mod events;
mod health;
mod level;
mod manager;
mod name;
mod nanos;
mod outcome;
mod serde_millis;
mod state;
mod sync;
mod telemetry;
mod transition;
#[cfg(feature = "watch")]
mod watch;

pub use breaker::{
    Breaker, BreakerSnapshot, Call, OwnedPermit, Permit, TransitionSnapshot, TripCause,
    TripSnapshot, WindowCounts,
};
pub use change::{ChangeCause, LevelChange};
pub use config::{
    BreakerConfig, Config, DEFAULT_PROBE_TIMEOUT, DependencyConfig, FeatureConfig, LevelsConfig,
    MAX_FAILURE_THRESHOLD, MAX_WINDOW, Policy,
};
#[cfg(feature = "tokio")]
pub use error::NoRuntime;
pub use error::{
    ConfigError, Error, Rejected, ReloadError, TimedOut, UnknownDependency, UnknownFeature,
};
pub use health::Health;
pub use level::{Level, ParseLevelError};
#[cfg(feature = "tokio")]
pub use manager::Background;
pub use manager::builder::ManagerBuilder;
pub use manager::{
    DegradationManager, DependencySnapshot, FeatureGate, FeatureSnapshot, HeldOff,
    LevelChangeSnapshot, ListenerId, OverrideSnapshot, Snapshot,
};
pub use name::DependencyName;
pub use outcome::Outcome;
pub use state::BreakerState;
pub use telemetry::names as metric_names;
pub use transition::Transition;
#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
pub use watch::{ConfigWatcher, WatchError, WatchStatus};

/// The README's quick start, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
