//! The client outbound HTTP requests leave through. Its connections are kept
//! and reused across requests and instances, as Spin's are (`[outbound_http]
//! connection_pooling`, on by default), so a component that calls the same
//! service on every request pays its TCP and TLS handshakes once.
//!
//! A new connection resolves the host, is refused when any address it resolves
//! to is in a blocked network, and is made within the request's connect timeout;
//! HTTPS trusts the system's store and webpki's roots unless a `[[client_tls]]`
//! entry of the component names the host, and speaks HTTP/2 when the server
//! chooses it (ALPN `h2`, else `http/1.1`), as Spin does; an HTTP/2 connection
//! carries many requests at once. Components with entries have a client
//! of their own, so a connection made with one component's client certificate
//! is never lent to another. A response body that stalls longer than the
//! request's between-bytes timeout fails with `HttpResponseTimeout`. Plain
//! HTTP is HTTP/1.1, except to the one authority the runner names for HTTP/2
//! with prior knowledge (h2c, Spin's `SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE`).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use super::{add_platform_roots, trusting, BlockedNetworks, ComponentTls, ConnectionPermit, Refusal};

/// wasmtime's timeouts when the request sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a kept connection may stay idle before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

tokio::task_local! {
    /// The connect timeout of the request a new connection is made for.
    static CONNECT_TIMEOUT: Duration;
}

/// The app's outbound HTTP clients: one shared by components without
/// `[[client_tls]]` entries, and one per component with entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct HttpClients {
    shared: HttpClient,
    blocked: Arc<BlockedNetworks>,
    options: ClientOptions,
}

/// How every client of an app keeps and speaks its connections.
#[derive(Clone, Debug)]
pub(crate) struct ClientOptions {
    /// Whether connections are kept for later requests (`connection_pooling`).
    pub(crate) pooling: bool,
    /// The authority (`host:port`, as the request URI writes it) that plain
    /// HTTP requests reach over HTTP/2 with prior knowledge, if any.
    pub(crate) h2c_authority: Option<Arc<str>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self { pooling: true, h2c_authority: None }
    }
}

impl HttpClients {
    /// Clients that refuse `blocked` networks, as `options` say.
    pub(crate) fn new(blocked: Arc<BlockedNetworks>, options: ClientOptions) -> Self {
        let shared = HttpClient::new(blocked.clone(), ComponentTls::default(), &options);
        Self { shared, blocked, options }
    }

    /// The client of a component with `tls` entries.
    pub(crate) fn for_component(&self, tls: &ComponentTls) -> HttpClient {
        if tls.is_empty() {
            self.shared.clone()
        } else {
            HttpClient::new(self.blocked.clone(), tls.clone(), &self.options)
        }
    }
}

/// A client whose connections are kept for its requests; cheap to clone.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: Client<Connector, WasiBody>,
    /// The h2c authority and the client that speaks HTTP/2 to it.
    h2c: Option<(Arc<str>, Client<Connector, WasiBody>)>,
}

impl Default for HttpClient {
    /// A client with no blocked network and no `[[client_tls]]` entry.
    fn default() -> Self {
        Self::new(Arc::default(), ComponentTls::default(), &ClientOptions::default())
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpClient")
    }
}

impl HttpClient {
    fn new(blocked: Arc<BlockedNetworks>, tls: ComponentTls, options: &ClientOptions) -> Self {
        let connector = Connector { blocked, tls };
        let client = |http2_only: bool| {
            let mut builder = Client::builder(TokioExecutor::new());
            builder.pool_timer(TokioTimer::new()).pool_idle_timeout(IDLE_TIMEOUT).http2_only(http2_only);
            if !options.pooling {
                builder.pool_max_idle_per_host(0);
            }
            builder.build(connector.clone())
        };
        let h2c = options.h2c_authority.clone().map(|authority| (authority, client(true)));
        Self { client: client(false), h2c }
    }

    /// The client for `uri`: the h2c one for plain HTTP to its authority.
    fn client_for(&self, uri: &http::Uri) -> &Client<Connector, WasiBody> {
        match &self.h2c {
            Some((authority, h2c))
                if uri.scheme() == Some(&http::uri::Scheme::HTTP)
                    && uri.authority().is_some_and(|a| a.as_str() == &**authority) =>
            {
                h2c
            }
            _ => &self.client,
        }
    }

