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
//! [`reconfigure`](brownout::DegradationManager::reconfigure) adds resolves at the
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
//! [`DegradationManager`]: brownout::DegradationManager
//! [`DegradationManager::held_off`]: brownout::DegradationManager::held_off
//! [`DegradationManager::level`]: brownout::DegradationManager::level
//! [`DegradationManager::on_level_change`]: brownout::DegradationManager::on_level_change
//! [`DegradationManager::reconfigure`]: brownout::DegradationManager::reconfigure
//! [`ProviderMetadata`]: open_feature::provider::ProviderMetadata

mod flag;
pub mod metadata;
mod provider;

pub use self::provider::BrownoutProvider;

/// The `open-feature` crate this provider implements, re-exported so that
/// applications can name the same version.
pub use open_feature;

/// The provider's name in its
/// [`ProviderMetadata`](open_feature::provider::ProviderMetadata): `"brownout"`.
pub const PROVIDER_NAME: &str = "brownout";

/// The flag key of the effective level, a string flag: `"brownout.level"`.
pub const LEVEL_FLAG: &str = "brownout.level";

/// The flag key of the health score, a float flag (0 to 100): `"brownout.score"`.
pub const SCORE_FLAG: &str = "brownout.score";

/// The variant of a feature that is on.
pub const VARIANT_ON: &str = "on";

/// The variant of a feature that is off.
pub const VARIANT_OFF: &str = "off";
