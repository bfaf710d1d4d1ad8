//! Loading a bare `.wasm` file as a one-component HTTP app serving `/...`.

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map};

use super::from_dir::add_single_trigger_metadata;
use super::source::LoadedApp;
use crate::locked::{file_url, LockedApp, LockedComponent, LockedComponentSource, LockedTrigger};
use crate::manifest::ids::kebab_from;

/// Component id used when the file name cannot be turned into a valid id.
pub const FALLBACK_COMPONENT_ID: &str = "main";

/// Builds an app named after the file stem, with one component and one `/...` HTTP trigger.
pub fn load_from_wasm(wasm_path: &Path) -> anyhow::Result<LoadedApp> {
    let path = wasm_path
        .canonicalize()
        .with_context(|| format!("cannot open Wasm file {}", wasm_path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(FALLBACK_COMPONENT_ID);
    let id = kebab_from(stem).unwrap_or_else(|| FALLBACK_COMPONENT_ID.to_owned());
    let mut metadata = Map::new();
    metadata.insert("name".into(), stem.into());
    metadata.insert("origin".into(), file_url(&path)?.into());
    let mut locked = LockedApp {
        metadata,
        triggers: vec![LockedTrigger {
            id: format!("{id}-http-trigger"),
            trigger_type: "http".into(),
            trigger_config: json!({ "component": id, "route": "/..." }),
        }],
        components: vec![LockedComponent {
            id,
            source: LockedComponentSource::wasm_file(&path)?,
            ..LockedComponent::default()
        }],
        ..LockedApp::default()
    };
    add_single_trigger_metadata(&mut locked);
    Ok(LoadedApp {
        locked,
        app_dir: path.parent().map(Path::to_path_buf),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_wasm_becomes_an_http_app() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("Hello_World.wasm");
        std::fs::write(&wasm, b"\0asm").unwrap();
        let loaded = load_from_wasm(&wasm).unwrap();
        let app = &loaded.locked;
        assert_eq!(app.name(), Some("Hello_World"));
        assert_eq!(app.metadata["trigger"], json!({ "type": "http" }));
        assert_eq!(app.triggers.len(), 1);
        let t = &app.triggers[0];
        assert_eq!(t.id, "hello-world-http-trigger");
        assert_eq!(
            t.trigger_config,
            json!({ "component": "hello-world", "route": "/..." })
        );
        let c = app.component("hello-world").unwrap();
        assert_eq!(
            c.source.content.local_path(),
            Some(wasm.canonicalize().unwrap())
        );
        assert_eq!(
            loaded.app_dir.as_deref(),
            Some(dir.path().canonicalize().unwrap().as_path())
        );
    }

    #[test]
    fn unusable_stem_falls_back_to_main() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("1234.wasm");
        std::fs::write(&wasm, b"\0asm").unwrap();
        let app = load_from_wasm(&wasm).unwrap().locked;
        assert_eq!(app.components[0].id, "main");
        assert_eq!(app.triggers[0].id, "main-http-trigger");
        assert!(load_from_wasm(&dir.path().join("missing.wasm")).is_err());
    }
}
