//! An [OpenFeature](https://openfeature.dev) provider over brownout's
//! [`DegradationManager`]: every brownout feature is a boolean flag, and the
//! level and the health score are two more flags.
//!
//! ```
//! use brownout::DegradationManager;
//! use brownout_openfeature::{BrownoutProvider, LEVEL_FLAG, SCORE_FLAG, metadata};
//! use open_feature::{EvaluationReason, FlagMetadataValue, OpenFeature};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = DegradationManager::from_toml_str(r#"
//!     [dependencies.openai]
//!     weight = 50
//!     failure_threshold = 1
//!     [dependencies.database]
//!     weight = 50
//!     [features.ai_suggestions]
//!     min_level = "OPTIMAL"
//!     requires = ["openai"]
//! "#)?;
//! # let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! # runtime.block_on(async {
//! OpenFeature::singleton_mut()
//!     .await
//!     .set_provider(BrownoutProvider::new(manager.clone()))
//!     .await;
//! let client = OpenFeature::singleton().await.create_client();
//!
//! // In a request handler: an error (an unknown flag, a wrong type) is an
//! // `Err`, so pick the fallback yourself.
//! let suggest = client
//!     .get_bool_value("ai_suggestions", None, None)
//!     .await
//!     .unwrap_or(false);
//! assert!(suggest);
//!
//! // openai fails: its breaker opens, the level drops, the feature goes off.
//! let _ = manager.breaker("openai")?.call_sync(|| Err::<(), _>("503"));
//! let details = client
//!     .get_bool_details("ai_suggestions", None, None)
//!     .await
//!     .expect("a configured feature resolves");
//! assert!(!details.value);
//! assert_eq!(details.reason, Some(EvaluationReason::Disabled));
//! assert_eq!(
//!     details.flag_metadata.values.get(metadata::DEPENDENCY),
//!     Some(&FlagMetadataValue::String("openai".into()))
//! );
//!
//! let level = client.get_string_value(LEVEL_FLAG, None, None).await;
//! assert_eq!(level.as_deref(), Ok("MINIMAL"));
//! let score = client.get_float_value(SCORE_FLAG, None, None).await;
//! assert_eq!(score, Ok(50.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok(())
//! # }
//! ```
//!
//! # Flags
//!
//! | flag key | type | value |
//! |---|---|---|
//! | a feature's name | bool | whether the feature is on now ([`DegradationManager::held_off`] is `None`) |
//! | [`LEVEL_FLAG`] `brownout.level` | string | the effective level: `OPTIMAL`, `DEGRADED`, `LIMITED`, `MINIMAL` or `EMERGENCY` |
//! | [`SCORE_FLAG`] `brownout.score` | float | the health score, 0 to 100 |
//!
//! The two `brownout.*` keys are reserved: they always resolve to the level
//! and the score, even if a feature carries the same name. The evaluation
//! context is not used: brownout's answers are the same for every user.
//!
//! # Reasons and variants
//!
//! - A feature that is on: reason `TARGETING_MATCH` (the rules, level ≥
//!   `min_level` and no required dependency open, matched), variant `on`.
//! - A feature that is off: value `false`, reason `DISABLED` (brownout has
//!   switched it off), variant `off`; the flag metadata says what holds it
//!   off. The `false` is brownout's answer, not a fallback default.
//! - `brownout.level` and `brownout.score`: reason `TARGETING_MATCH`; the
//!   variant of `brownout.level` is the level, `brownout.score` has none.
//!
//! No answer is `STATIC` or `CACHED`: every value can change with the next
//! breaker transition, and `STATIC` would tell caching layers otherwise.
//!
//! # Flag metadata
//!
//! Every successful resolution carries [`metadata::LEVEL`] (string) and
//! [`metadata::SCORE`] (float). A feature adds [`metadata::MIN_LEVEL`]; a
//! feature that is off adds [`metadata::HELD_OFF_BY`] (`level` or
//! `dependency`), [`metadata::HELD_OFF`] (a sentence), and, as they apply,
//! [`metadata::DEPENDENCY`], [`metadata::DEPENDENCY_STATE`] and
//! [`metadata::RETRY_AFTER_MS`]. See [`metadata`].
//!
//! # Errors
//!
//! - A key that is neither a feature nor a `brownout.*` flag:
//!   `FLAG_NOT_FOUND`.
//! - A known flag asked for as another type (an int or a string from a
//!   feature, a bool from `brownout.level`, an int from `brownout.score`, a
//!   struct from anything): `TYPE_MISMATCH`. Nothing is converted.
//!
//! The client returns these as `Err` from `get_*_value` and
//! `get_*_details`; the provider never answers an unknown flag with a
//! default and never panics.
//!
//! # Live state, no provider events
//!
//! Every evaluation reads the manager's live state. The feature is looked
//! up by name each time, so a feature that
//! [`reconfigure`](DegradationManager::reconfigure) adds resolves at the
//! next evaluation, and one it removes is
//! `FLAG_NOT_FOUND` from then on (also when the removal lands during the
//! evaluation). The feature's flag is one atomic word that says both
//! whether it is on and what holds it off, so the value, the reason and
//! the metadata always agree. Time-driven changes (an override's TTL, an
//! upgrade hold) are applied before answering, as
//! [`DegradationManager::level`] does. The provider keeps no cache, so
//! there is nothing to invalidate.
//!
//! The Rust SDK (`open-feature` 0.3) has no provider events: there is no
//! `PROVIDER_CONFIGURATION_CHANGED` (nor `PROVIDER_READY`, `PROVIDER_STALE`)
//! for a provider to emit and no handler API for applications. The provider
//! is ready as soon as it is built ([`ProviderStatus::Ready`]). To be told
//! when the level changes, register
//! [`DegradationManager::on_level_change`] or, with brownout's `tokio`
//! feature, use `DegradationManager::subscribe`, on the same manager.
//!
//! [`ProviderStatus::Ready`]: open_feature::provider::ProviderStatus::Ready

