//! The OCI artifact of an app, laid out as `spin registry push` lays it out
//! (spec section 2.2), built without the spin CLI:
//!
//! - one `...layer.v1+wasm` layer per component;
//! - per file one `...layer.v1+data` layer, its reference keeping the digest, and
//!   the bytes inline too when the file is 128 bytes or less (then no layer);
//! - in archive mode (`SPIN_OCI_ARCHIVE_LAYERS`, or more than 499 layers) one
//!   `...bundle.v1.tar+gzip` layer per component's files instead, the file
//!   references keeping only their digests;
//! - the locked app, `metadata.origin` removed and every source rewritten to its
//!   digest, as the last layer (`...spin.application.v1+config`);
//! - an image config with `architecture: wasm`, `os: Wasip1` and the label
//!   `com.fermyon.spin.lockedAppDigest`;
//! - manifest annotations for title, version, description, authors and created,
//!   under any given with `--annotation`.
//!
//! A component's dependencies are composed into it and its middleware in front
//! of it before the push, as Spin's push does by default, so the artifact holds
//! neither component nor trigger dependencies. With `--compose=false` each
//! dependency is a wasm layer of its own instead, its locked source the
//! layer's digest, and the shim composes it at start (middleware is composed
//! either way).
//!
//! File references name each file's guest path relative to `/` (`static/a.txt`),
//! as Spin writes them. Identical layers are pushed once.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;

use spin_engine::limits::GuestLimits;
use spin_engine::loader::{load_with, AppSource, LoadOptions};
use spin_engine::locked::{ContentPath, ContentRef, LockedApp, LockedComponent};
use spin_engine::runtime::composed_wasm;

use super::archive::pack_files;
use super::media_types::{ARCHIVE_LAYER, DATA_LAYER, LOCKED_APP_DIGEST_LABEL, SPIN_APP_CONFIG, WASM_LAYER};

/// Files this size or smaller travel inline in the locked app.
pub(crate) const INLINE_MAX: usize = 128;
/// The OCI image config media type.
const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Most layers an artifact may have (the lowest registry limit Spin knows).
const MAX_LAYERS: usize = 500;

/// How an artifact carries files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilesMode {
    /// A layer per file (small files inline).
    PerFile,
    /// One archive layer per component.
    Archive,
}

/// An artifact ready to push: its layers (the locked app last), config and manifest.
pub(crate) struct Artifact {
    /// Wasm, data or archive layers, then the locked app.
    pub layers: Vec<ImageLayer>,
    /// The image config.
    pub config: Config,
    /// The manifest over both.
    pub manifest: OciImageManifest,
}

/// How `build` lays an app out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Archive layers for files even when a layer per file would fit.
    pub archive: bool,
    /// Compose component dependencies before the push (Spin's default).
    pub compose: bool,
}

/// Builds the artifact of the app at `app` (a `spin.toml` or its directory) with
/// `profile`'s overrides, laid out as `layout` says; `annotations` win over the
/// inferred ones.
pub(crate) fn build(
    app: &Path,
    profile: Option<&str>,
    layout: Layout,
    annotations: &BTreeMap<String, String>,
) -> anyhow::Result<Artifact> {
    let source = match AppSource::detect(app) {
        s @ (AppSource::ManifestFile(_) | AppSource::Directory(_)) => s,
        _ => bail!("{} is not a spin.toml or a directory holding one", app.display()),
    };
    let options = LoadOptions { profile: profile.map(String::from), ..LoadOptions::default() };
    let mut locked = load_with(&source, &options)?.locked;
    // Archive mode when asked, and when a layer per file would pass the registry limit.
    let per_file =
        if layout.archive { None } else { Some(assemble(&locked.components, FilesMode::PerFile, layout.compose)?) };
    let (components, mut layers) = match per_file {
        // One more layer holds the locked app.
        Some(per_file) if per_file.1.len() < MAX_LAYERS => per_file,
        _ => assemble(&locked.components, FilesMode::Archive, layout.compose)?,
    };
    locked.components = components;
    locked.metadata.remove("origin");

    let locked_layer = ImageLayer::new(serde_json::to_vec(&locked)?, SPIN_APP_CONFIG.to_string(), None);
    // Written out rather than through oci-client's `ConfigFile`, whose `os`
    // spells `wasip1` in lower case where Spin writes `Wasip1`.
    let config = serde_json::json!({
        "architecture": "wasm",
        "os": "Wasip1",
        "config": { "Labels": { LOCKED_APP_DIGEST_LABEL: locked_layer.sha256_digest() } },
        "rootfs": { "type": "layers", "diff_ids": [] },
    });
    layers.push(locked_layer);
    let config = Config::new(serde_json::to_vec(&config)?, IMAGE_CONFIG.to_string(), None);
    let manifest = OciImageManifest::build(&layers, &config, Some(all_annotations(&locked, annotations)));
    Ok(Artifact { layers, config, manifest })
}

