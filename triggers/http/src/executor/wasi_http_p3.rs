//! `wasi:http/handler@0.3.0` (WASI 0.3): a fresh instance per request for now.
//! The guest's store runs its event loop in a task of its own until the response
//! body has been read to its end (or the client went away), because a 0.3 guest
//! keeps writing its body after `handle` has returned the response.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tokio::sync::{oneshot, OwnedSemaphorePermit};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::p3::Request;
use wasmtime_wasi_http::WasiHttpView as _;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{bind_export, BindError};

use crate::body::{Body, BoxError, CancelOnDrop};
use crate::executor::{within, AbortOnDrop, WASI_HTTP_03};

/// Executor for WASI 0.3 HTTP components.
pub(crate) struct WasiHttp3Executor {
    component: Arc<PreparedComponent>,
    /// The component id, for the guest task's error log.
    id: Arc<str>,
    service: ServicePre<HostState>,
}

/// The host side of the request body's transfer, reporting its failure to the guest.
type RequestIo = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>>;

/// What the guest task hands the request side: the response, or why there is none.
type Answer = Result<http::Response<Body>, anyhow::Error>;

impl WasiHttp3Executor {
    /// Binds the component's `wasi:http/handler@0.3.0` export.
    pub(crate) fn new(component: Arc<PreparedComponent>) -> Result<Self, BindError> {
        let service = bind_export(&component, WASI_HTTP_03, |c| ServicePre::new(c.instance_pre().clone()))?;
        let id = component.id().into();
        Ok(Self { component, id, service })
    }

    /// Handles one request: the guest runs in its own task holding `slot` until
    /// its response body is done, it is past `deadline`, or its client goes away.
    pub(crate) async fn execute(
        &self,
        req: http::Request<Incoming>,
        deadline: Option<Instant>,
        slot: OwnedSemaphorePermit,
    ) -> anyhow::Result<http::Response<Body>> {
        let mut store = self.component.new_store(&[], deadline)?;
        let service = self.service.instantiate_async(&mut store).await?;
        let (answer_tx, answer_rx) = oneshot::channel::<Answer>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let id = self.id.clone();
        let mut guest = AbortOnDrop::new(tokio::spawn(async move {
            let _slot = slot;
            let run = store.run_concurrent(async move |accessor| {
                let (request, request_io) = accessor.with(|mut access| {
                    let hooks = access.data_mut().http().hooks;
                    let (request, io) = Request::from_http(hooks, req);
                    (request, Box::pin(io) as RequestIo)
                });
                match service.handle(accessor, request).await? {
                    Ok(response) => {
                        let response = accessor.with(|mut access| response.into_http(&mut access, request_io))?;
                        let body = response.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync());
                        let body = body.map(|b| NotifyAtEnd::wrap(b, done_tx));
                        let _ = answer_tx.send(Ok(body));
                        // Keep the guest's event loop running while it writes the body.
                        let _ = done_rx.await;
                    }
                    Err(code) => {
                        let _ = answer_tx.send(Err(anyhow::anyhow!("the guest answered with error {code:?}")));
                    }
                }
                wasmtime::Result::Ok(())
            });
            let result = within(deadline, async { run.await? }).await;
            if let Err(e) = &result {
                tracing::error!("component `{id}`: {e:?}");
            }
            result
        }));
        let answered = within(deadline, async { Ok(answer_rx.await) }).await?;
        match answered {
            Ok(Ok(resp)) => {
                let abort = guest.disarm();
                Ok(resp.map(|b| CancelOnDrop::wrap(b, abort)))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => match guest.task().await {
                Ok(Ok(())) => anyhow::bail!("the guest returned without a response"),
                Ok(Err(e)) => Err(e.into()),
                Err(e) => anyhow::bail!("guest task failed: {e}"),
            },
        }
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
