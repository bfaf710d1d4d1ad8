//! Pushing an [`Artifact`] to a registry and pulling one into a folder, over
//! `oci-client`. Credentials come from the Docker config (`~/.docker/config.json`
//! or `$DOCKER_CONFIG`, credential helpers included), else the registry is used
//! anonymously; `--insecure` speaks plain HTTP (a local registry).

use std::path::Path;

use anyhow::Context as _;
use docker_credential::DockerCredential;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use spin_engine::loader::{LoadedApp, CONTENT_DIR};

use super::artifact::Artifact;
use super::unpack::Unpacker;

/// Largest artifact `pull` reads (all layers together).
const MAX_PULL_BYTES: u64 = 4 << 30;

/// A registry client.
pub(crate) struct Registry {
    client: Client,
    insecure: bool,
}

impl Registry {
    /// A client speaking HTTPS, or plain HTTP when `insecure`.
    pub(crate) fn new(insecure: bool) -> Self {
        let protocol = if insecure { ClientProtocol::Http } else { ClientProtocol::Https };
        Self { client: Client::new(ClientConfig { protocol, ..Default::default() }), insecure }
    }

    /// Pushes `artifact` as `reference`; returns the manifest digest.
    pub(crate) async fn push(&self, reference: &str, artifact: &Artifact) -> anyhow::Result<String> {
        let reference = parse(reference)?;
        let auth = auth(&reference);
        let pushed = self
            .client
            .push(&reference, &artifact.layers, artifact.config.clone(), &auth, Some(artifact.manifest.clone()))
            .await
            .map_err(|e| self.explain(e, &reference))
            .with_context(|| format!("pushing {reference}"))?;
        Ok(pushed.manifest_url.rsplit('/').next().unwrap_or_default().to_string())
    }

    /// Pulls `reference` and unpacks it into `dir/content` (the folder a lock file
    /// in `dir` finds its content in); returns the app.
    pub(crate) async fn pull(&self, reference: &str, dir: &Path) -> anyhow::Result<LoadedApp> {
        let reference = parse(reference)?;
        let auth = auth(&reference);
        let (manifest, digest) = self
            .client
            .pull_image_manifest(&reference, &auth)
            .await
            .map_err(|e| self.explain(e, &reference))
            .with_context(|| format!("pulling the manifest of {reference}"))?;
        let total: i64 = manifest.layers.iter().map(|l| l.size).sum::<i64>() + manifest.config.size;
        if total < 0 || total as u64 > MAX_PULL_BYTES {
            anyhow::bail!("{reference} declares {total} bytes of layers, over the {MAX_PULL_BYTES}-byte limit");
        }
        let mut unpacker = Unpacker::new(&dir.join(CONTENT_DIR))?;
        let mut config = Vec::new();
        self.client.pull_blob(&reference, &manifest.config, &mut config).await.context("pulling the image config")?;
        for layer in &manifest.layers {
            let mut bytes = Vec::with_capacity(layer.size.max(0) as usize);
            self.client
                .pull_blob(&reference, layer, &mut bytes)
                .await
                .with_context(|| format!("pulling layer {}", layer.digest))?;
            unpacker.add(&layer.media_type, &layer.digest, &bytes, false)?;
        }
        unpacker.add_config(&config);
        tracing::info!("pulled {reference}@{digest}");
        let mut loaded = unpacker.finish()?;
        // Where the app came from, as Spin records it (`/.well-known/spin/info`
        // shows the digest).
        let metadata = &mut loaded.locked.metadata;
        metadata.insert("origin".into(), format!("vnd.fermyon.origin-oci:{reference}").into());
        metadata.insert("oci_image_digest".into(), digest.into());
        Ok(loaded)
    }
}

impl Registry {
    /// `e`, with a hint when the registry refused the credentials (or their
    /// absence), or when HTTPS met a registry that speaks plain HTTP.
    fn explain(&self, e: OciDistributionError, reference: &Reference) -> anyhow::Error {
        let refused = is_refusal(&e);
        let e = anyhow::Error::from(e);
        let text = format!("{e:#}");
        if refused {
            let server = reference.resolve_registry();
            e.context(format!(
                "{server} did not authorize this request: log in with `docker login {server}` (or put credentials \
                 for {server} in $DOCKER_CONFIG/config.json, default ~/.docker/config.json) and retry"
            ))
        } else if !self.insecure && (text.contains("InvalidContentType") || text.contains("corrupt message")) {
            e.context("the registry does not speak HTTPS; for a plain-HTTP (local) registry pass --insecure")
        } else {
            e
        }
    }
}

/// Whether the registry refused the request for want of (valid) credentials.
fn is_refusal(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::AuthenticationFailure(_) | OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied))
        }
        OciDistributionError::ServerError { code, .. } => matches!(code, 401 | 403),
        _ => false,
    }
}

fn parse(reference: &str) -> anyhow::Result<Reference> {
    reference.parse().with_context(|| format!("`{reference}` is not an image reference"))
}

/// The Docker config's credentials for the reference's registry, else anonymous.
fn auth(reference: &Reference) -> RegistryAuth {
    let server = reference.resolve_registry();
    let server = server.strip_suffix('/').unwrap_or(server);
    match docker_credential::get_credential(server) {
        Ok(DockerCredential::UsernamePassword(user, password)) => RegistryAuth::Basic(user, password),
        Ok(DockerCredential::IdentityToken(_)) => {
            tracing::warn!(
                "the Docker config holds an identity token for {server}, which is not supported; pushing anonymously"
            );
            RegistryAuth::Anonymous
        }
        Err(e) => {
            tracing::debug!("no Docker credentials for {server} ({e}); using the registry anonymously");
            RegistryAuth::Anonymous
        }
    }
}