use std::fmt;

use brownout::{DegradationManager, FeatureGate, HeldOff, Level};
use open_feature::provider::{FeatureProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{
    EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult,
    FlagMetadata, StructValue, Type,
};

/// The `open-feature` crate this provider implements, re-exported so that
/// applications can name the same version.
pub use open_feature;

/// The provider's name in its [`ProviderMetadata`]: `"brownout"`.
pub const PROVIDER_NAME: &str = "brownout";

/// The flag key of the effective level, a string flag: `"brownout.level"`.
pub const LEVEL_FLAG: &str = "brownout.level";

/// The flag key of the health score, a float flag (0 to 100): `"brownout.score"`.
pub const SCORE_FLAG: &str = "brownout.score";

/// The variant of a feature that is on.
pub const VARIANT_ON: &str = "on";

/// The variant of a feature that is off.
pub const VARIANT_OFF: &str = "off";

/// The keys (and fixed values) of the flag metadata the provider attaches
/// to every resolution.
pub mod metadata {
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
}

/// An OpenFeature [`FeatureProvider`] that answers from a brownout
/// [`DegradationManager`].
///
/// Cheap to clone (the manager is shared). Build it with
/// [`BrownoutProvider::new`] and hand it to
/// `OpenFeature::set_provider`; see the [crate documentation](crate) for
/// the flags, reasons, metadata and errors.
#[derive(Clone)]
pub struct BrownoutProvider {
    manager: DegradationManager,
    metadata: ProviderMetadata,
}

impl BrownoutProvider {
    /// A provider answering from `manager` (and so from every clone of it).
    #[must_use]
    pub fn new(manager: DegradationManager) -> Self {
        BrownoutProvider {
            manager,
            metadata: ProviderMetadata::new(PROVIDER_NAME),
        }
    }

    /// The manager the provider answers from.
    #[must_use]
    pub fn manager(&self) -> &DegradationManager {
        &self.manager
    }

    /// Finds `key`: a reserved flag, or a feature looked up by name now.
    fn lookup(&self, key: &str) -> EvaluationResult<Flag> {
        match key {
            LEVEL_FLAG => Ok(Flag::Level),
            SCORE_FLAG => Ok(Flag::Score),
            _ => self
                .manager
                .gate(key)
                .map(Flag::Feature)
                .map_err(|_| not_found(key)),
        }
    }

    /// Flag metadata with `level` and the score now.
    fn base_metadata(&self, level: Level) -> FlagMetadata {
        metadata_with(level, self.manager.health_score())
    }

    /// A feature's answer. The value, the reason and what holds it off come
    /// from one load of the feature's published word, so they agree.
    fn resolve_feature(
        &self,
        key: &str,
        mut gate: FeatureGate,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        // Applies a due override expiry or upgrade hold before the gate is read.
        let level = self.manager.level();
        let mut held = gate.held_off();
        if held
            .as_ref()
            .is_some_and(|held| !is_level_or_dependency(held))
        {
            // Neither the level nor a dependency: a reload removed the
            // feature after the lookup (`HeldOff::Removed`). Look again: it
            // is gone, or a later reload has brought it back.
            gate = self.manager.gate(key).map_err(|_| not_found(key))?;
            held = gate.held_off();
        }
        Ok(match held {
            None => ResolutionDetails {
                value: true,
                variant: Some(VARIANT_ON.to_owned()),
                reason: Some(EvaluationReason::TargetingMatch),
                flag_metadata: Some(
                    self.base_metadata(level)
                        .with_value(metadata::MIN_LEVEL, gate.min_level().as_str()),
                ),
            },
            Some(held) => ResolutionDetails {
                value: false,
                variant: Some(VARIANT_OFF.to_owned()),
                reason: Some(EvaluationReason::Disabled),
                flag_metadata: Some(self.held_off_metadata(&gate, level, &held)),
            },
        })
    }

    /// The metadata of a feature that is off.
    fn held_off_metadata(&self, gate: &FeatureGate, level: Level, held: &HeldOff) -> FlagMetadata {
        let decided_at = match held {
            HeldOff::Level { level, .. } => *level,
            _ => level,
        };
        let mut meta = self
            .base_metadata(decided_at)
            .with_value(metadata::MIN_LEVEL, gate.min_level().as_str())
            .with_value(metadata::HELD_OFF, held.to_string());
        match held {
            HeldOff::Level { .. } => {
                meta.add_value(metadata::HELD_OFF_BY, metadata::HELD_OFF_BY_LEVEL);
            }
            HeldOff::Dependency {
                dependency, state, ..
            } => {
                meta.add_value(metadata::HELD_OFF_BY, metadata::HELD_OFF_BY_DEPENDENCY);
                meta.add_value(metadata::DEPENDENCY, dependency.as_str());
                meta.add_value(metadata::DEPENDENCY_STATE, state.as_str());
            }
            // Any other cause (a feature removed again by a reload racing
            // this evaluation, a cause added to brownout later): the
            // sentence above names it.
            _ => {}
        }
        if let Some(retry_after) = held.retry_after() {
            let ms = i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX);
            meta.add_value(metadata::RETRY_AFTER_MS, ms);
        }
        meta
    }

    fn resolve_level(&self) -> ResolutionDetails<String> {
        let level = self.manager.level();
        ResolutionDetails {
            value: level.as_str().to_owned(),
            variant: Some(level.as_str().to_owned()),
            reason: Some(EvaluationReason::TargetingMatch),
            flag_metadata: Some(self.base_metadata(level)),
        }
    }

    fn resolve_score(&self) -> ResolutionDetails<f64> {
        let level = self.manager.level();
        let score = self.manager.health_score();
        ResolutionDetails {
            value: score,
            variant: None,
            reason: Some(EvaluationReason::TargetingMatch),
            flag_metadata: Some(metadata_with(level, score)),
        }
    }
}

