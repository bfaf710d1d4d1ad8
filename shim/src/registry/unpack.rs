//! From an artifact's layers to a loadable app, for the shim (layers runwasi
//! read from containerd's content store) and for `spin-shim registry pull`
//! (layers from a registry) alike.
//!
//! Wasm and data layers are written to the content folder by digest, archive
//! layers unpacked there file by file (see [`super::archive`]), and the locked
//! app read from its layer, or from the image config of older artifacts whose
//! config blob is the locked app. Without a locked app, one wasm layer (a `wkg`
//! package) is a one-component app; several are an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use spin_engine::loader::{load, AppSource, LoadedApp};
use spin_engine::locked::{sha256_hex, LockedApp};

use super::archive::{unpack_by_digest, MAX_UNPACKED_BYTES};
use super::media_types::{is_wasm_layer, ARCHIVE_LAYER, DATA_LAYER, SPIN_APP_CONFIG};

/// Collects an artifact's layers into a content folder.
pub(crate) struct Unpacker {
    content_dir: PathBuf,
    locked: Option<LockedApp>,
    wasm_layers: Vec<PathBuf>,
    trusted_artifacts: HashMap<String, Vec<u8>>,
}

impl Unpacker {
    /// Unpacks into `content_dir` (created if missing).
    pub(crate) fn new(content_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(content_dir).with_context(|| format!("cannot create {}", content_dir.display()))?;
        Ok(Self {
            content_dir: content_dir.to_path_buf(),
            locked: None,
            wasm_layers: Vec::new(),
            trusted_artifacts: HashMap::new(),
        })
    }

    /// Takes one layer. `precompiled` is true only for layers runwasi read from
    /// this shim's own `Compiler` output: the compiled ones are kept in memory as
    /// trusted artifacts, everything else is content like any other.
    pub(crate) fn add(
        &mut self,
        media_type: &str,
        digest: &str,
        bytes: &[u8],
        precompiled: bool,
    ) -> anyhow::Result<()> {
        match media_type {
            SPIN_APP_CONFIG => {
                self.locked = Some(LockedApp::from_json(bytes).context("reading the app's locked config layer")?);
            }
            ARCHIVE_LAYER => {
                unpack_by_digest(bytes, &self.content_dir, MAX_UNPACKED_BYTES)
                    .with_context(|| format!("archive layer {digest}"))?;
            }
            m if is_wasm_layer(m) && precompiled && is_compiled(bytes) => {
                self.trusted_artifacts.insert(digest.to_string(), bytes.to_vec());
            }
            m if is_wasm_layer(m) || m == DATA_LAYER => {
                if sha256_hex(digest).is_none() {
                    bail!("layer digest {digest:?} is not a sha256 digest");
                }
                let path = self.content_dir.join(digest);
                std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
                if is_wasm_layer(m) {
                    self.wasm_layers.push(path);
                }
            }
            other => tracing::debug!("ignoring layer {digest} of type {other}"),
        }
        Ok(())
    }

    /// Takes the image config blob: older artifacts carry the locked app there.
    pub(crate) fn add_config(&mut self, bytes: &[u8]) {
        if self.locked.is_none() {
            if let Ok(locked) = LockedApp::from_json(bytes) {
                self.locked = Some(locked);
            }
        }
    }

    /// The app the layers make.
    pub(crate) fn finish(self) -> anyhow::Result<LoadedApp> {
        let locked = match (self.locked, self.wasm_layers.as_slice()) {
            (Some(l), _) => l,
            (None, [single]) => load(&AppSource::Wasm(single.clone()))?.locked,
            (None, []) if !self.trusted_artifacts.is_empty() => {
                bail!("the image has a precompiled wasm layer but no Spin app config layer")
            }
            (None, []) => bail!("the image has no Spin app config layer and no wasm layer"),
            (None, _) => bail!("the image has several wasm layers but no Spin app config layer"),
        };
        Ok(LoadedApp {
            locked,
            app_dir: None,
            content_dir: Some(self.content_dir),
            trusted_artifacts: self.trusted_artifacts,
        })
    }
}

/// Whether a layer runwasi marked `precompiled` holds native code this shim
/// compiled: its compiler hands back the wasm it leaves to the Pod as it is,
/// and wasm begins with its magic number.
fn is_compiled(bytes: &[u8]) -> bool {
    !bytes.starts_with(b"\0asm")
}