    /// Sends `request` (an absolute URI) within `options`' timeouts; `permit`
    /// is held until the response body has been read or dropped.
    pub(crate) async fn send(
        &self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        permit: ConnectionPermit,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        let timeout = |pick: fn(&RequestOptions) -> Option<Duration>| options.as_ref().and_then(pick);
        let connect = timeout(|o| o.connect_timeout).unwrap_or(DEFAULT_TIMEOUT);
        let first_byte = timeout(|o| o.first_byte_timeout).unwrap_or(DEFAULT_TIMEOUT);
        let between_bytes = timeout(|o| o.between_bytes_timeout).unwrap_or(DEFAULT_TIMEOUT);
        // A `Host` that repeats the URI's authority is left to the client, which
        // writes it for HTTP/1 and sends `:authority` alone for HTTP/2 (some
        // servers refuse both at once).
        let repeats_authority = match (request.headers().get(http::header::HOST), request.uri().authority()) {
            (Some(host), Some(authority)) => host.as_bytes().eq_ignore_ascii_case(authority.as_str().as_bytes()),
            _ => false,
        };
        if repeats_authority {
            request.headers_mut().remove(http::header::HOST);
        }
        let response = CONNECT_TIMEOUT.scope(connect, self.client_for(request.uri()).request(request));
        let response = tokio::time::timeout(first_byte, response)
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)?
            .map_err(request_error)?;
        Ok(response.map(|body| TimedBody::new(body, between_bytes, permit).boxed_unsync()))
    }
}

/// Makes the client's new connections (see the module's documentation).
#[derive(Clone)]
struct Connector {
    blocked: Arc<BlockedNetworks>,
    tls: ComponentTls,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let this = self.clone();
        // A connection the pool finishes in the background has no request's timeout.
        let timeout = CONNECT_TIMEOUT.try_with(|t| *t).unwrap_or(DEFAULT_TIMEOUT);
        Box::pin(async move {
            tokio::time::timeout(timeout, this.connect(uri)).await.map_err(|_| ConnectError::Timeout)?.map(TokioIo::new)
        })
    }
}

impl Connector {
    async fn connect(self, uri: http::Uri) -> Result<Stream, ConnectError> {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let host = uri.host().ok_or(ConnectError::InvalidUri)?.trim_matches(['[', ']']).to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let addrs: Vec<SocketAddr> = if self.blocked.is_empty() {
            tokio::net::lookup_host((host.as_str(), port)).await.map_err(|_| ConnectError::Unresolved)?.collect()
        } else {
            self.blocked.vet(&host, port).await.map_err(|refusal| match refusal {
                Refusal::Blocked(_) => ConnectError::Blocked,
                Refusal::Unresolved(_) => ConnectError::Unresolved,
            })?
        };
        let tcp = TcpStream::connect(&*addrs).await.map_err(ConnectError::Tcp)?;
        let _ = tcp.set_nodelay(true);
        if !https {
            return Ok(Stream::Plain(tcp));
        }
        let config = self.tls.for_host(&host).unwrap_or_else(default_tls);
        let name = ServerName::try_from(host).map_err(|_| ConnectError::InvalidUri)?;
        let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(ConnectError::Tls)?;
        Ok(Stream::Tls(Box::new(tls)))
    }
}

/// The TLS configuration of hosts no `[[client_tls]]` entry names: the system's
/// store (read once per process) and webpki's roots, as Spin trusts by default.
fn default_tls() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            add_platform_roots(&mut roots);
            let builder = trusting(roots).expect("ring supports rustls's default protocol versions");
            Arc::new(offering_http2(builder.with_no_client_auth()))
        })
        .clone()
}

