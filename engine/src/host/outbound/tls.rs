//! The runtime config's `[[client_tls]]` (Spin's): for the listed components'
//! HTTPS requests to the listed hosts, the certificate authorities to trust and
//! a client certificate to present. Each entry is read once per app into a
//! rustls configuration; the first entry naming a (component, host) pair wins.
//! Requests to other hosts keep wasmtime's default (webpki's roots, no client
//! certificate).
//!
//! Trust roots, as Spin picks them: `ca_roots_file` (PEM, relative to the
//! runtime config's folder), webpki's roots (`ca_use_webpki_roots`) and the
//! system's (`ca_use_platform_roots`, read with `rustls-native-certs`). Unset,
//! the system's are used unless `ca_roots_file` is given.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use anyhow::{ensure, Context as _};
use rustls::client::WantsClientCert;
use rustls::{ClientConfig, ConfigBuilder, RootCertStore};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use crate::runtime_config::RuntimeConfig;

/// Makes ring the process's rustls provider, once. Builds that also link
/// aws-lc-rs (the SQS trigger's SDK) have two, and rustls then refuses to pick
/// one for wasmtime's outbound HTTPS (a panic at the first request).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another caller may have installed one first; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Per component id, the TLS configurations by host.
#[derive(Debug, Default)]
pub(crate) struct ClientTls(HashMap<String, ComponentTls>);

/// One component's TLS configurations by host; cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct ComponentTls(Option<Arc<HashMap<String, Arc<ClientConfig>>>>);

/// One `[[client_tls]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    component_ids: Vec<String>,
    hosts: Vec<String>,
    ca_use_platform_roots: Option<bool>,
    ca_use_webpki_roots: Option<bool>,
    ca_roots_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_private_key_file: Option<PathBuf>,
}

impl ClientTls {
    /// The `[[client_tls]]` entries of `config`.
    pub(crate) fn from_config(config: &RuntimeConfig) -> anyhow::Result<Self> {
        let mut by_component: HashMap<String, HashMap<String, Arc<ClientConfig>>> = HashMap::new();
        for (n, value) in config.client_tls.iter().enumerate() {
            let read = || -> anyhow::Result<(Entry, Arc<ClientConfig>)> {
                let entry = Entry::deserialize(value.clone())?;
                let tls = entry.client_config(&config.base_dir)?;
                Ok((entry, tls))
            };
            let (entry, tls) = read().with_context(|| format!("[[client_tls]] entry {}", n + 1))?;
            for component in &entry.component_ids {
                let hosts = by_component.entry(component.clone()).or_default();
                for host in &entry.hosts {
                    hosts.entry(host.to_ascii_lowercase()).or_insert_with(|| tls.clone());
                }
            }
        }
        Ok(Self(by_component.into_iter().map(|(id, hosts)| (id, ComponentTls(Some(Arc::new(hosts))))).collect()))
    }

    /// The configurations of component `id`.
    pub(crate) fn for_component(&self, id: &str) -> ComponentTls {
        self.0.get(id).cloned().unwrap_or_default()
    }
}

impl ComponentTls {
    /// The configuration for HTTPS requests to `host`, if an entry names it.
    pub(crate) fn for_host(&self, host: &str) -> Option<Arc<ClientConfig>> {
        self.0.as_ref()?.get(&host.to_ascii_lowercase()).cloned()
    }

