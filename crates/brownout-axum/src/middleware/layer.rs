use std::time::Duration;

use tower_layer::Layer;

use brownout_tower::gate::Admission;

use super::RequireService;

/// The layer returned by [`require_feature`](super::require_feature) and
/// [`require_level`](super::require_level).
#[derive(Debug, Clone)]
pub struct RequireLayer {
    check: Admission,
}

impl RequireLayer {
    pub(super) fn new(check: Admission) -> Self {
        RequireLayer { check }
    }

    /// The `Retry-After` hint of a refused request (default
    /// [`DEFAULT_RETRY_AFTER`](brownout_tower::gate::DEFAULT_RETRY_AFTER), 5 s;
    /// sent in whole seconds, rounded up).
    #[must_use]
    pub fn retry_after(mut self, hint: Duration) -> Self {
        self.check.set_retry_after(hint);
        self
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            check: self.check.clone(),
        }
    }
}