/// The components with their sources rewritten to digests, and the layers
/// that carry them (each distinct layer once); `compose` composes component
/// dependencies into their component instead of giving each a layer.
fn assemble(
    components: &[LockedComponent],
    mode: FilesMode,
    compose: bool,
) -> anyhow::Result<(Vec<LockedComponent>, Vec<ImageLayer>)> {
    let mut layers: Vec<ImageLayer> = Vec::new();
    let mut push = |layer: ImageLayer| {
        if !layers.iter().any(|l| l.media_type == layer.media_type && l.data == layer.data) {
            layers.push(layer);
        }
    };
    let mut out = Vec::with_capacity(components.len());
    for c in components {
        let mut c = c.clone();
        // Uncomposed dependencies travel as layers of their own.
        let mut dependencies = if compose { BTreeMap::new() } else { std::mem::take(&mut c.dependencies) };
        for (name, dep) in &mut dependencies {
            let path = dep
                .source
                .content
                .local_path()
                .with_context(|| format!("component `{}`: dependency `{name}` has no local source", c.id))?;
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let layer = ImageLayer::new(bytes, WASM_LAYER.to_string(), None);
            dep.source.content = content_ref(&layer, false);
            push(layer);
        }
        // What is left to compose is composed before the push, as Spin does:
        // the artifact's component is the composition.
        let wasm = composed_wasm(&c, None, &GuestLimits::default())?;
        c.trigger_dependencies.clear();
        c.dependencies = dependencies;
        let layer = ImageLayer::new(wasm, WASM_LAYER.to_string(), None);
        c.source.content = content_ref(&layer, true);
        push(layer);

        let files = component_files(&c).with_context(|| format!("component `{}`", c.id))?;
        c.files = Vec::with_capacity(files.len());
        for (path, bytes) in &files {
            let layer = ImageLayer::new(bytes.clone(), DATA_LAYER.to_string(), None);
            let inline = mode == FilesMode::PerFile;
            c.files.push(ContentPath { content: content_ref(&layer, inline), path: path.into() });
            if mode == FilesMode::PerFile && layer.data.len() > INLINE_MAX {
                push(layer);
            }
        }
        if mode == FilesMode::Archive && !files.is_empty() {
            push(ImageLayer::new(pack_files(&files)?, ARCHIVE_LAYER.to_string(), None));
        }
        out.push(c);
    }
    Ok((out, layers))
}

/// A layer's reference: its digest, and its bytes inline when `inline` allows
/// and it is small enough.
fn content_ref(layer: &ImageLayer, inline: bool) -> ContentRef {
    ContentRef {
        digest: Some(layer.sha256_digest()),
        inline: (inline && layer.data.len() <= INLINE_MAX).then(|| layer.data.to_vec()),
        ..Default::default()
    }
}

/// Every file a component mounts, by guest path relative to `/`, sorted.
/// Directory mounts are walked; links inside them are not followed.
fn component_files(c: &LockedComponent) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = BTreeMap::new();
    for entry in &c.files {
        let host =
            entry.content.local_path().with_context(|| format!("file entry {:?} has no local source", entry.path))?;
        let guest = entry.path.to_string_lossy().trim_start_matches('/').to_string();
        if host.is_dir() {
            for found in walkdir::WalkDir::new(&host).sort_by_file_name() {
                let found = found?;
                if found.file_type().is_file() {
                    let rel = found.path().strip_prefix(&host)?.to_string_lossy().into_owned();
                    let path = if guest.is_empty() { rel } else { format!("{guest}/{rel}") };
                    files.insert(path, std::fs::read(found.path())?);
                }
            }
        } else {
            files.insert(guest, std::fs::read(&host).with_context(|| format!("cannot read {}", host.display()))?);
        }
    }
    Ok(files.into_iter().collect())
}

/// The predefined annotations Spin infers, under `explicit`.
fn all_annotations(locked: &LockedApp, explicit: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    use oci_client::annotations as keys;
    let mut all = explicit.clone();
    let authors = locked
        .metadata
        .get("authors")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
        .filter(|a| !a.is_empty());
    let inferred = [
        (keys::ORG_OPENCONTAINERS_IMAGE_AUTHORS, authors),
        (keys::ORG_OPENCONTAINERS_IMAGE_TITLE, locked.name().map(str::to_string)),
        (keys::ORG_OPENCONTAINERS_IMAGE_DESCRIPTION, locked.description().map(str::to_string)),
        (keys::ORG_OPENCONTAINERS_IMAGE_VERSION, locked.version().map(str::to_string)),
        (keys::ORG_OPENCONTAINERS_IMAGE_CREATED, Some(chrono::Utc::now().to_rfc3339())),
    ];
    for (key, value) in inferred {
        if let Some(value) = value {
            all.entry(key.to_string()).or_insert(value);
        }
    }
    all
}
