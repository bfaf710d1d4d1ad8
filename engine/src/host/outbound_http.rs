//! Outbound `wasi:http` gated by the component's `allowed_outbound_hosts`
//! (deny by default, `HttpRequestDenied` to the guest), and counted against the
//! instance's outbound connection budget while in flight
//! (`ConnectionLimitReached` to the guest beyond it).

use std::sync::Arc;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::connections::ConnectionBudget;
use super::destination::Destination;
use crate::allowed_hosts::AllowedHosts;
use crate::limits::DEFAULT_MAX_OUTBOUND_CONNECTIONS;

/// The outbound HTTP policy of one component; cheap to clone per instance.
#[derive(Clone)]
pub struct OutboundHttp {
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
    connections: ConnectionBudget,
}

impl OutboundHttp {
    /// A policy for `component_id` allowing exactly `allowed` (each instance gets
    /// its own connection budget from [`OutboundHttp::for_instance`]).
    pub fn new(component_id: &str, allowed: Arc<AllowedHosts>) -> Self {
        let connections = ConnectionBudget::new(DEFAULT_MAX_OUTBOUND_CONNECTIONS);
        Self { component_id: component_id.into(), allowed, connections }
    }

    /// The same policy for one instance, whose requests in flight count against `connections`.
    pub fn for_instance(&self, connections: ConnectionBudget) -> Self {
        Self { connections, ..self.clone() }
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
        // Taken now, so requests not yet polled count too; held until the
        // connection's I/O ends (the response body is read or dropped).
        let Some(permit) = self.connections.try_open() else {
            tracing::warn!(
                "component `{}`: outbound HTTP request refused: {}",
                self.component_id,
                self.connections.refusal()
            );
            return Box::new(async { Err(HttpError::ConnectionLimitReached) });
        };
        Box::new(async move {
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let io = async move {
                let outcome = io.await;
                drop(permit);
                outcome
            };
            Ok((
                res.map(http_body_util::BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::time::Duration;

    use http_body_util::BodyExt as _;

    use super::*;

    fn request(port: u16) -> http::Request<WasiBody> {
        let body = http_body_util::Empty::<bytes::Bytes>::new().map_err(|never| match never {}).boxed_unsync();
        http::Request::get(format!("http://127.0.0.1:{port}/")).body(body).unwrap()
    }

    fn send(http: &mut OutboundHttp, port: u16) -> Pin<SendFuture> {
        Pin::from(http.send_request(request(port), None, Box::new(async { Ok(()) })))
    }

    #[tokio::test]
    async fn requests_in_flight_count_against_the_instance_budget() {
        // A server that accepts and never answers keeps a request in flight.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let allowed = AllowedHosts::parse(&[format!("http://127.0.0.1:{port}")], |t| Ok(t.to_string())).unwrap();
        let mut http = OutboundHttp::new("test", Arc::new(allowed)).for_instance(ConnectionBudget::new(1));

        let first = tokio::spawn(send(&mut http, port));
        let second = tokio::time::timeout(Duration::from_secs(5), send(&mut http, port)).await;
        assert!(matches!(second, Ok(Err(HttpError::ConnectionLimitReached))), "{:?}", second.map(|r| r.err()));

        // Once the first request is gone its slot is free again.
        first.abort();
        assert!(first.await.is_err());
        let third = tokio::spawn(send(&mut http, port));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!third.is_finished(), "the third request should be waiting on the server");
        third.abort();
        server.abort();
    }
}
