use brownout::{Breaker, DegradationManager, UnknownDependency};
use tower_layer::Layer;

use super::BreakerService;
use crate::classify::DefaultClassifier;

/// Puts one dependency's circuit breaker in front of a service.
///
/// Every service the layer builds shares the same [`Breaker`], and applies
/// its `call_timeout` if its configuration sets one (see
/// [the module docs](super#call-timeout)).
#[derive(Debug, Clone)]
pub struct BreakerLayer<C = DefaultClassifier> {
    breaker: Breaker,
    classifier: C,
}

impl BreakerLayer {
    /// A layer over `breaker`; `Err` counts as a failure.
    pub fn new(breaker: Breaker) -> Self {
        BreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }

    /// A layer over the breaker `manager` keeps for `dependency`, so the
    /// layer's outcomes move the manager's health score and level.
    ///
    /// # Errors
    /// [`UnknownDependency`] if the manager has no such dependency, so a
    /// typo fails at startup.
    pub fn from_manager(
        manager: &DegradationManager,
        dependency: &str,
    ) -> Result<Self, UnknownDependency> {
        manager.breaker(dependency).map(BreakerLayer::new)
    }
}

impl<C> BreakerLayer<C> {
    /// Replaces the classifier that decides what counts as failure.
    pub fn classifier<C2>(self, classifier: C2) -> BreakerLayer<C2> {
        BreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }

    /// The breaker (a handle sharing its state).
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }
}

impl<S, C: Clone> Layer<S> for BreakerLayer<C> {
    type Service = BreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService::with_classifier(inner, self.breaker.clone(), self.classifier.clone())
    }
}
