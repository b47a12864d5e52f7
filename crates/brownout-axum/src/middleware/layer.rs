use std::time::Duration;

use tower_layer::Layer;

use super::{Check, RequireService};

/// The layer returned by [`require_feature`](super::require_feature) and
/// [`require_level`](super::require_level).
#[derive(Debug, Clone)]
pub struct RequireLayer {
    check: Check,
}

impl RequireLayer {
    pub(super) fn new(check: Check) -> Self {
        RequireLayer { check }
    }

    /// The `Retry-After` hint of a refused request (default
    /// [`DEFAULT_RETRY_AFTER`](brownout_tower::gate::DEFAULT_RETRY_AFTER), 5 s;
    /// sent in whole seconds, rounded up).
    #[must_use]
    pub fn retry_after(mut self, hint: Duration) -> Self {
        self.check.retry_after = hint;
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
