//! The response future of [`GateService`](super::GateService).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use super::ShedMode;
use crate::error::Shed;

pin_project! {
    /// The response future of [`GateService`](super::GateService): the inner
    /// call, or a shed answer that is ready at once, answered as the mode
    /// `M` says.
    pub struct ResponseFuture<F, M> {
        #[pin]
        state: State<F>,
        mode: PhantomData<fn() -> M>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Called {
            #[pin]
            future: F,
        },
        Shed {
            // Boxed: a shed request's reason must not make every admitted
            // request's future bigger.
            shed: Option<Box<Shed>>,
        },
    }
}

impl<F, M> ResponseFuture<F, M> {
    #[inline]
    pub(super) fn called(future: F) -> Self {
        ResponseFuture {
            state: State::Called { future },
            mode: PhantomData,
        }
    }

    #[inline]
    pub(super) fn shed(shed: Box<Shed>) -> Self {
        ResponseFuture {
            state: State::Shed { shed: Some(shed) },
            mode: PhantomData,
        }
    }
}

impl<F, M, T, E> Future for ResponseFuture<F, M>
where
    F: Future<Output = Result<T, E>>,
    M: ShedMode<T, E>,
{
    type Output = Result<M::Response, M::Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future } => {
                Poll::Ready(ready!(future.poll(cx)).map(M::response).map_err(M::error))
            }
            StateProj::Shed { shed } => Poll::Ready(M::shed(
                shed.take().expect("ResponseFuture polled after completion"),
            )),
        }
    }
}

impl<F, M> fmt::Debug for ResponseFuture<F, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Called { .. } => f.debug_struct("ResponseFuture").finish_non_exhaustive(),
            State::Shed { shed } => f
                .debug_struct("ResponseFuture")
                .field("shed", shed)
                .finish(),
        }
    }
}
