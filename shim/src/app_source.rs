//! Where the app comes from inside a container: `/spin.toml` in the rootfs, a bare
//! `.wasm` entrypoint, or the layers of a Spin OCI artifact.

use std::path::Path;

use containerd_shim_wasm::sandbox::context::{Source, WasmLayer};

use spin_engine::loader::{load_with, AppSource, LoadOptions, LoadedApp};

use crate::registry::Unpacker;

/// Resolves the app of a container. `rootfs` is `/` inside the container (the
/// app directory, as for the existing shim); `work_dir` is a writable directory
/// for OCI content; `options` apply to a spin.toml in the rootfs (an OCI
/// artifact's locked app was loaded when it was pushed).
pub(crate) fn resolve(
    source: Source<'_>,
    rootfs: &Path,
    work_dir: &Path,
    options: &LoadOptions,
) -> anyhow::Result<LoadedApp> {
    let mut app = match source {
        Source::File(entry) => from_rootfs(&entry, rootfs, options)?,
        Source::Oci(layers) => from_layers(layers, work_dir)?,
    };
    app.app_dir = Some(rootfs.to_path_buf());
    Ok(app)
}

fn from_rootfs(entry: &Path, rootfs: &Path, options: &LoadOptions) -> anyhow::Result<LoadedApp> {
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
    load_with(&source, options)
}

fn from_layers(layers: &[WasmLayer], work_dir: &Path) -> anyhow::Result<LoadedApp> {
    let mut unpacker = Unpacker::new(&work_dir.join("content"))?;
    for layer in layers {
        let digest = layer.config.digest().to_string();
        unpacker.add(layer.config.media_type().as_ref(), &digest, &layer.layer, layer.precompiled)?;
    }
    unpacker.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::media_types::{SPIN_APP_CONFIG, WASM_LAYER};
    use crate::shim::tests::layer;

    #[test]
    fn only_layers_runwasi_marks_precompiled_become_trusted_artifacts() {
        let app = br#"{"spin_lock_version":1,"metadata":{"name":"a"},"triggers":[],"components":[]}"#;
        let marked = layer(WASM_LAYER, b"artifact from our compiler", true);
        let unmarked = layer(WASM_LAYER, b"\x7fELF from the image", false);
        // Wasm our compiler left to the Pod and handed back as it is.
        let handed_back = layer(WASM_LAYER, b"\0asm\x0d\0\x01\0", true);
        let dir = tempfile::tempdir().unwrap();
        let layers = [layer(SPIN_APP_CONFIG, app, true), marked.clone(), unmarked.clone(), handed_back.clone()];
        let resolved = from_layers(&layers, dir.path()).unwrap_or_else(|e| panic!("{e:#}"));
        let trusted: Vec<&String> = resolved.trusted_artifacts.keys().collect();
        assert_eq!(trusted, [&marked.config.digest().to_string()]);
        // The others are content like any other: the engine compiles them as wasm, or refuses them.
        for content in [&unmarked, &handed_back] {
            assert!(dir.path().join("content").join(content.config.digest().to_string()).is_file());
        }
        assert!(!dir.path().join("content").join(marked.config.digest().to_string()).exists());
    }
}
