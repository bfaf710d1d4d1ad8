//! `wasi:http/handler@0.3.0` (WASI 0.3): requests go to reused instances (see
//! `instance_pool.rs`); the response streams from the instance's event loop,
//! which keeps running while the guest writes its body (read ahead first, see
//! `read_ahead.rs`).

use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError, ProxyHandler, TrapOrPanicError};
use wasmtime_wasi_http::p3::bindings::ServicePre;

use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::BindError;

use super::instance_pool::InstancePool;
use crate::body::holding;
use crate::executor::{Answer, Guest, GuestRequest, WASI_HTTP_03};
use crate::read_ahead::read_ahead;
use crate::InstanceReuse;

/// Executor for WASI 0.3 HTTP components.
pub(crate) struct WasiHttp3Executor(ProxyHandler<InstancePool>);

impl WasiHttp3Executor {
    /// Binds the component's `wasi:http/handler@0.3.0` export; its instances
    /// are reused as `reuse` says, and none keeps a request past `request_timeout`.
    pub(crate) fn new(
        component: Arc<PreparedComponent>,
        reuse: InstanceReuse,
        request_timeout: Option<Duration>,
    ) -> Result<Self, BindError> {
        let guest = Guest::bind(&component, WASI_HTTP_03, |pre| ServicePre::new(pre.clone()))?;
        Ok(Self(ProxyHandler::new(InstancePool { guest, reuse, request_timeout })))
    }

    /// Handles one request; `slot` (its place among the concurrent requests)
    /// is held until the response body has been read or dropped.
    pub(crate) async fn execute(&self, GuestRequest { req, deadline, slot }: GuestRequest) -> Answer {
        let trace = spin_engine::telemetry::traced_request();
        match self.0.handle((deadline, trace), req).await {
            Ok(response) => {
                let (head, body) = response.into_parts();
                Ok(http::Response::from_parts(head, read_ahead(holding(body, slot)).await))
            }
            Err(e) => Err(explain(e, &self.0.state().guest.id)),
        }
    }
}

/// The handler's error as the log line says it.
fn explain(e: wasmtime::Error, component: &str) -> anyhow::Error {
    let e = if e.is::<ExpirationError>() {
        anyhow::anyhow!("the guest exceeded its execution deadline")
    } else if e.is::<TrapOrPanicError>() {
        anyhow::anyhow!("the guest's instance failed before answering (see the instance's error above)")
    } else if let Some(failed) = e.downcast_ref::<InstantiationError<Option<std::time::Instant>>>() {
        anyhow::anyhow!("instantiating the guest failed: {:?}", failed.error)
    } else {
        e.into()
    };
    e.context(format!("component `{component}`"))
}
