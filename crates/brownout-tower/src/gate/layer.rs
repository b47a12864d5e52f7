use std::marker::PhantomData;
use std::time::Duration;

use brownout::{DegradationManager, Level, UnknownFeature};
use tower_layer::Layer;

use super::check::Admission;
use super::{DEFAULT_RETRY_AFTER, GateService, ShedAsError};

/// Sheds requests while a feature is off or the level is below a minimum.
#[derive(Debug, Clone)]
pub struct GateLayer<M = ShedAsError> {
    check: Admission,
    mode: PhantomData<fn() -> M>,
}

impl GateLayer {
    /// Passes requests while `feature` is on (its `min_level` is met and none
    /// of the dependencies it requires is open).
    ///
    /// # Errors
    /// [`UnknownFeature`] if the manager has no such feature, so a typo fails at startup.
    pub fn feature(manager: &DegradationManager, feature: &str) -> Result<Self, UnknownFeature> {
        let gate = manager.gate(feature)?;
        Ok(GateLayer::from_check(Admission::feature(
            manager.clone(),
            gate,
            DEFAULT_RETRY_AFTER,
        )))
    }

    /// Passes requests while the effective level is at least `level`.
    pub fn min_level(manager: &DegradationManager, level: Level) -> Self {
        GateLayer::from_check(Admission::min_level(
            manager.clone(),
            level,
            DEFAULT_RETRY_AFTER,
        ))
    }
}

impl<M> GateLayer<M> {
    fn from_check(check: Admission) -> Self {
        GateLayer {
            check,
            mode: PhantomData,
        }
    }

    /// The retry hint of a shed request ([`DEFAULT_RETRY_AFTER`] unless set).
    #[must_use]
    pub fn retry_after(mut self, hint: Duration) -> Self {
        self.check.set_retry_after(hint);
        self
    }

    /// Answers shed requests `503 Service Unavailable` with a `Retry-After`
    /// header instead of an error (see [`ShedAs503`](super::ShedAs503)).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[must_use]
    pub fn respond_503(self) -> GateLayer<super::ShedAs503> {
        GateLayer::from_check(self.check)
    }
}

impl<S, M> Layer<S> for GateLayer<M> {
    type Service = GateService<S, M>;

    fn layer(&self, inner: S) -> Self::Service {
        GateService::new(inner, self.check.clone())
    }
}
