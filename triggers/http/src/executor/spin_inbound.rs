//! `fermyon:spin/inbound-http` (Spin 1 ABI): the request buffered into a record,
//! the response record turned back into HTTP.

use std::sync::Arc;

use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{BindError, Binding};

use crate::body::{full, status_only, Body, RequestBody};
use crate::executor::{whole_body, within, SPIN_INBOUND};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-v1",
        world: "fermyon:spin/inbound-http-component",
        exports: { default: async },
    });
}

use bindings::fermyon::spin::http_types::{Method, Request};

/// Executor for Spin 1 inbound-http components.
pub(crate) struct SpinInboundExecutor {
    binding: Binding<bindings::InboundHttpComponentPre<spin_engine::host::HostState>>,
}

impl SpinInboundExecutor {
    /// Binds the component's `inbound-http` export.
    pub(crate) fn new(component: Arc<PreparedComponent>) -> Result<Self, BindError> {
        let binding =
            Binding::new(&component, SPIN_INBOUND, |pre| bindings::InboundHttpComponentPre::new(pre.clone()))?;
        Ok(Self { binding })
    }

    /// Handles one request (405 for methods the ABI cannot express, 413 for a
    /// body over `max_body` bytes: the ABI buffers it whole).
    pub(crate) async fn execute(
        &self,
        req: http::Request<RequestBody>,
        deadline: Option<std::time::Instant>,
        max_body: u64,
    ) -> anyhow::Result<http::Response<Body>> {
        let Some(method) = method(req.method()) else {
            return Ok(status_only(http::StatusCode::METHOD_NOT_ALLOWED));
        };
        let (parts, body) = req.into_parts();
        let body = match whole_body(body, deadline, max_body).await? {
            Ok(body) => body,
            Err(too_large) => return Ok(too_large),
        };
        let request = Request {
            method,
            uri: parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()),
            headers: parts
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            params: vec![],
            body: (!body.is_empty()).then(|| body.to_vec()),
        };
        let bound = self.binding.current();
        let mut store = bound.new_store(&[], deadline)?;
        let guest = bound.pre().instantiate_async(&mut store).await?;
        store.data_mut().instantiated();
        let call = guest.fermyon_spin_inbound_http().call_handle_request(&mut store, &request);
        let resp = within(deadline, call).await?;
        if !(100..=600).contains(&resp.status) {
            anyhow::bail!("the guest answered with invalid status {}", resp.status);
        }
        let mut out = http::Response::new(full(resp.body.unwrap_or_default()));
        *out.status_mut() = http::StatusCode::from_u16(resp.status)?;
        for (k, v) in resp.headers.unwrap_or_default() {
            out.headers_mut().append(http::HeaderName::try_from(k.as_str())?, http::HeaderValue::try_from(v.as_str())?);
        }
        Ok(out)
    }
}

fn method(m: &http::Method) -> Option<Method> {
    Some(match *m {
        http::Method::GET => Method::Get,
        http::Method::POST => Method::Post,
        http::Method::PUT => Method::Put,
        http::Method::DELETE => Method::Delete,
        http::Method::PATCH => Method::Patch,
        http::Method::HEAD => Method::Head,
        http::Method::OPTIONS => Method::Options,
        _ => return None,
    })
}
