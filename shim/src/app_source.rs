//! Where the app comes from inside a container: `/spin.toml` in the rootfs, a bare
//! `.wasm` entrypoint, or the layers of a Spin OCI artifact.

use std::path::Path;

use containerd_shim_wasm::sandbox::context::{Source, WasmLayer};

use spin_engine::loader::{load_with, AppSource, LoadOptions, LoadedApp};
use spin_engine::locked::LockedApp;

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

/// Keeps only the components named in `ids` (comma-separated, from
/// `SPIN_COMPONENTS_TO_RETAIN`) and the triggers that use them. As Spin, a kept
/// component may not chain to one that is dropped, nor to any component
/// (`*.spin.internal`): that refuses the start rather than failing its requests.
pub(crate) fn retain_components(app: &mut LockedApp, ids: &str) -> anyhow::Result<()> {
    let keep: Vec<&str> = ids.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    for id in &keep {
        if app.component(id).is_none() {
            anyhow::bail!("SPIN_COMPONENTS_TO_RETAIN names `{id}`, which is not a component of the app");
        }
    }
    for component in app.components.iter().filter(|c| keep.contains(&c.id.as_str())) {
        for target in component.allowed_outbound_hosts().iter().filter_map(|host| chaining_target(host)) {
            if target == "*" {
                anyhow::bail!(
                    "Selected component '{}' cannot use wildcard service chaining: \
                     allowed_outbound_hosts = [\"http://*.spin.internal\"]",
                    component.id
                );
            }
            if !keep.contains(&target.as_str()) {
                anyhow::bail!(
                    "Selected component '{}' cannot use service chaining to unselected component: \
                     allowed_outbound_hosts = [\"http://{target}.spin.internal\"]",
                    component.id
                );
            }
        }
    }
    app.components.retain(|c| keep.contains(&c.id.as_str()));
    app.triggers.retain(|t| t.component_id().map(|c| keep.contains(&c)).unwrap_or(false));
    Ok(())
}

/// The component an `allowed_outbound_hosts` entry chains to (`*` for every
/// one), if it is a service-chaining entry; templated entries are not yet
/// resolved and are passed over, as Spin passes them over.
fn chaining_target(entry: &str) -> Option<String> {
    let uri: http::Uri = entry.parse().ok()?;
    let target = uri.host()?.strip_suffix(spin_engine::host::SPIN_INTERNAL_SUFFIX)?;
    Some(target.to_owned())
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
        let dir = tempfile::tempdir().unwrap();
        let resolved = from_layers(&[layer(SPIN_APP_CONFIG, app, false), marked.clone(), unmarked.clone()], dir.path())
            .unwrap_or_else(|e| panic!("{e:#}"));
        let trusted: Vec<&String> = resolved.trusted_artifacts.keys().collect();
        assert_eq!(trusted, [&marked.config.digest().to_string()]);
        // The unmarked layer is content like any other: the engine compiles it as wasm, or refuses it.
        assert!(dir.path().join("content").join(unmarked.config.digest().to_string()).is_file());
        assert!(!dir.path().join("content").join(marked.config.digest().to_string()).exists());
    }

    #[test]
    fn a_kept_component_may_chain_only_to_kept_ones() {
        let app = |hosts: &str| -> LockedApp {
            let component = |id: &str, hosts: &str| {
                format!(
                    r#"{{"id":"{id}","metadata":{{"allowed_outbound_hosts":{hosts}}},"source":{{"content_type":"application/wasm","content":{{}}}}}}"#
                )
            };
            let trigger = |id: &str| {
                format!(
                    r#"{{"id":"t-{id}","trigger_type":"http","trigger_config":{{"component":"{id}","route":"/{id}"}}}}"#
                )
            };
            let text = format!(
                r#"{{"spin_lock_version":1,"metadata":{{"name":"a"}},"triggers":[{},{},{}],"components":[{},{},{}]}}"#,
                trigger("front"),
                trigger("back"),
                trigger("other"),
                component("front", hosts),
                component("back", "[]"),
                component("other", "[]")
            );
            serde_json::from_str(&text).unwrap()
        };
        let retained = |hosts: &str, ids: &str| {
            let mut app = app(hosts);
            retain_components(&mut app, ids).map(|()| app.components.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
        };
        assert_eq!(retained(r#"["http://back.spin.internal"]"#, "front,back").unwrap(), ["front", "back"]);
        let dropped = retained(r#"["http://back.spin.internal"]"#, "front").unwrap_err().to_string();
        assert_eq!(
            dropped,
            "Selected component 'front' cannot use service chaining to unselected component: \
             allowed_outbound_hosts = [\"http://back.spin.internal\"]"
        );
        let wildcard = retained(r#"["http://*.spin.internal"]"#, "front,back,other").unwrap_err().to_string();
        assert!(wildcard.contains("cannot use wildcard service chaining"), "{wildcard}");
        // A template is not resolved yet, and a dropped component's own chaining does not matter.
        assert!(retained(r#"["http://{{ host }}.spin.internal"]"#, "front").is_ok());
        assert_eq!(retained(r#"["http://back.spin.internal"]"#, "back").unwrap(), ["back"]);
        assert!(retained("[]", "ghost").unwrap_err().to_string().contains("`ghost`"));
    }
}
