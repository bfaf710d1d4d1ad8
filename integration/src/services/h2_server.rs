//! A server on 127.0.0.1 that speaks HTTP/2 only: over TLS, whose handshake
//! offers ALPN `h2` alone, with a [`Pki`]'s server certificate, or over plain
//! TCP with prior knowledge (h2c). It answers every request with 200 and the
//! request's HTTP version (`HTTP/2.0`), and counts the connections it
//! accepts. Stopped when dropped.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::tls_server::Pki;

/// The running server.
pub struct H2Server {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl H2Server {
    /// Serves over TLS with `pki`'s server certificate.
    pub fn start(pki: &Pki) -> anyhow::Result<Self> {
        let certs = CertificateDer::pem_file_iter(pki.dir().join("server.pem"))?.collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_file(pki.dir().join("server.key"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("the server certificate")?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Self::serve(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }

    /// Serves plain HTTP/2 (h2c with prior knowledge; an HTTP/1.1 request fails).
    pub fn start_plain() -> anyhow::Result<Self> {
        Self::serve(None)
    }

    fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                answer_versions(stream).await;
                            }
                        }
                        None => answer_versions(tcp).await,
                    }
                });
            }
        });
        Ok(Self { port, accepted, _runtime: runtime })
    }

    /// The connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Serves HTTP/2 on `stream`, answering each request with its version.
async fn answer_versions<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static>(stream: S) {
    let answer = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
        let version = format!("{:?}", request.version());
        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(version))))
    });
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), answer)
        .await;
}
