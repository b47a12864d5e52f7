//! Cutting an async call off at its `call_timeout`.

use std::future::Future;
use std::time::Duration;

/// Awaits `call`, giving up after `limit` (`None`) when a tokio runtime is
/// at hand; without one, awaits it to the end.
#[cfg(feature = "tokio")]
pub(super) async fn within<F: Future>(limit: Duration, call: F) -> Option<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::time::timeout(limit, call).await.ok()
    } else {
        Some(call.await)
    }
}

/// Awaits `call` to the end: without tokio there is no timer to cut it off
/// (the caller still judges a late finish a timeout).
#[cfg(not(feature = "tokio"))]
pub(super) async fn within<F: Future>(_limit: Duration, call: F) -> Option<F::Output> {
    Some(call.await)
}
