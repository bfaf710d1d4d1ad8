//! Outbound `wasi:http` gated by the component's `allowed_outbound_hosts`
//! (deny by default, `HttpRequestDenied` to the guest).

use std::sync::Arc;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::destination::Destination;
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
        Self { component_id: component_id.into(), allowed }
    }

    /// Whether the request may go out; a denial is reported like every other
    /// outbound capability's (see [`Destination::check`]).
    fn permits(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("http");
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        let dest = Destination { scheme: scheme.to_string(), host: host.trim_matches(['[', ']']).to_string(), port };
        dest.check(&self.allowed, &self.component_id)
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>),
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
        let _ = fut;
        if !self.permits(request.uri()) {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        Box::new(async move {
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(http_body_util::BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}
