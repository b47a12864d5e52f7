//! The provider: each evaluation reads the manager's live state.

use std::fmt;

use brownout::{DegradationManager, FeatureGate, HeldOff, Level};
use open_feature::provider::{FeatureProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{
    EvaluationContext, EvaluationReason, EvaluationResult, FlagMetadata, StructValue, Type,
};

use crate::flag::{Flag, not_found};
use crate::{LEVEL_FLAG, PROVIDER_NAME, SCORE_FLAG, VARIANT_OFF, VARIANT_ON, metadata};

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
