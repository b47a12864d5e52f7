//! The response future of [`GateService`](super::GateService).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::ShedAsError;
use crate::BoxError;
use crate::error::Shed;

pin_project! {
    /// The response future of [`GateService`](super::GateService): the inner
    /// call, or a shed answer that is ready at once.
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
            shed: Shed,
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
    pub(super) fn shed(shed: Shed) -> Self {
        ResponseFuture {
            state: State::Shed { shed },
            mode: PhantomData,
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F, ShedAsError>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future } => future.poll(cx).map_err(Into::into),
            StateProj::Shed { shed } => Poll::Ready(Err(Box::new(shed.clone()))),
        }
    }
}

#[cfg(feature = "http")]
impl<F, B, E> Future for ResponseFuture<F, super::ShedAs503>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: Default,
{
    type Output = Result<http::Response<B>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future } => future.poll(cx),
            StateProj::Shed { shed } => Poll::Ready(Ok(crate::http::service_unavailable(shed))),
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
