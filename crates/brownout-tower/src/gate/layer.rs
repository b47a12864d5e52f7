use std::marker::PhantomData;
use std::time::Duration;

use brownout::{DegradationManager, Level, UnknownFeature};
use tower_layer::Layer;

use super::{Admission, GateService, ShedAsError};

/// Sheds requests while a feature is off or the level is below a minimum.
///
/// `M` is how shed requests are answered ([`ShedMode`](super::ShedMode)):
/// a [`Shed`](crate::Shed) error by default.
#[derive(Debug)]
pub struct GateLayer<M = ShedAsError> {
    admission: Admission,
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
        Ok(GateLayer::from_admission(Admission::feature(manager, gate)))
    }

    /// Passes requests while the effective level is at least `level`.
    #[must_use]
    pub fn min_level(manager: &DegradationManager, level: Level) -> Self {
        GateLayer::from_admission(Admission::min_level(manager, level))
    }
}

impl<M> GateLayer<M> {
    fn from_admission(admission: Admission) -> Self {
        GateLayer {
            admission,
            mode: PhantomData,
        }
    }

    /// The `Retry-After` hint of a shed request when no open breaker gives
    /// an estimate ([`DEFAULT_RETRY_AFTER`](super::DEFAULT_RETRY_AFTER) unless set).
    #[must_use]
    pub fn retry_after(self, hint: Duration) -> Self {
        GateLayer::from_admission(self.admission.retry_after(hint))
    }

    /// Answers shed requests as the mode `M2` says (a
    /// [`ShedMode`](super::ShedMode), such as `brownout-axum`'s problem+json rejection).
    #[must_use]
    pub fn respond_with<M2>(self) -> GateLayer<M2> {
        GateLayer::from_admission(self.admission)
    }

    /// Answers shed requests `503 Service Unavailable` with `Retry-After`
    /// and a problem+json body instead of an error (see
    /// [`ShedAs503`](super::ShedAs503)).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[must_use]
    pub fn respond_503(self) -> GateLayer<super::ShedAs503> {
        self.respond_with()
    }

    /// The check the layer's services make per request.
    #[must_use]
    pub fn admission(&self) -> &Admission {
        &self.admission
    }
}

impl<M> Clone for GateLayer<M> {
    fn clone(&self) -> Self {
        GateLayer::from_admission(self.admission.clone())
    }
}

impl<S, M> Layer<S> for GateLayer<M> {
    type Service = GateService<S, M>;

    fn layer(&self, inner: S) -> Self::Service {
        GateService::new(inner, self.admission.clone())
    }
}