/// `config` offering HTTP/2, then HTTP/1.1, in the TLS handshake (ALPN).
pub(crate) fn offering_http2(mut config: ClientConfig) -> ClientConfig {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// Why a new connection could not be made.
#[derive(Debug)]
enum ConnectError {
    InvalidUri,
    Unresolved,
    Blocked,
    Timeout,
    Tcp(io::Error),
    Tls(io::Error),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUri => f.write_str("the URI names no valid host"),
            Self::Unresolved => f.write_str("the host does not resolve"),
            Self::Blocked => f.write_str("the host resolves into a blocked network"),
            Self::Timeout => f.write_str("connect timeout"),
            Self::Tcp(e) => write!(f, "connecting: {e}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl ConnectError {
    /// The `wasi:http` error code a guest sees.
    fn code(&self) -> HttpError {
        match self {
            Self::InvalidUri => HttpError::HttpRequestUriInvalid,
            Self::Unresolved => HttpError::DestinationNotFound,
            Self::Blocked => HttpError::DestinationIpProhibited,
            Self::Timeout => HttpError::ConnectionTimeout,
            Self::Tcp(e) if e.kind() == io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
            Self::Tcp(e) => HttpError::Connect(io::Error::new(e.kind(), e.to_string())),
            Self::Tls(e) => HttpError::Tls(io::Error::new(e.kind(), e.to_string())),
        }
    }
}

/// The error code of a failed request.
fn request_error(error: hyper_util::client::legacy::Error) -> HttpError {
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(connect) = cause.downcast_ref::<ConnectError>() {
            return connect.code();
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            return hyper_error(hyper);
        }
        source = cause.source();
    }
    HttpError::InternalError(Some(error.to_string()))
}

fn hyper_error(error: &hyper::Error) -> HttpError {
    if error.is_timeout() {
        HttpError::ConnectionReadTimeout
    } else if error.is_incomplete_message() || error.is_closed() || error.is_canceled() {
        HttpError::ConnectionTerminated
    } else if error.is_parse() {
        HttpError::HttpProtocolError
    } else {
        HttpError::InternalError(Some(error.to_string()))
    }
}

/// A connection's byte stream: plain TCP or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Tls(tls) if tls.get_ref().1.alpn_protocol() == Some(b"h2") => Connected::new().negotiated_h2(),
            _ => Connected::new(),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// A response body that fails when no byte comes for its between-bytes
/// timeout, and holds the request's connection permit until it ends.
struct TimedBody {
    inner: hyper::body::Incoming,
    between_bytes: Duration,
    stall: Pin<Box<tokio::time::Sleep>>,
    _permit: ConnectionPermit,
}

impl TimedBody {
    fn new(inner: hyper::body::Incoming, between_bytes: Duration, permit: ConnectionPermit) -> Self {
        let stall = Box::pin(tokio::time::sleep(between_bytes));
        Self { inner, between_bytes, stall, _permit: permit }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + this.between_bytes;
                this.stall.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(hyper_error(&e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.stall.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::HttpResponseTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;
    use crate::host::outbound::{AppConnectionCaps, ConnectionBudget, ConnectionKind};

    /// A server on 127.0.0.1 that answers every request on a connection with
    /// `ok`, or with a body that stops after its first byte when `stall`; it
    /// counts the connections it accepts.
    async fn server(stall: bool) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        if !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                            continue;
                        }
                        let reply: &[u8] = if stall {
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\no"
                        } else {
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                        };
                        if socket.write_all(reply).await.is_err() {
                            return;
                        }
                        if stall {
                            std::future::pending::<()>().await;
                        }
                    }
                });
            }
        });
        (port, accepted)
    }

    fn permit() -> ConnectionPermit {
        let budget = ConnectionBudget::new(8, AppConnectionCaps::default());
        futures::executor::block_on(budget.try_open(ConnectionKind::Http).unwrap().admit()).unwrap()
    }

    async fn get(client: &HttpClient, port: u16, options: Option<RequestOptions>) -> Result<Bytes, HttpError> {
        let body = http_body_util::Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync();
        let request = http::Request::get(format!("http://127.0.0.1:{port}/")).body(body).unwrap();
        let response = client.send(request, options, permit()).await?;
        Ok(response.into_body().collect().await?.to_bytes())
    }

    #[tokio::test]
    async fn connections_are_kept_for_the_next_request_unless_pooling_is_off() {
        for (pooling, expected) in [(true, 1), (false, 3)] {
            let (port, accepted) = server(false).await;
            let options = ClientOptions { pooling, h2c_authority: None };
            let client = HttpClient::new(Arc::default(), ComponentTls::default(), &options);
            for _ in 0..3 {
                assert_eq!(get(&client, port, None).await.unwrap(), "ok");
                // A connection goes back for reuse a moment after its response ends.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(accepted.load(Ordering::SeqCst), expected, "pooling {pooling}");
        }
    }

    /// A plain HTTP/2 server (prior knowledge, no upgrade) on 127.0.0.1 that
    /// answers with the request's version.
    async fn h2c_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let answer = hyper::service::service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                    let version = format!("{:?}", request.version());
                    Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(Bytes::from(
                        version,
                    ))))
                });
                tokio::spawn(
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), answer),
                );
            }
        });
        port
    }

    #[tokio::test]
    async fn plain_http_speaks_http2_to_the_h2c_authority_only() {
        let port = h2c_server().await;
        let options = ClientOptions { pooling: true, h2c_authority: Some(format!("127.0.0.1:{port}").into()) };
        let client = HttpClient::new(Arc::default(), ComponentTls::default(), &options);
        assert_eq!(get(&client, port, None).await.unwrap(), "HTTP/2.0");
        // Any other authority (here the same server) gets HTTP/1.1, which an h2c server refuses.
        let outcome = get(&HttpClient::default(), port, None).await;
        assert!(outcome.is_err(), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_stalled_body_fails_after_the_between_bytes_timeout() {
        let (port, _) = server(true).await;
        let options =
            RequestOptions { between_bytes_timeout: Some(Duration::from_millis(200)), ..RequestOptions::default() };
        let started = std::time::Instant::now();
        let outcome = get(&HttpClient::default(), port, Some(options)).await;
        assert!(matches!(outcome, Err(HttpError::HttpResponseTimeout)), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn blocked_networks_and_refused_connections_have_their_error_codes() {
        let blocked = Arc::new(BlockedNetworks::from_entries(&["127.0.0.0/8".to_string()]).unwrap());
        let (port, accepted) = server(false).await;
        let client = HttpClient::new(blocked, ComponentTls::default(), &ClientOptions::default());
        let outcome = get(&client, port, None).await;
        assert!(matches!(outcome, Err(HttpError::DestinationIpProhibited)), "{outcome:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let outcome = get(&HttpClient::default(), closed, None).await;
        assert!(matches!(outcome, Err(HttpError::ConnectionRefused)), "{outcome:?}");
    }
}
