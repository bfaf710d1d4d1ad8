//! Packs an app directory into an OCI image layout tar (`spin.toml`, wasm and
//! files at the image root, entrypoint `/`) that `ctr images import` accepts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use spin_engine::loader::{load_with, AppSource, LoadOptions, RemoteSources};

use crate::oci_layout::{LayerFile, SingleLayerImage};

/// What to package and how to name it.
pub(crate) struct PackageOptions {
    /// The app: a `spin.toml`, or a directory holding one.
    pub app: PathBuf,
    /// Image reference recorded in the layout (`io.containerd.image.name`).
    pub reference: String,
    /// OCI platform architecture (defaults to the host's).
    pub architecture: String,
    /// Pack every file under the app directory as it is, without loading the app.
    pub raw: bool,
    /// Pack the files this named profile uses instead of the default's, for
    /// containers started with `SPIN_PROFILE` set to it.
    pub profile: Option<String>,
}

/// Writes the image layout tar to `out` and returns the manifest digest.
pub(crate) fn package(opts: &PackageOptions, out: &Path) -> anyhow::Result<String> {
    let manifest = if opts.app.is_dir() { opts.app.join("spin.toml") } else { opts.app.clone() };
    let app_dir = manifest.parent().context("manifest has no parent directory")?.to_path_buf();
    let mut files = BTreeSet::new();
    files.insert(PathBuf::from("spin.toml"));
    if opts.raw {
        collect(&app_dir, &app_dir, &mut files)?;
    } else {
        // Remote sources are named, not fetched: they stay out of the image.
        let options =
            LoadOptions { profile: opts.profile.clone(), remote: RemoteSources::Name, ..LoadOptions::default() };
        referenced_files(&manifest, &app_dir, &options, &mut files)?;
    }
    let mut layer = Vec::with_capacity(files.len());
    for rel in &files {
        let src = if rel == Path::new("spin.toml") { manifest.clone() } else { app_dir.join(rel) };
        let bytes = std::fs::read(&src).with_context(|| format!("cannot read {}", src.display()))?;
        layer.push(LayerFile { path: rel.to_string_lossy().into_owned(), bytes, mode: 0o644 });
    }
    SingleLayerImage {
        reference: opts.reference.clone(),
        architecture: opts.architecture.clone(),
        entrypoint: vec!["/".to_string()],
        files: layer,
    }
    .write(out)
}

/// Adds the files the app loaded with `options` references: component sources,
/// middleware, component dependencies and mounted files. Sources given as
/// `{ url, digest }` or registry packages stay out, never fetched here: the
/// image's spin.toml names them, and its container downloads them at start
/// (`registry push` carries them as layers instead).
fn referenced_files(
    manifest: &Path,
    app_dir: &Path,
    options: &LoadOptions,
    files: &mut BTreeSet<PathBuf>,
) -> anyhow::Result<()> {
    let loaded = load_with(&AppSource::ManifestFile(manifest.to_path_buf()), options)?;
    for c in &loaded.locked.components {
        // Middleware and dependencies given by `{ path = ... }` travel with
        // the component they are composed with.
        let composed_in = c.composed_in().filter_map(|d| d.source.content.local_path());
        let paths = c
            .source
            .content
            .local_path()
            .into_iter()
            .chain(c.files.iter().filter_map(|f| f.content.local_path()))
            .chain(composed_in);
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
