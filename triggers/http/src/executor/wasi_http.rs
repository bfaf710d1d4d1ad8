//! `wasi:http/incoming-handler@0.2.x`: a fresh instance per request, the response
//! streamed back as soon as the guest sets it.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::WasiHttpView as _;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{bind_export, BindError};

use std::time::Instant;

use tokio::sync::OwnedSemaphorePermit;

use crate::body::{Body, BoxError, CancelOnDrop};
use crate::executor::{within, AbortOnDrop, WASI_HTTP};

/// Executor for wasi-http components.
pub(crate) struct WasiHttpExecutor {
    component: Arc<PreparedComponent>,
    /// The component id, shared with each request's guest task for its error log.
    id: Arc<str>,
    proxy: ProxyPre<HostState>,
}

impl WasiHttpExecutor {
    /// Binds the component's `incoming-handler` export.
    pub(crate) fn new(component: Arc<PreparedComponent>) -> Result<Self, BindError> {
        let proxy = bind_export(&component, WASI_HTTP, |c| ProxyPre::new(c.instance_pre().clone()))?;
        let id = component.id().into();
        Ok(Self { component, id, proxy })
    }

    /// Handles one request. The guest runs in its own task holding `slot` (its
    /// place among the concurrent instances) until it returns, is past
    /// `deadline` (host calls included), or its client goes away.
    pub(crate) async fn execute(
        &self,
        req: http::Request<Incoming>,
        deadline: Option<Instant>,
        slot: OwnedSemaphorePermit,
    ) -> anyhow::Result<http::Response<Body>> {
        let mut store = self.component.new_store(&[], deadline)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let scheme = wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http;
        let req = store.data_mut().http().new_incoming_request(scheme, req)?;
        let out = store.data_mut().http().new_response_outparam(tx)?;
        let proxy = self.proxy.instantiate_async(&mut store).await?;
        let id = self.id.clone();
        let mut guest = AbortOnDrop::new(tokio::spawn(async move {
            let _slot = slot;
            let call = proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out);
            let result = within(deadline, call).await;
            if let Err(e) = &result {
                tracing::error!("component `{id}`: {e:?}");
            }
            result
        }));
        let answered = match within(deadline, async { Ok(rx.await) }).await {
            Ok(answered) => answered,
            Err(e) => return Err(e.into()),
        };
        match answered {
            Ok(Ok(resp)) => {
                let abort = guest.disarm();
                Ok(resp.map(|b| CancelOnDrop::wrap(b.map_err(|e| Box::new(e) as BoxError).boxed_unsync(), abort)))
            }
            Ok(Err(code)) => anyhow::bail!("the guest answered with error {code:?}"),
            Err(_) => match guest.task().await {
                Ok(Ok(())) => anyhow::bail!("the guest returned without setting a response"),
                Ok(Err(e)) => Err(e.into()),
                Err(e) => anyhow::bail!("guest task failed: {e}"),
            },
        }
    }
}
