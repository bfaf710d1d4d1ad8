//! `wasi:http/handler@0.3.0` (WASI 0.3): a fresh instance per request for now.
//! The guest's store runs its event loop in a task of its own until the response
//! body has been read to its end (or the client went away), because a 0.3 guest
//! keeps writing its body after `handle` has returned the response.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use tokio::sync::oneshot;
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::p3::Request;
use wasmtime_wasi_http::WasiHttpView as _;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::BindError;

use crate::body::{Body, BoxError};
use crate::executor::{answer_from_guest, Answer, Bound, GuestRequest, WASI_HTTP_03};

/// Executor for WASI 0.3 HTTP components.
pub(crate) struct WasiHttp3Executor(Bound<ServicePre<HostState>>);

/// The host side of the request body's transfer, reporting its failure to the guest.
type RequestIo = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>>;

impl WasiHttp3Executor {
    /// Binds the component's `wasi:http/handler@0.3.0` export.
    pub(crate) fn new(component: Arc<PreparedComponent>) -> Result<Self, BindError> {
        Bound::bind(&component, WASI_HTTP_03, |c| ServicePre::new(c.instance_pre().clone())).map(Self)
    }

    /// Handles one request (see [`answer_from_guest`]): the response is
    /// answered when `handle` returns it, and the guest's event loop keeps
    /// running until the body has been read.
    pub(crate) async fn execute(&self, GuestRequest { req, deadline, slot }: GuestRequest) -> Answer {
        let mut store = self.0.new_store(deadline)?;
        let service = self.0.pre.instantiate_async(&mut store).await?;
        answer_from_guest(&self.0, deadline, slot, |answer| async move {
            let (done_tx, done_rx) = oneshot::channel::<()>();
            store
                .run_concurrent(async move |accessor| {
                    let (request, request_io) = accessor.with(|mut access| {
                        let hooks = access.data_mut().http().hooks;
                        let (request, io) = Request::from_http(hooks, req);
                        (request, Box::pin(io) as RequestIo)
                    });
                    match service.handle(accessor, request).await? {
                        Ok(response) => {
                            let response = accessor.with(|mut access| response.into_http(&mut access, request_io))?;
                            let response = response.map(|b| {
                                NotifyAtEnd::wrap(b.map_err(|e| Box::new(e) as BoxError).boxed_unsync(), done_tx)
                            });
                            let _ = answer.send(Ok(response));
                            // Keep the guest's event loop running while it writes the body.
                            let _ = done_rx.await;
                        }
                        Err(code) => {
                            let _ = answer.send(Err(anyhow::anyhow!("the guest answered with error {code:?}")));
                        }
                    }
                    wasmtime::Result::Ok(())
                })
                .await?
        })
        .await
    }
}

/// A body that tells the guest task when it has been read to its end or dropped.
struct NotifyAtEnd {
    inner: Body,
    done: Option<oneshot::Sender<()>>,
}

impl NotifyAtEnd {
    fn wrap(inner: Body, done: oneshot::Sender<()>) -> Body {
        Self { inner, done: Some(done) }.boxed_unsync()
    }
}

impl http_body::Body for NotifyAtEnd {
    type Data = bytes::Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, BoxError>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(None | Some(Err(_))) = polled {
            self.done.take().map(|done| done.send(()));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
