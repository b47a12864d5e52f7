//! The response future of [`BreakerService`](super::BreakerService).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use brownout::OwnedPermit;
use pin_project_lite::pin_project;

use crate::BoxError;
use crate::classify::Classify;
use crate::error::CircuitOpen;

pin_project! {
    /// The response future of [`BreakerService`](super::BreakerService).
    ///
    /// Holds the breaker permit while the inner call runs and records the
    /// classified result when it completes. Dropped before that, it records
    /// nothing and gives back a half-open trial slot.
    pub struct ResponseFuture<F, C> {
        #[pin]
        state: State<F, C>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, C> {
        Called {
            #[pin]
            future: F,
            // Unpinned guard: taken on completion; dropping it records nothing.
            permit: Option<OwnedPermit>,
            classifier: C,
        },
        Rejected {
            error: CircuitOpen,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    #[inline]
    pub(super) fn called(future: F, permit: OwnedPermit, classifier: C) -> Self {
        ResponseFuture {
            state: State::Called {
                future,
                permit: Some(permit),
                classifier,
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

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called {
                future,
                permit,
                classifier,
            } => {
                let result = ready!(future.poll(cx));
                if let Some(permit) = permit.take() {
                    permit.record(classifier.classify(&result));
                }
                Poll::Ready(result.map_err(Into::into))
            }
            StateProj::Rejected { error } => Poll::Ready(Err(Box::new(error.clone()))),
        }
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Called { .. } => "Called",
            State::Rejected { .. } => "Rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
