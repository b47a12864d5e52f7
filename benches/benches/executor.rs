//! The executor every async bench of the `main` and `recorder` binaries
//! uses: polls a future to completion with a no-op waker, no allocation, no
//! runtime.
//!
//! Inlined into the measuring loop for every variant, as an `.await` in an
//! `async fn` puts the awaited future's poll inline in its caller (the
//! peers bench's executor is the same, see `peers/support.rs`).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `future` to completion with a no-op waker.
#[inline(always)]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
