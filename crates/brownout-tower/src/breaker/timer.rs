//! The timer that cuts a call off at its dependency's `call_timeout`:
//! tokio's `Sleep` with the `tokio` feature, otherwise one that never fires
//! (and takes no space in the response future).

use std::time::Duration;

#[cfg(feature = "tokio")]
pub(super) use tokio::time::Sleep;

/// A timer for `limit`, inside a tokio runtime (whose timer must be
/// enabled, as `#[tokio::main]` does). Elsewhere there is none, and the
/// permit still judges an answer that comes after the deadline.
#[cfg(feature = "tokio")]
#[inline]
pub(super) fn start(limit: Duration) -> Option<Sleep> {
    tokio::runtime::Handle::try_current()
        .is_ok()
        .then(|| tokio::time::sleep(limit))
}

/// No timer without the `tokio` feature.
#[cfg(not(feature = "tokio"))]
#[inline]
pub(super) fn start(_limit: Duration) -> Option<Sleep> {
    None
}

/// A timer that cannot exist: `Option<Sleep>` is always `None` and zero-sized.
#[cfg(not(feature = "tokio"))]
#[derive(Debug)]
pub(super) enum Sleep {}

#[cfg(not(feature = "tokio"))]
impl std::future::Future for Sleep {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        match *self.get_mut() {}
    }
}
