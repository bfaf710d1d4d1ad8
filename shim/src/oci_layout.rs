//! Writes a one-layer OCI image layout tar that `ctr images import` accepts: the
//! format `spin-shim package` emits, and what tests use for their own images.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use oci_spec::image::{
    ConfigBuilder, Descriptor, DescriptorBuilder, ImageConfigurationBuilder, ImageIndexBuilder, ImageManifestBuilder,
    MediaType, RootFsBuilder, Sha256Digest, SCHEMA_VERSION,
};
use sha2::Digest as _;

/// A regular file in the image's layer.
pub struct LayerFile {
    /// Path inside the image, without a leading `/`.
    pub path: String,
    /// Contents.
    pub bytes: Vec<u8>,
    /// Unix permission bits (0o644 for data, 0o755 for executables).
    pub mode: u32,
}

/// An image made of a single layer.
pub struct SingleLayerImage {
    /// Reference recorded in the layout (`io.containerd.image.name`).
    pub reference: String,
    /// OCI platform architecture.
    pub architecture: String,
    /// The image config's entrypoint.
    pub entrypoint: Vec<String>,
    /// The layer's files.
    pub files: Vec<LayerFile>,
}

impl SingleLayerImage {
    /// Writes the layout tar to `out` and returns the manifest digest.
    pub fn write(&self, out: &Path) -> anyhow::Result<String> {
        let layer = self.layer_tar()?;
        let layer_digest = sha256(&layer);
        let config = ImageConfigurationBuilder::default()
            .architecture(self.architecture.as_str())
            .os("linux")
            .config(ConfigBuilder::default().entrypoint(self.entrypoint.clone()).build()?)
            .rootfs(RootFsBuilder::default().typ("layers").diff_ids(vec![format!("sha256:{layer_digest}")]).build()?)
            .build()?;
        let config_json = serde_json::to_vec(&config)?;
        let config_digest = sha256(&config_json);
        let image_manifest = ImageManifestBuilder::default()
            .schema_version(SCHEMA_VERSION)
            .media_type(MediaType::ImageManifest)
            .config(descriptor(MediaType::ImageConfig, &config_json, &config_digest)?)
            .layers(vec![descriptor(MediaType::ImageLayer, &layer, &layer_digest)?])
            .build()?;
        let manifest_json = serde_json::to_vec(&image_manifest)?;
        let manifest_digest = sha256(&manifest_json);
        let mut manifest_desc = descriptor(MediaType::ImageManifest, &manifest_json, &manifest_digest)?;
        let tag = self.reference.rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/')).unwrap_or("latest");
        manifest_desc.set_annotations(Some(
            [
                ("io.containerd.image.name".to_string(), self.reference.clone()),
                ("org.opencontainers.image.ref.name".to_string(), tag.to_string()),
            ]
            .into(),
        ));
        let index = ImageIndexBuilder::default()
            .schema_version(SCHEMA_VERSION)
            .media_type(MediaType::ImageIndex)
            .manifests(vec![manifest_desc])
            .build()?;

        let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
        append(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#, 0o644)?;
        append(&mut tar, "index.json", &serde_json::to_vec(&index)?, 0o644)?;
        for (digest, bytes) in
            [(&layer_digest, &layer), (&config_digest, &config_json), (&manifest_digest, &manifest_json)]
        {
            append(&mut tar, &format!("blobs/sha256/{digest}"), bytes, 0o644)?;
        }
        tar.into_inner()?.flush()?;
        Ok(format!("sha256:{manifest_digest}"))
    }

    fn layer_tar(&self) -> anyhow::Result<Vec<u8>> {
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        for f in &self.files {
            append(&mut tar, &f.path, &f.bytes, f.mode)?;
        }
        Ok(tar.into_inner()?)
    }
}

fn append<W: std::io::Write>(tar: &mut tar::Builder<W>, path: &str, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, bytes)?;
    Ok(())
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn descriptor(media_type: MediaType, bytes: &[u8], digest: &str) -> anyhow::Result<Descriptor> {
    let digest: Sha256Digest = digest.parse()?;
    Ok(DescriptorBuilder::default().media_type(media_type).size(bytes.len() as u64).digest(digest).build()?)
}

/// The host's OCI architecture name.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
