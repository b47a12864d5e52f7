//! The response future of [`BreakerService`](super::BreakerService).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use brownout::{Outcome, OwnedPermit};
use pin_project_lite::pin_project;

use super::handle::CallPermit;
use super::timer::{self, Sleep};
use crate::BoxError;
use crate::classify::Classify;
use crate::error::{CallTimedOut, CircuitOpen};

pin_project! {
    /// The response future of [`BreakerService`](super::BreakerService).
    ///
    /// Holds the breaker permit while the inner call runs and records the
    /// classified result when it completes. Dropped before that, it records
    /// nothing and the permit's drop gives back its half-open trial slot.
    /// With a `call_timeout`, it also holds the timer that drops the inner
    /// call at the deadline and records a timeout.
    pub struct ResponseFuture<F, C, P = OwnedPermit> {
        #[pin]
        state: State<F, C, P>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, C, P> {
        Called {
            #[pin]
            future: F,
            // Unpinned guard: reported in place on completion (taken out only
            // to record a timeout); dropping it unreported records nothing.
            permit: Option<P>,
            classifier: C,
            // The dependency's call timeout, if it has one.
            limit: Option<Duration>,
            // Fires at the call timeout (with the `tokio` feature, in a
            // runtime); boxed, so that calls without one carry a null pointer.
            timer: Option<Pin<Box<Sleep>>>,
        },
        Rejected {
            error: CircuitOpen,
        },
        TimedOut {
            error: CallTimedOut,
        },
        // Answered: the inner call and the (spent) permit were dropped in place.
        Done,
    }
}

impl<F, C, P> ResponseFuture<F, C, P> {
    #[inline]
    pub(super) fn called(future: F, permit: P, classifier: C, limit: Option<Duration>) -> Self {
        ResponseFuture {
            state: State::Called {
                future,
                permit: Some(permit),
                classifier,
                limit,
                timer: limit.and_then(timer::start).map(Box::pin),
            },
        }
    }

    #[inline]
    pub(super) fn rejected(error: CircuitOpen) -> Self {
        ResponseFuture {
            state: State::Rejected { error },
        }
    }
}

/// Records a finished call: a timeout if it answered after its deadline,
/// otherwise as the classifier says. The permit is reported where it lies
/// (moving it out would copy it for nothing) and dropped with the future.
#[inline]
fn finish<T, E, C, P: CallPermit>(
    permit: &mut Option<P>,
    classifier: &C,
    limit: Option<Duration>,
    result: Result<T, E>,
) -> Result<T, BoxError>
where
    E: Into<BoxError>,
    C: Classify<T, E>,
{
    match (limit, permit.as_mut()) {
        (Some(limit), Some(held)) if held.overran() => {
            if let Some(permit) = permit.take() {
                return Err(Box::new(timed_out(permit, limit)));
            }
        }
        (_, Some(held)) => held.record_in_place(classifier.classify(&result)),
        (_, None) => {}
    }
    result.map_err(Into::into)
}

/// Records a timeout and names it.
#[cold]
fn timed_out<P: CallPermit>(permit: P, limit: Duration) -> CallTimedOut {
    let error = CallTimedOut::new(permit.dependency(), limit);
    permit.record(Outcome::Timeout);
    error
}

impl<F, C, P, T, E> Future for ResponseFuture<F, C, P>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
    P: CallPermit,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        let (permit, limit) = match state.as_mut().project() {
            StateProj::Called {
                future,
                permit,
                classifier,
                limit,
                timer,
            } => {
                if let Poll::Ready(result) = future.poll(cx) {
                    let answer = finish(permit, classifier, *limit, result);
                    state.set(State::Done);
                    return Poll::Ready(answer);
                }
                let fired = timer
                    .as_mut()
                    .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
                match *limit {
                    Some(limit) if fired => (permit.take(), limit),
                    _ => return Poll::Pending,
                }
            }
            StateProj::Rejected { error } => return Poll::Ready(Err(Box::new(error.clone()))),
            StateProj::TimedOut { error } => return Poll::Ready(Err(Box::new(error.clone()))),
            StateProj::Done => return Poll::Pending,
        };
        // The permit is taken only here and for a late answer, both of
        // which leave this state: never missing in practice.
        let Some(permit) = permit else {
            return Poll::Pending;
        };
        // The deadline passed: drop the inner call first, then count it.
        state.set(State::TimedOut {
            error: CallTimedOut::new(permit.dependency(), limit),
        });
        Poll::Ready(Err(Box::new(timed_out(permit, limit))))
    }
}

impl<F, C, P> fmt::Debug for ResponseFuture<F, C, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Called { .. } => "Called",
            State::Rejected { .. } => "Rejected",
            State::TimedOut { .. } => "TimedOut",
            State::Done => "Done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
