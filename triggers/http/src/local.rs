//! The app's routes served in-process for its own guests: service chaining
//! (`http://<component>.spin.internal/...`) and self requests (`http://self`,
//! `http://self.alt`, a URI without an authority). The engine's outbound HTTP
//! hook checks `allowed_outbound_hosts` and calls this; nothing goes through
//! DNS or a socket.

use std::net::SocketAddr;
use std::sync::Weak;

use futures::future::BoxFuture;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

use spin_engine::host::{LocalHttp, LocalTarget};

use crate::body::to_guest;
use crate::server::Server;

/// The server, held weakly: the app's instances reach it through the engine,
/// and the server holds the app's components.
pub(crate) struct LocalServer(pub(crate) Weak<Server>);

/// The client address a self request reports (`spin-client-addr`).
const SELF_CLIENT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

impl LocalHttp for LocalServer {
    fn serve(
        &self,
        target: LocalTarget,
        request: http::Request<WasiBody>,
    ) -> BoxFuture<'static, Result<http::Response<WasiBody>, HttpError>> {
        let server = self.0.clone();
        Box::pin(async move {
            let server = server.upgrade().ok_or(HttpError::DestinationUnavailable)?;
            let response = match target {
                LocalTarget::App => server.handle(request, SELF_CLIENT, crate::workers::current()).await,
                LocalTarget::Component(id) => {
                    server.handle_chained(&id, request).await.ok_or(HttpError::DestinationNotFound)?
                }
            };
            Ok(response.map(to_guest))
        })
    }
}
