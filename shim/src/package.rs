//! Packs an app directory into an OCI image layout tar (`spin.toml`, wasm and
//! files at the image root, entrypoint `/`) that `ctr images import` accepts.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use oci_spec::image::{
    ConfigBuilder, Descriptor, DescriptorBuilder, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, RootFsBuilder, Sha256Digest, SCHEMA_VERSION,
};
use sha2::Digest as _;

use spin_engine::loader::{load, AppSource};

/// What to package and how to name it.
pub struct PackageOptions {
    /// The app: a `spin.toml`, or a directory holding one.
    pub app: PathBuf,
    /// Image reference recorded in the layout (`io.containerd.image.name`).
    pub reference: String,
    /// OCI platform architecture (defaults to the host's).
    pub architecture: String,
    /// Pack every file under the app directory as it is, without loading the app.
    pub raw: bool,
}

/// Writes the image layout tar to `out` and returns the manifest digest.
pub fn package(opts: &PackageOptions, out: &Path) -> anyhow::Result<String> {
    let manifest = if opts.app.is_dir() { opts.app.join("spin.toml") } else { opts.app.clone() };
    let app_dir = manifest.parent().context("manifest has no parent directory")?.to_path_buf();
    let mut files = BTreeSet::new();
    files.insert(PathBuf::from("spin.toml"));
    if opts.raw {
        collect(&app_dir, &app_dir, &mut files)?;
    } else {
        referenced_files(&manifest, &app_dir, &mut files)?;
    }
    let layer = layer_tar(&app_dir, &manifest, &files)?;
    let layer_digest = sha256(&layer);
    let layer_desc = descriptor(MediaType::ImageLayer, &layer, &layer_digest)?;
    let config = ImageConfigurationBuilder::default()
        .architecture(opts.architecture.as_str())
        .os("linux")
        .config(ConfigBuilder::default().entrypoint(vec!["/".to_string()]).build()?)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![format!("sha256:{layer_digest}")])
                .build()?,
        )
        .build()?;
    let config_json = serde_json::to_vec(&config)?;
    let config_digest = sha256(&config_json);
    let image_manifest = ImageManifestBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, &config_json, &config_digest)?)
        .layers(vec![layer_desc])
        .build()?;
    let manifest_json = serde_json::to_vec(&image_manifest)?;
    let manifest_digest = sha256(&manifest_json);
    let mut manifest_desc = descriptor(MediaType::ImageManifest, &manifest_json, &manifest_digest)?;
    let tag = opts.reference.rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/')).unwrap_or("latest");
    manifest_desc.set_annotations(Some(
        [
            ("io.containerd.image.name".to_string(), opts.reference.clone()),
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
    append(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    append(&mut tar, "index.json", &serde_json::to_vec(&index)?)?;
    for (digest, bytes) in [
        (&layer_digest, &layer),
        (&config_digest, &config_json),
        (&manifest_digest, &manifest_json),
    ] {
        append(&mut tar, &format!("blobs/sha256/{digest}"), bytes)?;
    }
    tar.into_inner()?.flush()?;
    Ok(format!("sha256:{manifest_digest}"))
}

/// Adds the files a loaded app references: component sources and mounted files.
fn referenced_files(manifest: &Path, app_dir: &Path, files: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
    let loaded = load(&AppSource::ManifestFile(manifest.to_path_buf()))?;
    for c in &loaded.locked.components {
        let paths = c
            .source
            .content
            .local_path()
            .into_iter()
            .chain(c.files.iter().filter_map(|f| f.content.local_path()));
        for p in paths {
            collect(app_dir, &p, files).with_context(|| format!("component `{}`", c.id))?;
        }
    }
    Ok(())
}

/// Adds `path` (a file, or every file under a directory) relative to `app_dir`.
fn collect(app_dir: &Path, path: &Path, files: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
    let rel = path.strip_prefix(app_dir).map_err(|_| {
        anyhow::anyhow!(
            "{} is outside the app directory {}; an image can only hold files under it",
            path.display(),
            app_dir.display()
        )
    })?;
    if path.is_dir() {
        for entry in walkdir::WalkDir::new(path) {
            let entry = entry?;
            if entry.file_type().is_file() {
                files.insert(entry.path().strip_prefix(app_dir)?.to_path_buf());
            }
        }
    } else {
        files.insert(rel.to_path_buf());
    }
    Ok(())
}

fn layer_tar(app_dir: &Path, manifest: &Path, files: &BTreeSet<PathBuf>) -> anyhow::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    for rel in files {
        let src = if rel == Path::new("spin.toml") { manifest.to_path_buf() } else { app_dir.join(rel) };
        let bytes = std::fs::read(&src).with_context(|| format!("cannot read {}", src.display()))?;
        append(&mut tar, &rel.to_string_lossy(), &bytes)?;
    }
    Ok(tar.into_inner()?)
}

fn append<W: std::io::Write>(tar: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
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
    Ok(DescriptorBuilder::default()
        .media_type(media_type)
        .size(bytes.len() as u64)
        .digest(digest)
        .build()?)
}

/// The host's OCI architecture name.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
