//! Component sources and dependencies from a wasm package registry (spec §1.3:
//! `source = { registry?, package, version }`, and a dependency given as a
//! version requirement or `{ version, registry?, package? }`), fetched with
//! `wasm-pkg-client` as Spin fetches them.
//!
//! Which registry serves a package, and how to reach it, is wasm-pkg's own
//! configuration: the file the caller names (the shim: the container's), else
//! the user's `wasm-pkg/config.toml` (under `$XDG_CONFIG_HOME`, else
//! `~/.config`), as `wkg` writes it, unless the manifest names a registry.
//! This project names no registry of its own. The content is kept in the
//! downloads folder under its digest, like a `{ url, digest }` source, and
//! checked against the digest the registry gives before use. The registry
//! client trusts the system's certificate store, and cannot start without one
//! (even for a plain-HTTP registry): where the system has none, as in an image
//! made `FROM scratch`, the fetch fails with an error that says so.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use futures::StreamExt as _;
use wasm_pkg_client::{Client, Config, PackageRef, Registry, Version, VersionReq};

use super::remote::{append_capped, block_on_own_thread, cached, store};
use crate::limits::GuestLimits;

/// Which release of a package to fetch.
pub(super) enum Wanted<'a> {
    /// A component source's exact version.
    Exact(&'a str),
    /// A dependency's version requirement: the newest release that meets it.
    Matching(&'a str),
}

/// The local file, in `downloads`, holding the release of `package` that
/// `wanted` names, and that release's digest (`sha256:<hex>`); `config_file`
/// is wasm-pkg's configuration (`None`: the user's).
pub(super) fn fetch(
    downloads: &Path,
    config_file: Option<&Path>,
    registry: Option<&str>,
    package: &str,
    wanted: Wanted<'_>,
) -> anyhow::Result<(PathBuf, String)> {
    let package: PackageRef =
        package.parse().with_context(|| format!("`{package}` is not a package name (`namespace:name`)"))?;
    let registry: Option<Registry> = registry
        .map(|r| r.parse().with_context(|| format!("`registry = \"{r}\"` is not a registry address")))
        .transpose()?;
    let max_bytes = GuestLimits::default().max_component_size;
    block_on_own_thread(|| async move {
        let mut config = read_config(config_file).await?;
        if let Some(registry) = registry {
            config.set_package_registry_override(package.clone(), wasm_pkg_client::RegistryMapping::Registry(registry));
        }
        if !system_has_ca_certificates() {
            bail!(
                "fetching {package} from a registry needs CA certificates, and the system has none \
                 (an image without /etc/ssl/certs?): include a CA bundle in the image or mount one \
                 at /etc/ssl/certs/ca-certificates.crt (the CLI also reads SSL_CERT_FILE)"
            );
        }
        let client = Client::new(config);
        let version = resolve(&client, &package, &wanted).await?;
        let release =
            client.get_release(&package, &version).await.with_context(|| format!("looking up {package}@{version}"))?;
        let digest = release.content_digest.to_string();
        let Some(hex) = digest.strip_prefix("sha256:") else {
            bail!("{package}@{version}: the registry gives a digest this runtime cannot check ({digest})");
        };
        if let Some(path) = cached(downloads, hex)? {
            return Ok((path, digest));
        }
        let mut stream = client
            .stream_content(&package, &release)
            .await
            .with_context(|| format!("downloading {package}@{version}"))?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("downloading {package}@{version}"))?;
            append_capped(&mut bytes, &chunk, max_bytes).with_context(|| format!("downloading {package}@{version}"))?;
        }
        let path = store(downloads, hex, &bytes).with_context(|| format!("{package}@{version}"))?;
        Ok((path, digest))
    })
}

/// wasm-pkg's configuration: the built-in defaults with `file` over them (when
/// it exists), or the user's.
async fn read_config(file: Option<&Path>) -> anyhow::Result<Config> {
    let Some(file) = file else {
        return Config::global_defaults().await.context("reading the wasm-pkg configuration");
    };
    let mut config = Config::default();
    if file.is_file() {
        let own = Config::from_file(file).await.with_context(|| format!("reading {}", file.display()))?;
        config.merge(own);
    }
    Ok(config)
}

/// Whether the system's certificate store holds any certificate (read once).
/// wasm-pkg's registry client panics as it starts without one, whatever its
/// configuration's `extra_root_certificates`: oci-client 0.17 makes a default
/// HTTP client beside its configured one (a struct update from `Default`), and
/// the default one needs the system's roots.
fn system_has_ca_certificates() -> bool {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| !rustls_native_certs::load_native_certs().certs.is_empty())
}

/// The version `wanted` names: as given, or the newest release (not yanked)
/// that meets the requirement.
async fn resolve(client: &Client, package: &PackageRef, wanted: &Wanted<'_>) -> anyhow::Result<Version> {
    let requirement = match wanted {
        Wanted::Exact(version) => {
            return version.parse().with_context(|| format!("`version = \"{version}\"` is not a version"));
        }
        Wanted::Matching(requirement) => requirement,
    };
    let req: VersionReq =
        requirement.parse().with_context(|| format!("`{requirement}` is not a version requirement"))?;
    let versions =
        client.list_all_versions(package).await.with_context(|| format!("listing the releases of {package}"))?;
    versions
        .into_iter()
        .filter(|v| !v.yanked && req.matches(&v.version))
        .map(|v| v.version)
        .max()
        .with_context(|| format!("{package} has no release that meets `{requirement}`"))
}
