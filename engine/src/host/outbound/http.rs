//! Outbound `wasi:http` gated by the component's `allowed_outbound_hosts`
//! (deny by default, `HttpRequestDenied` to the guest), and counted against the
//! instance's outbound connection budget while in flight
//! (`ConnectionLimitReached` to the guest beyond it).

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::{Destination, OutboundGate};

/// The outbound HTTP hooks of one instance (the instance's [`OutboundGate`]).
#[derive(Clone, Debug)]
pub(crate) struct OutboundHttp(pub(crate) OutboundGate);

impl OutboundHttp {
    /// Whether the request may go out; a denial is reported like every other
    /// outbound capability's (see [`Destination::check`]).
    fn permits(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("http");
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        let dest = Destination { scheme: scheme.to_string(), host: host.trim_matches(['[', ']']).to_string(), port };
        self.0.permits(&dest)
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
        let Some(permit) = self.0.open_slot("HTTP request") else {
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

    use std::sync::Arc;

    use http_body_util::BodyExt as _;

    use super::*;
    use crate::allowed_hosts::AllowedHosts;

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
        let mut http = OutboundHttp(OutboundGate::new("test".into(), Arc::new(allowed), 1));

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
