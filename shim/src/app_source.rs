//! Where the app comes from inside a container: `/spin.toml` in the rootfs, a bare
//! `.wasm` entrypoint, or the layers of a Spin OCI artifact.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use containerd_shim_wasm::sandbox::context::{Source, WasmLayer};

use spin_engine::loader::{load, AppSource, LoadedApp};
use spin_engine::locked::LockedApp;

/// Media type of the locked app layer of a `spin registry push` artifact.
pub(crate) const SPIN_APP_CONFIG: &str = "application/vnd.fermyon.spin.application.v1+config";
/// Media type of component wasm layers.
pub(crate) const WASM_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// Media type of wasm pushed by `wkg`.
pub(crate) const PLAIN_WASM: &str = "application/wasm";
/// Media type of static file layers.
pub(crate) const DATA_LAYER: &str = "application/vnd.wasm.content.layer.v1+data";
/// Media type of archived file-mount directories.
pub(crate) const ARCHIVE_LAYER: &str = "application/vnd.wasm.content.bundle.v1.tar+gzip";

/// Every layer type the shim asks containerd for.
pub(crate) const LAYER_TYPES: &[&str] = &[WASM_LAYER, PLAIN_WASM, ARCHIVE_LAYER, DATA_LAYER, SPIN_APP_CONFIG];

/// Whether a layer media type carries a wasm component or module.
pub(crate) fn is_wasm_layer(media_type: &str) -> bool {
    media_type == WASM_LAYER || media_type == PLAIN_WASM
}

/// Resolves the app of a container. `rootfs` is `/` inside the container (the
/// app directory, as for the existing shim); `work_dir` is a writable directory
/// for OCI content.
pub(crate) fn resolve(source: Source<'_>, rootfs: &Path, work_dir: &Path) -> anyhow::Result<LoadedApp> {
    let mut app = match source {
        Source::File(entry) => from_rootfs(&entry, rootfs)?,
        Source::Oci(layers) => from_layers(layers, work_dir)?,
    };
    app.app_dir = Some(rootfs.to_path_buf());
    Ok(app)
}

fn from_rootfs(entry: &Path, rootfs: &Path) -> anyhow::Result<LoadedApp> {
    let manifest = rootfs.join("spin.toml");
    let source = if manifest.is_file() {
        AppSource::ManifestFile(manifest)
    } else if entry.is_file() {
        AppSource::Wasm(entry.to_path_buf())
    } else {
        anyhow::bail!(
            "no app found: {} does not exist and the entrypoint {:?} is not a wasm file",
            manifest.display(),
            entry
        );
    };
    load(&source)
}

fn from_layers(layers: &[WasmLayer], work_dir: &Path) -> anyhow::Result<LoadedApp> {
    let content_dir = work_dir.join("content");
    std::fs::create_dir_all(&content_dir).with_context(|| format!("cannot create {}", content_dir.display()))?;
    let mut locked = None;
    let mut wasm_layers = Vec::new();
    let mut trusted_artifacts = HashMap::new();
    for layer in layers {
        let media_type = layer.config.media_type().to_string();
        let digest = layer.config.digest().to_string();
        match media_type.as_str() {
            SPIN_APP_CONFIG => {
                locked = Some(LockedApp::from_json(&layer.layer).context("reading the app's locked config layer")?)
            }
            ARCHIVE_LAYER => anyhow::bail!(
                "archive layers ({ARCHIVE_LAYER}) are not supported yet; push the app without SPIN_OCI_ARCHIVE_LAYERS"
            ),
            m if is_wasm_layer(m) && layer.precompiled => {
                // Kept in memory: only these bytes may be deserialized, and only
                // because runwasi read them from our own Compiler's output.
                trusted_artifacts.insert(digest, layer.layer.clone());
            }
            m if is_wasm_layer(m) || m == DATA_LAYER => {
                let path = content_dir.join(&digest);
                std::fs::write(&path, &layer.layer).with_context(|| format!("cannot write {}", path.display()))?;
                if is_wasm_layer(m) {
                    wasm_layers.push(path);
                }
            }
            other => tracing::debug!("ignoring layer {digest} of type {other}"),
        }
    }
    let locked = match (locked, wasm_layers.as_slice()) {
        (Some(l), _) => l,
        (None, [single]) => load(&AppSource::Wasm(single.clone()))?.locked,
        (None, []) if !trusted_artifacts.is_empty() => {
            anyhow::bail!("the image has a precompiled wasm layer but no Spin app config layer")
        }
        (None, []) => anyhow::bail!("the image has no Spin app config layer and no wasm layer"),
        (None, _) => anyhow::bail!("the image has several wasm layers but no Spin app config layer"),
    };
    Ok(LoadedApp { locked, app_dir: None, content_dir: Some(content_dir), trusted_artifacts })
}

/// Keeps only the components named in `ids` (comma-separated, from
/// `SPIN_COMPONENTS_TO_RETAIN`) and the triggers that use them.
pub(crate) fn retain_components(app: &mut LockedApp, ids: &str) -> anyhow::Result<()> {
    let keep: Vec<&str> = ids.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    for id in &keep {
        if app.component(id).is_none() {
            anyhow::bail!("SPIN_COMPONENTS_TO_RETAIN names `{id}`, which is not a component of the app");
        }
    }
    app.components.retain(|c| keep.contains(&c.id.as_str()));
    app.triggers.retain(|t| t.component_id().map(|c| keep.contains(&c)).unwrap_or(false));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shim::tests::layer;

    #[test]
    fn only_layers_runwasi_marks_precompiled_become_trusted_artifacts() {
        let app = br#"{"spin_lock_version":1,"metadata":{"name":"a"},"triggers":[],"components":[]}"#;
        let marked = layer(WASM_LAYER, b"artifact from our compiler", true);
        let unmarked = layer(WASM_LAYER, b"\x7fELF from the image", false);
        let dir = tempfile::tempdir().unwrap();
        let resolved = from_layers(&[layer(SPIN_APP_CONFIG, app, false), marked.clone(), unmarked.clone()], dir.path())
            .unwrap_or_else(|e| panic!("{e:#}"));
        let trusted: Vec<&String> = resolved.trusted_artifacts.keys().collect();
        assert_eq!(trusted, [&marked.config.digest().to_string()]);
        // The unmarked layer is content like any other: the engine compiles it as wasm, or refuses it.
        assert!(dir.path().join("content").join(unmarked.config.digest().to_string()).is_file());
        assert!(!dir.path().join("content").join(marked.config.digest().to_string()).exists());
    }
}
