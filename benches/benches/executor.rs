//! The executor every async bench uses (the `main`, `recorder` and `peers`
//! binaries, every library alike): polls a future to completion with a
//! no-op waker, no allocation, no runtime.
//!
//! Inlined into the measuring loop, as an `.await` in an `async fn` puts the
//! awaited future's poll inline in its caller. Left out of line (LLVM
//! inlines it for a tiny bare future, but not for bigger ones), it would
//! measure how each library's output comes back from a call: a result wider
//! than two registers returns through memory, and the caller's copy of it
//! stalls on the pieces just written.

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
