//! Outbound `wasi:http` gated by the component's `allowed_outbound_hosts`
//! (deny by default, `HttpRequestDenied` to the guest).

use std::sync::Arc;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::AllowedHosts;

/// The outbound HTTP policy of one component; cheap to clone per instance.
#[derive(Clone)]
pub struct OutboundHttp {
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
}

impl OutboundHttp {
    /// A policy for `component_id` allowing exactly `allowed`.
    pub fn new(component_id: &str, allowed: Arc<AllowedHosts>) -> Self {
        Self {
            component_id: component_id.into(),
            allowed,
        }
    }

    fn permits(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("http");
        let Some(host) = uri.host() else { return false };
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        self.allowed.allows(scheme, host.trim_matches(['[', ']']), port)
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        if !self.permits(request.uri()) {
            let uri = request.uri();
            let dest = format!(
                "{}://{}",
                uri.scheme_str().unwrap_or("http"),
                uri.authority().map(|a| a.as_str()).unwrap_or("")
            );
            tracing::error!("Outbound network destination not allowed: {dest}");
            eprintln!(
                "Warning: A component tried to make an outbound network connection to disallowed destination '{dest}'.\n\
                 To allow this request, add 'allowed_outbound_hosts = [\"{dest}\"]' to the manifest component section."
            );
            let _ = (&self.component_id, fut);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let _ = fut;
        Box::new(async move {
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(http_body_util::BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}
