//! The future of [`Breaker::call`](super::Breaker::call): written by hand so
//! that it stays as small as the call it wraps plus a permit.
//!
//! An `async fn` would nest a state machine per layer and carry the timer
//! future inline even for dependencies without a `call_timeout`; every move
//! of such a future (by an executor, a `join`, a `Box::pin`) copies all of
//! it. This one holds the closure until the first poll (nothing happens
//! before, as with an `async fn`), then the inner future, the permit and the
//! classifier. The timer lives behind a `Box`, allocated only for calls to a
//! dependency that has a `call_timeout`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use super::engine::Shared;
use super::permit::Permit;
use crate::error::Error;
use crate::outcome::Outcome;

pin_project! {
    /// The future returned by [`Breaker::call`](super::Breaker::call) and
    /// [`Breaker::call_with`](super::Breaker::call_with).
    ///
    /// Nothing happens until it is first polled: then it asks the breaker
    /// for a permit and, if granted, calls the closure. Dropped before it
    /// completes, it records nothing and gives back a half-open slot.
    #[must_use = "futures do nothing unless polled"]
    pub struct Call<'a, F, Fut, C> {
        shared: &'a Shared,
        #[pin]
        state: State<'a, F, Fut, C>,
    }
}

pin_project! {
    #[project = StateProj]
    #[project_replace = StateReplace]
    enum State<'a, F, Fut, C> {
        /// Not polled yet.
        Start { f: F, classify: C },
        /// Admitted: the call is running.
        Running {
            #[pin]
            call: Timed<Fut>,
            permit: Permit<'a>,
            classify: C,
        },
        /// Finished, or rejected on the first poll.
        Done,
    }
}

pin_project! {
    /// The inner future, bounded by the call timeout when there is one.
    #[project = TimedProj]
    enum Timed<Fut> {
        Plain {
            #[pin]
            future: Fut,
        },
        Bounded {
            future: Pin<Box<Bounded<Fut>>>,
        },
    }
}

/// A call cut off at its timeout by tokio's timer.
#[cfg(feature = "tokio")]
type Bounded<Fut> = tokio::time::Timeout<Fut>;

/// Without tokio there is no timer: the variant is never built.
#[cfg(not(feature = "tokio"))]
struct Bounded<Fut>(std::convert::Infallible, std::marker::PhantomData<Fut>);

#[cfg(not(feature = "tokio"))]
impl<Fut: Future> Future for Bounded<Fut> {
    type Output = Result<Fut::Output, ()>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0 {}
    }
}

impl<'a, F, Fut, C> Call<'a, F, Fut, C> {
    pub(super) fn new(shared: &'a Shared, f: F, classify: C) -> Self {
        Call {
            shared,
            state: State::Start { f, classify },
        }
    }
}

impl<Fut: Future> Timed<Fut> {
    /// `future`, cut off at `limit` when a tokio timer is at hand.
    #[cfg_attr(not(feature = "tokio"), allow(unused_variables))]
    fn new(future: Fut, limit: Option<std::time::Duration>) -> Self {
        #[cfg(feature = "tokio")]
        if let Some(limit) = limit
            && tokio::runtime::Handle::try_current().is_ok()
        {
            return Timed::Bounded {
                future: Box::pin(tokio::time::timeout(limit, future)),
            };
        }
        Timed::Plain { future }
    }

    /// The call's output, or `None` when the timer cut it off.
    fn poll_call(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        match self.project() {
            TimedProj::Plain { future } => future.poll(cx).map(Some),
            TimedProj::Bounded { future } => future.as_mut().poll(cx).map(Result::ok),
        }
    }
}

impl<'a, T, E, F, Fut, C> Future for Call<'a, F, Fut, C>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    C: FnOnce(&Result<T, E>) -> Outcome,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Start { .. } => {
                    let shared: &'a Shared = this.shared;
                    let permit = match shared.acquire() {
                        Ok(ticket) => Permit::new(shared, ticket),
                        Err(rejected) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Err(Error::Rejected(rejected)));
                        }
                    };
                    let StateReplace::Start { f, classify } =
                        this.state.as_mut().project_replace(State::Done)
                    else {
                        return Poll::Pending; // matched `Start` just above
                    };
                    let limit = shared.call_timeout();
                    this.state.set(State::Running {
                        call: Timed::new(f(), limit),
                        permit,
                        classify,
                    });
                }
                StateProj::Running { call, .. } => {
                    let output = ready!(call.poll_call(cx));
                    let StateReplace::Running {
                        permit, classify, ..
                    } = this.state.as_mut().project_replace(State::Done)
                    else {
                        return Poll::Pending; // matched `Running` just above
                    };
                    return Poll::Ready(match output {
                        Some(result) => permit.finish_call(classify, result),
                        None => Err(Error::Timeout(permit.timed_out())),
                    });
                }
                StateProj::Done => return Poll::Pending,
            }
        }
    }
}

impl<F, Fut, C> std::fmt::Debug for Call<'_, F, Fut, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Start { .. } => "start",
            State::Running { .. } => "running",
            State::Done => "done",
        };
        f.debug_struct("Call")
            .field("dependency", &&*self.shared.name)
            .field("state", &state)
            .finish()
    }
}