impl From<DegradationManager> for BrownoutProvider {
    fn from(manager: DegradationManager) -> Self {
        BrownoutProvider::new(manager)
    }
}

impl fmt::Debug for BrownoutProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrownoutProvider")
            .field("name", &self.metadata.name)
            .field("level", &self.manager.level())
            .field("score", &self.manager.health_score())
            .finish()
    }
}

/// A flag key, resolved.
enum Flag {
    /// A brownout feature, looked up for this evaluation.
    Feature(FeatureGate),
    /// [`LEVEL_FLAG`].
    Level,
    /// [`SCORE_FLAG`].
    Score,
}

impl Flag {
    /// The one type the flag resolves as.
    fn flag_type(&self) -> Type {
        match self {
            Flag::Feature(_) => Type::Bool,
            Flag::Level => Type::String,
            Flag::Score => Type::Float,
        }
    }

    /// `TYPE_MISMATCH` for `key`, asked for as `asked`.
    fn mismatch<T>(&self, key: &str, asked: Type) -> EvaluationResult<T> {
        let what = match self {
            Flag::Feature(_) => "a brownout feature",
            Flag::Level => "the brownout level",
            Flag::Score => "the brownout health score",
        };
        Err(EvaluationError::builder()
            .code(EvaluationErrorCode::TypeMismatch)
            .message(format!(
                "flag `{key}` is {what}, a {} flag; it was asked for as {asked}",
                self.flag_type()
            ))
            .build())
    }
}

/// Whether `held` is one of the causes the metadata spells out.
fn is_level_or_dependency(held: &HeldOff) -> bool {
    matches!(held, HeldOff::Level { .. } | HeldOff::Dependency { .. })
}

/// Flag metadata with the level and the score.
fn metadata_with(level: Level, score: f64) -> FlagMetadata {
    FlagMetadata::default()
        .with_value(metadata::LEVEL, level.as_str())
        .with_value(metadata::SCORE, score)
}

/// `FLAG_NOT_FOUND` for `key`.
fn not_found(key: &str) -> EvaluationError {
    EvaluationError::builder()
        .code(EvaluationErrorCode::FlagNotFound)
        .message(format!(
            "no brownout feature named `{key}` (nor is it `{LEVEL_FLAG}` or `{SCORE_FLAG}`)"
        ))
        .build()
}

#[open_feature::async_trait]
impl FeatureProvider for BrownoutProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        match self.lookup(flag_key)? {
            Flag::Feature(gate) => self.resolve_feature(flag_key, gate),
            flag => flag.mismatch(flag_key, Type::Bool),
        }
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.lookup(flag_key)?.mismatch(flag_key, Type::Int)
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        match self.lookup(flag_key)? {
            Flag::Score => Ok(self.resolve_score()),
            flag => flag.mismatch(flag_key, Type::Float),
        }
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        match self.lookup(flag_key)? {
            Flag::Level => Ok(self.resolve_level()),
            flag => flag.mismatch(flag_key, Type::String),
        }
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.lookup(flag_key)?.mismatch(flag_key, Type::Struct)
    }
}
