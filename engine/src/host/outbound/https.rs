//! An outbound HTTPS request over a TLS configuration of the runtime config's
//! `[[client_tls]]` (wasmtime's own sender has one fixed configuration): TCP,
//! then TLS with that configuration, then HTTP/1.1, with the request's connect
//! and first-byte timeouts (the guest's deadline bounds the rest).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt as _;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// What a send gives wasmtime: the response, and the connection's own work,
/// which runs until the response body has been read.
pub(super) type Sent = (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>);

/// wasmtime's timeouts when the request sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Sends `request` (an `https` URI) with `tls`.
pub(super) async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: Arc<ClientConfig>,
) -> Result<Sent, HttpError> {
    let uri = request.uri();
    let host = uri.host().ok_or(HttpError::HttpRequestUriInvalid)?.trim_matches(['[', ']']).to_string();
    let port = uri.port_u16().unwrap_or(443);
    let connect_timeout = options.and_then(|o| o.connect_timeout).unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = options.and_then(|o| o.first_byte_timeout).unwrap_or(DEFAULT_TIMEOUT);
    let name = ServerName::try_from(host.clone()).map_err(|_| HttpError::HttpRequestUriInvalid)?;

    let connect = async {
        let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(HttpError::Connect)?;
        let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(HttpError::Tls)?;
        Ok::<_, HttpError>(hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?)
    };
    let (mut sender, conn) =
        tokio::time::timeout(connect_timeout, connect).await.map_err(|_| HttpError::ConnectionTimeout)??;

    // HTTP/1.1 sends the path; the host travels in the `Host` header.
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| HttpError::HttpRequestUriInvalid)?;

    // The connection is driven while the request is sent and its head awaited.
    let mut conn = Box::pin(conn);
    let mut conn_done = false;
    let response = tokio::time::timeout(first_byte_timeout, async {
        let send = sender.send_request(request);
        tokio::pin!(send);
        loop {
            tokio::select! {
                response = &mut send => return response.map_err(HttpError::from),
                ended = &mut conn, if !conn_done => {
                    conn_done = true;
                    ended?;
                }
            }
        }
    })
    .await
    .map_err(|_| HttpError::ConnectionReadTimeout)??;

    let io = async move {
        if !conn_done {
            conn.await?;
        }
        Ok(())
    };
    Ok((response.map(|body| body.map_err(HttpError::from).boxed_unsync()), Box::new(io)))
}
