//! The hyper server: accepts HTTP/1.1 (keep-alive) and h2c connections, answers
//! well-known paths, routes, calls the handler, and drains on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use spin_engine::trigger::Shutdown;

use crate::body::{full, status_only, Body};
use crate::config::{StaticResponse, Target};
use crate::executor::Executor;
use crate::headers::add_spin_headers;
use crate::routes::Router;
use crate::well_known;

/// What a route dispatches to.
pub enum Handler {
    /// A component, through its executor.
    Component(Executor),
    /// A fixed response.
    Static(StaticResponse),
}

impl Handler {
    /// Builds the handler for a trigger target.
    pub fn new(target: Target, app: &Arc<spin_engine::runtime::PreparedApp>) -> anyhow::Result<Self> {
        Ok(match target {
            Target::Component(id) => Handler::Component(Executor::for_component(app.component(&id)?)?),
            Target::Static(s) => Handler::Static(s),
        })
    }
}

/// Routing table, handlers and limits shared by every connection.
pub struct Server {
    /// Route table (values index `handlers`).
    pub router: Router<usize>,
    /// One handler per trigger entry.
    pub handlers: Vec<Handler>,
    /// Pre-rendered `/.well-known/spin/info` body.
    pub info: Bytes,
    /// Per-request execution limit.
    pub request_timeout: Option<Duration>,
}

impl Server {
    /// Accepts connections until `shutdown`, then lets in-flight requests finish
    /// for up to `drain` before returning.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: Shutdown,
        drain: Duration,
    ) -> anyhow::Result<i32> {
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
                _ = shutdown.cancelled() => break,
            };
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            let svc = hyper::service::service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, std::convert::Infallible>(server.handle(req, peer).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("connection from {peer} ended: {e}");
                }
            });
        }
        drop(listener);
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(drain) => {
                tracing::warn!("shutdown: in-flight requests did not finish within {drain:?}; dropping them");
            }
        }
        Ok(0)
    }

    /// Handles one request end to end; never fails (errors become 500).
    async fn handle(&self, mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let path = req.uri().path().to_string();
        if path.starts_with(well_known::PREFIX) {
            return well_known::respond(&path, &self.info).map(full);
        }
        let Some((route, &index, matched)) = self.router.find(&path) else {
            return status_only(StatusCode::NOT_FOUND);
        };
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
            .unwrap_or_else(|| "localhost".to_string());
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/").to_string();
        let full_url = format!("http://{host}{path_and_query}");
        match full_url.parse() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return status_only(StatusCode::BAD_REQUEST),
        }
        add_spin_headers(req.headers_mut(), &full_url, route, &matched, peer);
        match &self.handlers[index] {
            Handler::Static(s) => static_response(s),
            Handler::Component(executor) => {
                let deadline = self.request_timeout.map(|t| Instant::now() + t);
                match executor.execute(req, deadline).await {
                    Ok(resp) => resp,
                    Err(e) => {
                        tracing::error!("Error processing request: {e:#}");
                        status_only(StatusCode::INTERNAL_SERVER_ERROR)
                    }
                }
            }
        }
    }
}

fn static_response(s: &StaticResponse) -> Response<Body> {
    let mut resp = Response::new(full(s.body.clone().unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(s.status_code.unwrap_or(200)).unwrap_or(StatusCode::OK);
    for (k, v) in &s.headers {
        if let (Ok(k), Ok(v)) = (http::HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}
