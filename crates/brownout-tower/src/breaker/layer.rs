use brownout::{Breaker, DegradationManager, UnknownDependency};
use tower_layer::Layer;

use super::{BreakerHandle, BreakerService};
use crate::classify::DefaultClassifier;

/// Puts one dependency's circuit breaker in front of a service.
///
/// Every service the layer builds shares the same [`Breaker`], and applies
/// its `call_timeout` if its configuration sets one (see
/// [the module docs](super#call-timeout)).
///
/// `B` is how the layer holds the breaker: an owned [`Breaker`] (the
/// default; each request's permit owns a handle to it, reused per thread)
/// or a `&'static Breaker` from [`from_static`](BreakerLayer::from_static)
/// (a plain reference).
#[derive(Debug, Clone)]
pub struct BreakerLayer<C = DefaultClassifier, B = Breaker> {
    breaker: B,
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

impl BreakerLayer<DefaultClassifier, &'static Breaker> {
    /// A layer over a breaker that lives as long as the process: its
    /// response futures hold a plain reference to it instead of an owned
    /// handle, so no request ever updates its reference count, whichever
    /// thread it finishes on. [`Breaker::leak`] gives such a reference:
    ///
    /// ```
    /// use brownout::DegradationManager;
    /// use brownout_tower::BreakerLayer;
    ///
    /// let manager = DegradationManager::from_toml_str(
    ///     "[dependencies.database]\nweight = 30",
    /// )?;
    /// let layer = BreakerLayer::from_static(manager.breaker("database")?.leak());
    /// assert_eq!(layer.breaker().name(), "database");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// The breaker stays the manager's: its outcomes move the health score,
    /// and a reload retunes it, exactly as with [`new`](BreakerLayer::new).
    pub fn from_static(breaker: &'static Breaker) -> Self {
        BreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }
}

impl<C, B: BreakerHandle> BreakerLayer<C, B> {
    /// Replaces the classifier that decides what counts as failure.
    pub fn classifier<C2>(self, classifier: C2) -> BreakerLayer<C2, B> {
        BreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }

    /// The breaker (a handle sharing its state).
    pub fn breaker(&self) -> &Breaker {
        self.breaker.breaker()
    }
}

impl<S, C: Clone, B: BreakerHandle> Layer<S> for BreakerLayer<C, B> {
    type Service = BreakerService<S, C, B>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService::with_classifier(inner, self.breaker.clone(), self.classifier.clone())
    }
}
