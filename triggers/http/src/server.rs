//! The hyper server: accepts HTTP/1.1 (keep-alive) and h2c connections, answers
//! well-known paths, routes, calls the handler, and drains on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use spin_engine::host::SPIN_INTERNAL_SUFFIX;
use spin_engine::limits::Sampled;
use spin_engine::runtime::PreparedApp;
use spin_engine::telemetry::{ComponentRequests, RequestInfo, RequestTracer};
use spin_engine::trigger::{Drain, Shutdown, TriggerConfigError, TriggerEntry};

use crate::body::{from_client, full, status_only, Body, RequestBody};
use crate::config::{HttpTriggerConfig, StaticResponse, Target};
use crate::executor::Executor;
use crate::headers::{add_spin_headers, guest_url, RouteHeaders};
use crate::routes::{Route, RouteMatch, Router};
use crate::well_known;
use crate::workers::{self, Workers};
use crate::{ConnectionLimits, InstanceReuse};

/// What a route dispatches to.
pub(crate) enum Handler {
    /// A component, through its executor.
    Component(Executor),
    /// A fixed response.
    Static(StaticResponse),
}

impl Handler {
    /// Builds the handler of a trigger entry; errors name the trigger.
    pub(crate) fn new(
        entry: &TriggerEntry<HttpTriggerConfig>,
        app: &PreparedApp,
        reuse: &InstanceReuse,
    ) -> Result<Self, TriggerConfigError> {
        let request_timeout = app.limits().http_request_timeout.map(|t| t.upper());
        Ok(match entry.config.target() {
            Target::Component(_) => Handler::Component(
                Executor::for_component(entry.component(app)?, reuse, request_timeout, entry.config.wagi_argv())
                    .map_err(|e| entry.error(e))?,
            ),
            Target::Static(s) => Handler::Static(s),
        })
    }
}

/// Where a route leads: its handler and its headers, built once at start.
#[derive(Clone, Debug)]
pub(crate) struct RouteTarget {
    /// Index in [`Server::handlers`].
    pub handler: usize,
    /// The route's `spin-*` header names and values.
    pub headers: RouteHeaders,
    /// The route as the manifest writes it (a trace span's `http.route`).
    pub route: Arc<str>,
}

impl RouteTarget {
    /// The target of `route` served by handler `handler`.
    pub(crate) fn new(handler: usize, route: &Route) -> Self {
        Self { handler, headers: RouteHeaders::new(route), route: route.raw.as_str().into() }
    }
}

/// Where a chained request (`http://<component>.spin.internal/...`) for one
/// component goes: its route and, for paths outside it, Spin's `/...`.
#[derive(Clone, Debug)]
pub(crate) struct ChainedTarget {
    /// The component's route (`/...` for a private component).
    pub route: Route,
    /// The handler with the headers of `route`.
    pub routed: RouteTarget,
    /// The handler with the headers of `/...`.
    pub wildcard: RouteTarget,
}

/// Routing table, handlers and limits shared by every connection.
pub(crate) struct Server {
    /// Route table.
    pub router: Router<RouteTarget>,
    /// Per worker thread (see `workers.rs`), one handler per trigger entry: a
    /// worker's requests go to its own handlers, so reused instances stay on it.
    pub handlers: Vec<Vec<Handler>>,
    /// Service-chaining targets by component id.
    pub chained: std::collections::HashMap<String, ChainedTarget>,
    /// Pre-rendered `/.well-known/spin/info` body.
    pub info: Bytes,
    /// Per-request execution limit, host calls included (a range draws one per request).
    pub request_timeout: Option<Sampled<Duration>>,
    /// Slots for concurrently running instances; a request that finds none free
    /// within [`QUEUE_WAIT`] gets 503 with `Retry-After`.
    pub instances: Arc<Semaphore>,
    /// Largest request body buffered for a Spin 1 guest.
    pub max_buffered_body: u64,
    /// Bounds on clients' connections.
    pub connections: ConnectionLimits,
    /// Starts a trace span per request when traces are exported.
    pub tracer: Option<RequestTracer>,
    /// Per handler, the component (or trigger) it serves, for trace spans.
    pub names: Vec<Arc<str>>,
    /// Per handler, its request count, when metrics are exported.
    pub counts: Option<Vec<ComponentRequests>>,
    /// The TLS handshake of every connection, when serving HTTPS.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// `https` with TLS, else `http`: the scheme of the URL the guest sees.
    pub scheme: http::uri::Scheme,
}

