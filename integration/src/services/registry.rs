//! A real OCI registry (Debian's `docker-registry`, the CNCF distribution) on
//! 127.0.0.1 with its storage in a temp folder, open or behind a login
//! (htpasswd, bcrypt); stopped when dropped.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long a start may take before `/v2/` must answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A `docker-registry serve` process on 127.0.0.1, plain HTTP.
pub struct Registry {
    port: u16,
    _process: Running,
    _storage: tempfile::TempDir,
}

impl Registry {
    /// Starts an open registry on a free port and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        Self::launch(None)
    }

    /// Starts a registry that lets only `user` with `password` in (HTTP basic
    /// auth against an htpasswd file, the registry's own login).
    pub fn start_with_login(user: &str, password: &str) -> anyhow::Result<Self> {
        Self::launch(Some((user, password)))
    }

    fn launch(login: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let storage = tempfile::Builder::new().prefix("css-registry-").tempdir_in("/var/tmp")?;
        let port = free_port();
        let mut auth = String::new();
        if let Some((user, password)) = login {
            let htpasswd = storage.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{user}:{}\n", bcrypt::hash(password, 4)?))?;
            auth = format!("auth:\n  htpasswd:\n    realm: css-tests\n    path: {}\n", htpasswd.display());
        }
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n{auth}",
                storage.path().join("data").display()
            ),
        )?;
        // Behind a login, `/v2/` answers 401 once the registry is up.
        let ready = if login.is_some() { 401 } else { 200 };
        let mut cmd = Command::new("docker-registry");
        cmd.arg("serve").arg(&config);
        let mut process = Running::spawn(cmd).context("starting docker-registry (apt-get install docker-registry)")?;
        let end = Instant::now() + START_TIMEOUT;
        let base = format!("http://127.0.0.1:{port}/v2/");
        loop {
            if crate::http::get(&base).is_ok_and(|r| r.status == ready) {
                return Ok(Self { port, _process: process, _storage: storage });
            }
            if let Some(code) = process.try_status() {
                anyhow::bail!("docker-registry exited with {code}:\n{}", process.output());
            }
            if Instant::now() > end {
                anyhow::bail!("docker-registry did not answer within {START_TIMEOUT:?}:\n{}", process.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:<port>`, the host part of references into this registry.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The manifest of `repository:tag` as JSON (OCI manifest media type).
    pub fn manifest(&self, repository: &str, tag: &str) -> anyhow::Result<serde_json::Value> {
        let url = format!("http://{}/v2/{repository}/manifests/{tag}", self.host());
        let r = crate::http::request("GET", &url, &[("accept", "application/vnd.oci.image.manifest.v1+json")], "")?;
        anyhow::ensure!(r.status == 200, "GET {url}: {} {}", r.status, r.body);
        Ok(serde_json::from_str(&r.body)?)
    }

    /// Pushes the app in `app` (a `spin.toml` or its folder) with `spin-shim
    /// registry push --insecure` as `repository:tag`, in archive mode when
    /// `archive` (`SPIN_OCI_ARCHIVE_LAYERS`); returns the reference.
    pub fn push_app(&self, app: &std::path::Path, repository_tag: &str, archive: bool) -> anyhow::Result<String> {
        self.push_app_with(app, repository_tag, archive, &[])
    }

    /// [`Registry::push_app`] with more `spin-shim registry push` flags.
    pub fn push_app_with(
        &self,
        app: &std::path::Path,
        repository_tag: &str,
        archive: bool,
        flags: &[&str],
    ) -> anyhow::Result<String> {
        let reference = format!("{}/{repository_tag}", self.host());
        let mut cmd = Command::new(crate::paths::cli());
        cmd.args(["registry", "push", "--insecure"]).args(flags).arg("-f").arg(app).arg(&reference);
        if archive {
            cmd.env("SPIN_OCI_ARCHIVE_LAYERS", "1");
        }
        let out = cmd.output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(
            out.status.success() && stdout.contains("Pushed with digest sha256:"),
            "spin-shim registry push {reference}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(reference)
    }

    /// wasm-pkg's configuration (`wasm-pkg/config.toml`) for reaching this
    /// registry over plain HTTP, and naming it the default registry when
    /// `default`.
    pub fn wasm_pkg_config(&self, default: bool) -> String {
        let default = if default { format!("default_registry = \"{}\"\n", self.host()) } else { String::new() };
        format!("{default}[registry.\"{}\".oci]\nprotocol = \"http\"\n", self.host())
    }

    /// Publishes the component `wasm` as `package@version` (`namespace:name`)
    /// in the layout of wasm-pkg's OCI backend (what `wkg publish` writes and
    /// `wasm-pkg-client` reads): repository `<namespace>/<name>`, the version as
    /// tag, a wasm config blob and one `application/wasm` layer.
    /// (`wasm-pkg-client` 0.16.1 cannot publish a component whose WIT names no
    /// package version even when given one, so the push is done here.)
    pub fn publish_package(&self, wasm: &std::path::Path, package: &str, version: &str) -> anyhow::Result<()> {
        let (namespace, name) = package.split_once(':').context("a package is `namespace:name`")?;
        let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
        let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
        let config = serde_json::json!({
            "created": "2026-01-01T00:00:00Z",
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [digest],
        });
        self.push_image(
            &format!("{namespace}/{name}:{version}"),
            "application/vnd.wasm.config.v0+json",
            config.to_string().as_bytes(),
            &[(&bytes, "application/wasm")],
        )?;
        Ok(())
    }

    /// Pushes an image made of `layers` (`(bytes, media type)`) and a config blob
    /// of `config_media_type` as `repository:tag`, the way other tools (wkg, a
    /// plain OCI build) shape theirs; returns the reference.
    pub fn push_image(
        &self,
        repository_tag: &str,
        config_media_type: &str,
        config: &[u8],
        layers: &[(&[u8], &str)],
    ) -> anyhow::Result<String> {
        use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
        let reference = format!("{}/{repository_tag}", self.host());
        let client = oci_client::Client::new(ClientConfig { protocol: ClientProtocol::Http, ..Default::default() });
        let layers: Vec<ImageLayer> = layers
            .iter()
            .map(|(bytes, media_type)| ImageLayer::new(bytes.to_vec(), media_type.to_string(), None))
            .collect();
        let config = Config::new(config.to_vec(), config_media_type.to_string(), None);
        // The manifest names its own media type, as OCI tools write it (and
        // wasm-pkg's OCI backend requires).
        let mut manifest = oci_client::manifest::OciImageManifest::build(&layers, &config, None);
        manifest.media_type = Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_string());
        let parsed: oci_client::Reference = reference.parse()?;
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(client.push(
            &parsed,
            &layers,
            config,
            &oci_client::secrets::RegistryAuth::Anonymous,
            Some(manifest),
        ))?;
        Ok(reference)
    }

    /// A blob's bytes.
    pub fn blob(&self, repository: &str, digest: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("http://{}/v2/{repository}/blobs/{digest}", self.host());
        crate::http::get_bytes(&url)
    }
}
