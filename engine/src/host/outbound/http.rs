//! Outbound `wasi:http` (0.2 and 0.3) gated by the component's
//! `allowed_outbound_hosts` (deny by default, `HttpRequestDenied` to the
//! guest), and counted against the instance's outbound connection budget while
//! in flight (`ConnectionLimitReached` to the guest beyond it) and against the
//! app-wide caps (waiting for a place). Requests to the app itself
//! (`*.spin.internal`, `self`) are served in-process by the app's
//! [`LocalRoutes`], counted against the instance's budget only: they open no
//! connection. Everything else leaves through the component's
//! [`HttpClient`], which keeps connections and refuses blocked networks.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::telemetry::InstanceTraces;

use super::{ConnectionKind, ConnectionSlot, Destination, HttpClient, LocalRoutes, LocalTarget, OutboundGate};

/// The outbound HTTP hooks of one instance: its [`OutboundGate`], the app's
/// own routes, the component's client, and for a reused instance the
/// requests it serves (whose traces its requests join).
#[derive(Clone, Debug)]
pub(crate) struct OutboundHttp {
    pub(crate) gate: OutboundGate,
    pub(crate) local: LocalRoutes,
    pub(crate) client: HttpClient,
    pub(crate) traces: Option<Arc<InstanceTraces>>,
}

impl OutboundHttp {
    /// Whether a request to `host` may go out; a denial is reported like every
    /// other outbound capability's (see [`Destination::check`]).
    fn permits(&self, uri: &http::Uri, host: &str) -> bool {
        let scheme = uri.scheme_str().unwrap_or("http");
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        let dest = Destination { scheme: scheme.to_string(), host: host.trim_matches(['[', ']']).to_string(), port };
        self.gate.permits(&dest)
    }

    /// Serves a request to the app itself through its routes, holding `permit`
    /// until the response body has been read or dropped.
    fn send_local(&self, target: LocalTarget, request: http::Request<WasiBody>, permit: ConnectionSlot) -> SendFuture {
        let Some(routes) = self.local.get().cloned() else {
            tracing::warn!(
                "component `{}`: {} has no HTTP routes in this app to serve it",
                self.gate.component_id(),
                request.uri()
            );
            return Box::new(async { Err(HttpError::DestinationNotFound) });
        };
        Box::new(async move {
            let response = routes.serve(target, request).await?;
            let response = response.map(|body| {
                body.map_frame(move |frame| {
                    let _ = &permit;
                    frame
                })
                .boxed_unsync()
            });
            Ok((response, Box::new(async { Ok(()) }) as Box<dyn std::future::Future<Output = _> + Send>))
        })
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
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let _ = fut;
        let context = crate::telemetry::host_call_context(self.traces.as_deref());
        let span = crate::telemetry::OutboundSpan::start(&context, &mut request);
        let sent = self.send(request, options);
        match span {
            None => sent,
            Some(span) => Box::new(async move {
                let outcome = Box::into_pin(sent).await;
                span.finish(match &outcome {
                    Ok((response, _)) => Ok(response.status().as_u16()),
                    Err(e) => Err(format!("{e:?}")),
                });
                outcome
            }),
        }
    }
}

impl OutboundHttp {
    /// Sends `request` as the guest asked, if its rules allow it.
    fn send(&self, request: http::Request<WasiBody>, options: Option<RequestOptions>) -> SendFuture {
        let local = LocalTarget::of(request.uri());
        let host = match &local {
            Some(target) => target.allowed_host(),
            None => request.uri().host().unwrap_or_default().to_string(),
        };
        if host.is_empty() || !self.permits(request.uri(), &host) {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        // Taken now, so requests not yet polled count too; held until the
        // connection's I/O ends (the response body is read or dropped).
        let Some(permit) = self.gate.open_slot(ConnectionKind::Http) else {
            return Box::new(async { Err(HttpError::ConnectionLimitReached) });
        };
        if let Some(target) = local {
            return self.send_local(target, request, permit);
        }
        let client = self.client.clone();
        Box::new(async move {
            let permit = permit.admit().await.ok_or(HttpError::ConnectionLimitReached)?;
            let response = client.send(request, options, permit).await?;
            Ok((response, Box::new(async { Ok(()) }) as Box<dyn std::future::Future<Output = _> + Send>))
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
        let gate = OutboundGate::new("test", &[&format!("http://127.0.0.1:{port}")], 1);
        let mut http =
            OutboundHttp { gate, local: LocalRoutes::default(), client: HttpClient::default(), traces: None };

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
