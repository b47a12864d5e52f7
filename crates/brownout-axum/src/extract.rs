//! Extractors: [`CurrentLevel`] and [`RequireFeature`].
//!
//! Both read the manager from router state: they work in any router whose
//! state `S` has `DegradationManager: FromRef<S>`, which holds for a state
//! that *is* the manager (`.with_state(manager)`) and for an app state with
//! `#[derive(FromRef)]` or a hand-written `FromRef` impl.

use std::convert::Infallible;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use brownout::{DegradationManager, FeatureGate, Level, UnknownFeature};
use brownout_tower::gate::Admission;
use http::request::Parts;

use crate::rejection::{FeatureRejection, Unavailable};

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
/// [`Unavailable`] (`503`, problem+json naming the reason) when it is off.
///
/// It makes the same [`Admission`] check as the
/// [`GateLayer`](crate::GateLayer) middleware, so a refused request is
/// answered and counted the same way. `Option<RequireFeature<F>>` never
/// refuses for an off feature: `None`, for handlers that degrade instead of
/// refusing (not counted as shed).
///
/// # Unknown names
///
/// A name the manager does not know is refused (fail closed) by both forms
/// with a `500` ([`FeatureRejection::UnknownFeature`]): a typo is a bug to
/// fix, not an outage to retry. An extractor is not built with the router,
/// so check its name at startup with [`RequireFeature::check`].
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
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = DegradationManager::from_toml_str(r#"
///     [features.ai_suggestions]
///     min_level = "OPTIMAL"
/// "#)?;
/// RequireFeature::<Ai>::check(&manager)?; // a typo fails here, at startup
/// let app: Router = Router::new()
///     .route("/suggestions", get(suggestions))
///     .route("/product", get(product))
///     .with_state(manager);
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
pub struct RequireFeature<F> {
    gate: FeatureGate,
    level: Level,
    name: PhantomData<fn() -> F>,
}

impl<F: FeatureName> RequireFeature<F> {
    /// Checks that `manager` knows feature `F`: call it at startup, where
    /// [`GateLayer::feature`](crate::GateLayer::feature) would catch a typo.
    ///
    /// # Errors
    /// [`UnknownFeature`] if the manager has no feature named [`F::NAME`](FeatureName::NAME).
    pub fn check(manager: &DegradationManager) -> Result<(), UnknownFeature> {
        manager.gate(F::NAME).map(drop)
    }

    /// The feature's gate and its admission check, from router state.
    fn admission<S>(state: &S) -> Result<(FeatureGate, Admission), FeatureRejection>
    where
        DegradationManager: FromRef<S>,
    {
        let manager = DegradationManager::from_ref(state);
        let gate = manager.gate(F::NAME)?;
        let admission = Admission::feature(&manager, gate.clone());
        Ok((gate, admission))
    }
}

impl<F> RequireFeature<F> {
    fn new(gate: FeatureGate, level: Level) -> Self {
        RequireFeature {
            gate,
            level,
            name: PhantomData,
        }
    }

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
        RequireFeature::new(self.gate.clone(), self.level)
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

impl<F: FeatureName, S: Send + Sync> FromRequestParts<S> for RequireFeature<F>
where
    DegradationManager: FromRef<S>,
{
    type Rejection = FeatureRejection;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (gate, admission) = Self::admission(state)?;
        let level = admission.admit().map_err(Unavailable::from)?;
        Ok(RequireFeature::new(gate, level))
    }
}

impl<F: FeatureName, S: Send + Sync> OptionalFromRequestParts<S> for RequireFeature<F>
where
    DegradationManager: FromRef<S>,
{
    type Rejection = FeatureRejection;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let (gate, admission) = Self::admission(state)?;
        Ok(admission
            .peek()
            .map(|level| RequireFeature::new(gate, level)))
    }
}
