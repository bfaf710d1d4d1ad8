//! Inbound HTTPS, as `spin up --tls-cert/--tls-key` serves it (the shim reads
//! `SPIN_TLS_CERT` and `SPIN_TLS_KEY`): a PEM certificate chain and private
//! key read once at start; the handshake offers HTTP/2 and HTTP/1.1.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::PrivateKeyDer;
use tokio_rustls::TlsAcceptor;

/// The certificate chain and private key files (PEM) of inbound HTTPS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The server's certificate, then its chain.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, or PKCS#1 / SEC1).
    pub key: PathBuf,
}

/// The acceptor for `files`; errors name the file that is wrong.
pub(crate) fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let chain = spin_engine::host::pem_certificates(&files.cert).context("TLS certificate")?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("TLS key {}: cannot read a private key from it", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| {
            format!("TLS certificate {} and key {} do not go together", files.cert.display(), files.key.display())
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_or_mismatched_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let files = TlsFiles { cert: cert.clone(), key: dir.path().join("missing.key") };
        let error = format!("{:#}", acceptor(&files).err().unwrap());
        assert!(error.contains("cert.pem") && error.contains("no certificate"), "{error}");
    }
}