    /// Whether no entry names the component.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Entry {
    /// The rustls configuration the entry describes, its files read from `base`.
    fn client_config(&self, base: &Path) -> anyhow::Result<Arc<ClientConfig>> {
        ensure!(!self.component_ids.is_empty(), "`component_ids` may not be empty");
        ensure!(!self.hosts.is_empty(), "`hosts` may not be empty");
        for host in &self.hosts {
            let authority: http::uri::Authority =
                host.parse().map_err(|e| anyhow::anyhow!("`{host}` is not a host name: {e}"))?;
            ensure!(authority.port().is_none(), "`{host}`: hosts are names without a port");
        }
        let (platform, webpki) = match (self.ca_use_platform_roots, self.ca_use_webpki_roots) {
            (Some(platform), Some(webpki)) => (platform, webpki),
            (Some(platform), None) => (platform, false),
            (None, Some(webpki)) => (false, webpki),
            (None, None) => (self.ca_roots_file.is_none(), false),
        };
        let mut roots = RootCertStore::empty();
        if let Some(file) = &self.ca_roots_file {
            for cert in certificates(&base.join(file))? {
                roots.add(cert).with_context(|| format!("{}: a certificate rustls cannot use", file.display()))?;
            }
        }
        if webpki {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if platform {
            add_platform_roots(&mut roots);
        }
        ensure!(
            !roots.is_empty(),
            "no certificate authority to trust: set `ca_roots_file` or use the system's or webpki's roots"
        );
        let builder = trusting(roots)?;
        let config = match (&self.client_cert_file, &self.client_private_key_file) {
            (Some(cert), Some(key)) => {
                let key = PrivateKeyDer::from_pem_file(base.join(key))
                    .with_context(|| format!("{}: no private key in PEM", key.display()))?;
                builder.with_client_auth_cert(certificates(&base.join(cert))?, key).context("the client certificate")?
            }
            (None, None) => builder.with_no_client_auth(),
            (Some(_), None) => anyhow::bail!("`client_cert_file` needs `client_private_key_file`"),
            (None, Some(_)) => anyhow::bail!("`client_private_key_file` needs `client_cert_file`"),
        };
        Ok(Arc::new(super::http_client::offering_http2(config)))
    }
}

/// Adds the system's trusted roots (read with `rustls-native-certs`) to `roots`.
pub(crate) fn add_platform_roots(roots: &mut RootCertStore) {
    roots.add_parsable_certificates(platform_roots());
}

/// The system's certificate store (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), read now.
pub(crate) fn platform_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// A TLS client configuration over ring that trusts `roots`, with rustls's
/// safe protocol versions; the caller chooses the client authentication.
pub(crate) fn trusting(roots: RootCertStore) -> anyhow::Result<ConfigBuilder<ClientConfig, WantsClientCert>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_root_certificates(roots))
}

/// The certificates of the PEM file at `path`: at least one.
pub fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("{}: cannot read certificates", path.display()))?;
    ensure!(!certs.is_empty(), "{}: no certificate in it", path.display());
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(entries: &str) -> anyhow::Result<ClientTls> {
        ClientTls::from_config(&RuntimeConfig::parse(entries, std::path::Path::new("rc.toml")).unwrap())
    }

    #[test]
    fn entries_pick_their_components_and_hosts_and_mistakes_are_named() {
        install_crypto_provider();
        let tls = read(
            "[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"api.example\"]\nca_use_webpki_roots = true\n\
             [[client_tls]]\ncomponent_ids = [\"a\", \"b\"]\nhosts = [\"API.example\", \"other.example\"]\nca_use_webpki_roots = true\n",
        )
        .unwrap();
        let (a, b) = (tls.for_component("a"), tls.for_component("b"));
        let first = a.for_host("api.example").unwrap();
        assert!(!Arc::ptr_eq(&first, &b.for_host("api.example").unwrap()), "the first entry wins for `a`");
        assert!(a.for_host("other.example").is_some() && a.for_host("third.example").is_none());
        assert!(tls.for_component("c").for_host("api.example").is_none());
        for (entry, expected) in [
            ("component_ids = []\nhosts = [\"h\"]\nca_use_webpki_roots = true", "`component_ids` may not be empty"),
            ("component_ids = [\"a\"]\nhosts = [\"h:443\"]\nca_use_webpki_roots = true", "without a port"),
            ("component_ids = [\"a\"]\nhosts = [\"h\"]\nca_roots_file = \"missing.pem\"", "missing.pem: cannot read"),
            (
                "component_ids = [\"a\"]\nhosts = [\"h\"]\nca_use_webpki_roots = true\nclient_cert_file = \"c.pem\"",
                "needs `client_private_key_file`",
            ),
            ("component_ids = [\"a\"]\nhosts = [\"h\"]\nca_use_webpki_roots = false", "no certificate authority"),
            ("component_ids = [\"a\"]\nhosts = [\"h\"]\nca_roots = \"x\"", "unknown field"),
        ] {
            let err = format!("{:#}", read(&format!("[[client_tls]]\n{entry}\n")).unwrap_err());
            assert!(err.starts_with("[[client_tls]] entry 1") && err.contains(expected), "{entry}: {err}");
        }
    }
}
