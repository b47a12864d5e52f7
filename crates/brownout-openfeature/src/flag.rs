//! Flag keys as the provider knows them, and the errors of a lookup.

use brownout::FeatureGate;
use open_feature::{EvaluationError, EvaluationErrorCode, EvaluationResult, Type};

use crate::{LEVEL_FLAG, SCORE_FLAG};

/// A flag key, resolved.
pub(crate) enum Flag {
    /// A brownout feature, looked up for this evaluation.
    Feature(FeatureGate),
    /// [`LEVEL_FLAG`].
    Level,
    /// [`SCORE_FLAG`].
    Score,
}

impl Flag {
    /// The one type the flag resolves as.
    pub(crate) fn flag_type(&self) -> Type {
        match self {
            Flag::Feature(_) => Type::Bool,
            Flag::Level => Type::String,
            Flag::Score => Type::Float,
        }
    }

    /// `TYPE_MISMATCH` for `key`, asked for as `asked`.
    pub(crate) fn mismatch<T>(&self, key: &str, asked: Type) -> EvaluationResult<T> {
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

/// `FLAG_NOT_FOUND` for `key`.
pub(crate) fn not_found(key: &str) -> EvaluationError {
    EvaluationError::builder()
        .code(EvaluationErrorCode::FlagNotFound)
        .message(format!(
            "no brownout feature named `{key}` (nor is it `{LEVEL_FLAG}` or `{SCORE_FLAG}`)"
        ))
        .build()
}
