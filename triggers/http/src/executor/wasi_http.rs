//! `wasi:http/incoming-handler@0.2.x`: a fresh instance per request, the response
//! streamed back as soon as the guest sets it.

use std::sync::Arc;

use anyhow::Context as _;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::WasiHttpView as _;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;

use crate::body::{Body, BoxError};

/// Executor for wasi-http components.
pub struct WasiHttpExecutor {
    component: Arc<PreparedComponent>,
    /// The component id, shared with each request's guest task for its error log.
    id: Arc<str>,
    proxy: ProxyPre<HostState>,
}

impl WasiHttpExecutor {
    /// Binds the component's `incoming-handler` export.
    pub fn new(component: Arc<PreparedComponent>) -> anyhow::Result<Self> {
        let proxy = ProxyPre::new(component.instance_pre().clone())
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component `{}`: binding wasi:http/incoming-handler", component.id()))?;
        let id = component.id().into();
        Ok(Self { component, id, proxy })
    }

    /// Handles one request.
    pub async fn execute(
        &self,
        req: http::Request<Incoming>,
        deadline: Option<std::time::Instant>,
    ) -> anyhow::Result<http::Response<Body>> {
        let mut store = self.component.new_store(&[], deadline)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let scheme = wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http;
        let req = store.data_mut().http().new_incoming_request(scheme, req)?;
        let out = store.data_mut().http().new_response_outparam(tx)?;
        let proxy = self.proxy.instantiate_async(&mut store).await?;
        let id = self.id.clone();
        let guest = tokio::spawn(async move {
            let result = proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await;
            if let Err(e) = &result {
                tracing::error!("component `{id}`: {e:?}");
            }
            result
        });
        match rx.await {
            Ok(Ok(resp)) => Ok(resp.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync())),
            Ok(Err(code)) => anyhow::bail!("the guest answered with error {code:?}"),
            Err(_) => match guest.await {
                Ok(Ok(())) => anyhow::bail!("the guest returned without setting a response"),
                Ok(Err(e)) => Err(e.into()),
                Err(e) => anyhow::bail!("guest task failed: {e}"),
            },
        }
    }
}
