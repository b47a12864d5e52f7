//! Extractors: [`CurrentLevel`] and [`RequireFeature`].
//!
//! Both read the manager from router state: they work in any router whose
//! state `S` has `DegradationManager: FromRef<S>`, which holds for a state
//! that *is* the manager (`.with_state(manager)`) and for an app state with
//! `#[derive(FromRef)]` or a hand-written `FromRef` impl.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use brownout::{DegradationManager, FeatureGate, Level};
use http::request::Parts;

use crate::rejection::Unavailable;

/// The effective degradation level when the request arrived. Never rejects.
///
/// ```
/// use axum::{Router, routing::get};
/// use brownout::{DegradationManager, Level};
/// use brownout_axum::CurrentLevel;
///
/// async fn search(CurrentLevel(level): CurrentLevel) -> &'static str {
///     if level >= Level::Degraded { "full-text results" } else { "cached results" }
/// }
///
/// let manager = DegradationManager::builder().build()?;
/// let app: Router = Router::new().route("/search", get(search)).with_state(manager);
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentLevel(pub Level);

impl<S> FromRequestParts<S> for CurrentLevel
where
    DegradationManager: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(CurrentLevel(DegradationManager::from_ref(state).level()))
    }
}

/// Names a feature at the type level, for [`RequireFeature`].
///
/// (`&str` const generics are not stable, so a marker type carries the name.)
///
/// ```
/// use brownout_axum::FeatureName;
///
/// struct AiSuggestions;
/// impl FeatureName for AiSuggestions {
///     const NAME: &'static str = "ai_suggestions";
/// }
/// ```
pub trait FeatureName {
    /// The feature's name in the manager's configuration.
    const NAME: &'static str;
}

/// Proof that feature `F` was on when the request arrived; rejects with
/// [`Unavailable`] (`503`, problem+json) when it is off.
///
/// A feature name the manager does not know is refused too (fail closed),
/// and the manager logs a warning once per name. `Option<RequireFeature<F>>`
/// never rejects: `None` when the feature is off, for handlers that
/// degrade instead of refusing.
///
/// ```
/// use axum::{Router, routing::get};
/// use brownout::DegradationManager;
/// use brownout_axum::{FeatureName, RequireFeature};
///
/// struct Ai;
/// impl FeatureName for Ai {
///     const NAME: &'static str = "ai_suggestions";
/// }
///
/// async fn suggestions(_: RequireFeature<Ai>) -> &'static str {
///     "try the blue one"
/// }
///
/// async fn product(ai: Option<RequireFeature<Ai>>) -> String {
///     let extra = if ai.is_some() { " + suggestions" } else { "" };
///     format!("product page{extra}")
/// }
///
/// let manager = DegradationManager::from_toml_str(r#"
///     [features.ai_suggestions]
///     min_level = "OPTIMAL"
/// "#)?;
/// let app: Router = Router::new()
///     .route("/suggestions", get(suggestions))
///     .route("/product", get(product))
///     .with_state(manager);
/// # let _ = app;
/// # Ok::<(), brownout::ConfigError>(())
/// ```
pub struct RequireFeature<F> {
    gate: FeatureGate,
    level: Level,
    name: PhantomData<fn() -> F>,
}

impl<F> RequireFeature<F> {
    /// The feature's gate, to check again later in a long handler.
    #[must_use]
    pub fn gate(&self) -> &FeatureGate {
        &self.gate
    }

    /// The effective level when the request was admitted.
    #[must_use]
    pub fn level(&self) -> Level {
        self.level
    }
}

impl<F> Clone for RequireFeature<F> {
    fn clone(&self) -> Self {
        RequireFeature {
            gate: self.gate.clone(),
            level: self.level,
            name: PhantomData,
        }
    }
}

impl<F: FeatureName> std::fmt::Debug for RequireFeature<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireFeature")
            .field("feature", &F::NAME)
            .field("level", &self.level)
            .finish()
    }
}

/// The retry hint of the extractor's rejection.
const RETRY_AFTER: Duration = brownout_tower::gate::DEFAULT_RETRY_AFTER;

fn check<F: FeatureName>(manager: &DegradationManager) -> Result<RequireFeature<F>, Unavailable> {
    let level = manager.level();
    match manager.gate(F::NAME) {
        Ok(gate) if gate.is_enabled() => Ok(RequireFeature {
            gate,
            level,
            name: PhantomData,
        }),
        Ok(gate) => Err(Unavailable::feature_off(
            F::NAME,
            level,
            Some(gate.min_level()),
            RETRY_AFTER,
        )),
        Err(_unknown) => {
            // Answers false and logs a warning once per name.
            let _ = manager.is_enabled(F::NAME);
            Err(Unavailable::feature_off(F::NAME, level, None, RETRY_AFTER))
        }
    }
}

impl<F, S> FromRequestParts<S> for RequireFeature<F>
where
    F: FeatureName,
    DegradationManager: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Unavailable;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        check(&DegradationManager::from_ref(state))
    }
}

impl<F, S> OptionalFromRequestParts<S> for RequireFeature<F>
where
    F: FeatureName,
    DegradationManager: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(check(&DegradationManager::from_ref(state)).ok())
    }
}