/// How long a request waits for a free instance slot before it is refused.
pub(crate) const QUEUE_WAIT: Duration = Duration::from_secs(2);

impl Server {
    /// Accepts connections until `shutdown` and serves each on one of
    /// `workers`, then lets in-flight requests finish within `drain` before
    /// returning.
    pub(crate) async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        workers: Workers,
        shutdown: Shutdown,
        drain: Drain,
    ) -> anyhow::Result<i32> {
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        let header_timeout = self.connections.header_read_timeout;
        builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
        if let Some(size) = self.connections.http1_max_buf_size {
            builder.http1().max_buf_size(size.max(crate::MIN_HTTP1_MAX_BUF_SIZE));
        }
        // h2: a peer that stops answering pings is dropped.
        builder.http2().timer(TokioTimer::new()).keep_alive_interval(header_timeout).keep_alive_timeout(header_timeout);
        let slots = Arc::new(Semaphore::new(self.connections.max_connections));
        loop {
            // At the connection cap, new clients wait in the listen backlog.
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot?,
                _ = shutdown.cancelled() => break,
            };
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
            // The worker registers the socket with its own runtime.
            let stream = match stream.into_std() {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::warn!("accepted connection from {peer} unusable: {e}");
                    continue;
                }
            };
            let server = self.clone();
            let builder = builder.clone();
            let watcher = graceful.watcher();
            workers.spawn(move |worker| async move {
                let _slot = slot;
                let stream = match tokio::net::TcpStream::from_std(stream) {
                    Ok(stream) => stream,
                    Err(e) => return tracing::warn!("accepted connection from {peer} unusable: {e}"),
                };
                let tls = server.tls.clone();
                let svc = hyper::service::service_fn(move |req| {
                    let server = server.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(server.handle(req.map(from_client), peer, worker).await)
                    }
                });
                let ended = match tls {
                    // The handshake has the header timeout; hyper's own timer
                    // starts once the protocol is known.
                    Some(tls) => match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            watcher.watch(builder.serve_connection(TokioIo::new(stream), svc).into_owned()).await
                        }
                        Ok(Err(e)) => return tracing::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => return tracing::debug!("TLS handshake with {peer} timed out"),
                    },
                    // hyper's header timer starts once it knows the protocol; a client
                    // that sends nothing, or half of the h2c preface, is closed here.
                    None if !protocol_sniffable(&stream, header_timeout).await => return,
                    None => watcher.watch(builder.serve_connection(TokioIo::new(stream), svc).into_owned()).await,
                };
                if let Err(e) = ended {
                    tracing::debug!("connection from {peer} ended: {e}");
                }
            });
        }
        drop(listener);
        if drain.wait(graceful.shutdown()).await.is_none() {
            let limit = drain.limit();
            tracing::warn!("shutdown: in-flight requests did not finish within {limit:?}; dropping them");
        }
        Ok(0)
    }

    /// Handles one request end to end on worker `worker`'s handlers; never
    /// fails (errors become 500).
    pub(crate) async fn handle(&self, req: Request<RequestBody>, peer: SocketAddr, worker: usize) -> Response<Body> {
        // A clone of the URI (reference-counted, no copy) lets the match borrow
        // its path while the request moves on.
        let uri = req.uri().clone();
        let path = uri.path();
        if path.starts_with(well_known::PREFIX) {
            return well_known::respond(path, &self.info).map(full);
        }
        let Some((_, target, matched)) = self.router.find(path) else {
            if let Some(tracer) = &self.tracer {
                let info =
                    RequestInfo { method: req.method(), path, route: None, component: None, headers: req.headers() };
                tracer.start(&info).finish(StatusCode::NOT_FOUND.as_u16());
            }
            return status_only(StatusCode::NOT_FOUND);
        };
        self.dispatch(req, target, &matched, peer, worker).await
    }

    /// Serves a request another component sent to `component` through service
    /// chaining, with the `spin-*` headers of the component's route (Spin's
    /// `/...` when the path is outside it or the component is private); `None`
    /// when no HTTP trigger serves that component.
    pub(crate) async fn handle_chained(&self, component: &str, req: Request<RequestBody>) -> Option<Response<Body>> {
        let chained = self.chained.get(component)?;
        let uri = req.uri().clone();
        let path = uri.path();
        let (target, matched) = match chained.route.matches(path) {
            Some(matched) => (&chained.routed, matched),
            None => (&chained.wildcard, WILDCARD.matches(path).expect("`/...` matches every path")),
        };
        // Spin's address for a chained request's client.
        let peer = SocketAddr::from(([0, 0, 0, 0], 0));
        Some(self.dispatch(req, target, &matched, peer, workers::current()).await)
    }

    /// Calls the handler of `target` for a request whose path gave `matched`,
    /// within a trace span when traces are exported.
    async fn dispatch(
        &self,
        req: Request<RequestBody>,
        target: &RouteTarget,
        matched: &RouteMatch<'_>,
        peer: SocketAddr,
        worker: usize,
    ) -> Response<Body> {
        if let Some(counts) = &self.counts {
            counts[target.handler].count();
        }
        let Some(tracer) = &self.tracer else {
            return self.call(req, target, matched, peer, worker).await;
        };
        let info = RequestInfo {
            method: req.method(),
            path: req.uri().path(),
            route: Some(&target.route),
            component: Some(&self.names[target.handler]),
            headers: req.headers(),
        };
        let span = tracer.start(&info);
        let response = tracer.in_scope(&span, self.call(req, target, matched, peer, worker)).await;
        span.finish(response.status().as_u16());
        response
    }

    /// Calls the handler of `target` for a request whose path gave `matched`.
    async fn call(
        &self,
        req: Request<RequestBody>,
        target: &RouteTarget,
        matched: &RouteMatch<'_>,
        peer: SocketAddr,
        worker: usize,
    ) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        // A `*.spin.internal` name is no host the guest should see.
        if parts
            .headers
            .get(http::header::HOST)
            .is_some_and(|h| h.as_bytes().ends_with(SPIN_INTERNAL_SUFFIX.as_bytes()))
        {
            parts.headers.remove(http::header::HOST);
        }
        let host_header = parts.headers.get(http::header::HOST).map(|h| h.as_bytes());
        let root = PathAndQuery::from_static("/");
        let path_and_query = parts.uri.path_and_query().unwrap_or(&root);
        let Some((full_url, uri)) = guest_url(&self.scheme, parts.uri.authority(), host_header, path_and_query) else {
            return status_only(StatusCode::BAD_REQUEST);
        };
        add_spin_headers(&mut parts.headers, full_url, &target.headers, matched, peer);
        parts.uri = uri;
        let req = Request::from_parts(parts, body);
        match &self.handlers[worker][target.handler] {
            Handler::Static(s) => static_response(s),
            Handler::Component(executor) => {
                let Some(slot) = self.instance_slot().await else {
                    return busy();
                };
                let deadline = self.request_timeout.map(|t| Instant::now() + t.sample());
                match executor.execute(req, deadline, slot, self.max_buffered_body).await {
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

/// Spin's synthetic route of a chained request.
pub(crate) static WILDCARD: std::sync::LazyLock<Route> = std::sync::LazyLock::new(|| Route::parse("/..."));

/// Waits up to `limit` until the client has sent enough to tell HTTP/1.1 from
/// the h2c preface (what hyper's protocol detection reads before any of its own
/// timers run); `false` when it does not, or closes.
async fn protocol_sniffable(stream: &tokio::net::TcpStream, limit: Duration) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; PREFACE.len()];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        if n == PREFACE.len() || buf[..n] != PREFACE[..n] {
            return true;
        }
        // A partial preface: peek returns at once with the same bytes, so pace it.
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl Server {
    /// A free instance slot, waiting up to [`QUEUE_WAIT`] for one.
    async fn instance_slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = self.instances.clone().try_acquire_owned() {
            return Some(slot);
        }
        tokio::time::timeout(QUEUE_WAIT, self.instances.clone().acquire_owned()).await.ok()?.ok()
    }
}

/// 503 for a request that found every instance slot busy.
fn busy() -> Response<Body> {
    let mut resp = status_only(StatusCode::SERVICE_UNAVAILABLE);
    resp.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
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
