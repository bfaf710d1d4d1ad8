//! Loading a bare `.wasm` file as a one-component app: a command (run once) when
//! it is a WASI command without an HTTP handler, else an HTTP app serving `/...`.

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map};

use super::LoadedApp;
use crate::locked::{file_url, LockedApp, LockedComponent, LockedComponentSource, LockedTrigger};
use crate::manifest::ids::kebab_from;

/// Component id used when the file name cannot be turned into a valid id.
const FALLBACK_COMPONENT_ID: &str = "main";

/// Builds an app named after the file stem, with one component and one trigger: a
/// `command` trigger when the wasm is a WASI command without an HTTP handler
/// export (see [`is_command`]), else an HTTP trigger on `/...`.
pub(super) fn load_from_wasm(wasm_path: &Path) -> anyhow::Result<LoadedApp> {
    let path = wasm_path.canonicalize().with_context(|| format!("cannot open Wasm file {}", wasm_path.display()))?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or(FALLBACK_COMPONENT_ID);
    let id = kebab_from(stem).unwrap_or_else(|| FALLBACK_COMPONENT_ID.to_owned());
    let mut metadata = Map::new();
    metadata.insert("name".into(), stem.into());
    metadata.insert("origin".into(), file_url(&path)?.into());
    let mut locked = LockedApp {
        metadata,
        triggers: vec![trigger_for(&id, &path)],
        components: vec![LockedComponent {
            id,
            source: LockedComponentSource::wasm_file(&path)?,
            ..LockedComponent::default()
        }],
        ..LockedApp::default()
    };
    locked.add_single_trigger_metadata();
    Ok(LoadedApp::local(locked, path.parent().map(Path::to_path_buf)))
}

/// The one trigger of a bare-wasm app whose component is `id`.
fn trigger_for(id: &str, path: &Path) -> LockedTrigger {
    // An unreadable file becomes an HTTP app here; loading its component reports the error.
    let command = std::fs::read(path).is_ok_and(|bytes| is_command(&bytes));
    if command {
        LockedTrigger {
            id: format!("{id}-command-trigger"),
            trigger_type: "command".into(),
            trigger_config: json!({ "component": id }),
            ..LockedTrigger::default()
        }
    } else {
        LockedTrigger {
            id: format!("{id}-http-trigger"),
            trigger_type: "http".into(),
            trigger_config: json!({ "component": id, "route": "/..." }),
            ..LockedTrigger::default()
        }
    }
}

/// Export prefixes that make a wasm an HTTP handler (component export names, or
/// the `<interface>#<func>` names of a core module with embedded component types).
const HTTP_EXPORTS: &[&str] =
    &["wasi:http/incoming-handler@0.2.", "wasi:http/handler@0.3.0", "fermyon:spin/inbound-http"];

/// Whether `bytes` is a WASI command with no HTTP handler: a component exporting
/// `wasi:cli/run@0.2.x` or `wasi:cli/run@0.3.0`, or a core module exporting
/// `_start`, and in all cases no HTTP handler export. Bytes that do not parse are
/// not a command.
pub fn is_command(bytes: &[u8]) -> bool {
    let Some(exports) = top_level_exports(bytes) else {
        return false;
    };
    let is_http = exports.iter().any(|e| HTTP_EXPORTS.iter().any(|p| e.starts_with(p)));
    let runs = exports.iter().any(|e| e.starts_with("wasi:cli/run@0.2.") || e == "wasi:cli/run@0.3.0" || e == "_start");
    runs && !is_http
}

/// The export names of the outermost component or module (nested modules and
/// components are skipped); `None` when the bytes do not parse.
fn top_level_exports(bytes: &[u8]) -> Option<Vec<String>> {
    use wasmparser::{Parser, Payload};
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.push(export.ok()?.name.name.to_string());
                }
            }
            Payload::ExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.push(export.ok()?.name.to_string());
                }
            }
            _ => {}
        }
    }
    Some(exports)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module exporting functions with the given names (each `() -> ()`).
    fn core_module(exports: &[&str]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        let n = exports.len() as u8;
        section(&mut m, 1, &[1, 0x60, 0, 0]);
        let mut funcs = vec![n];
        funcs.extend(std::iter::repeat_n(0u8, exports.len()));
        section(&mut m, 3, &funcs);
        let mut ex = vec![n];
        for (i, name) in exports.iter().enumerate() {
            ex.push(name.len() as u8);
            ex.extend_from_slice(name.as_bytes());
            ex.extend([0, i as u8]);
        }
        section(&mut m, 7, &ex);
        let mut code = vec![n];
        for _ in exports {
            code.extend([2, 0, 0x0b]);
        }
        section(&mut m, 10, &code);
        m
    }

    /// A component exporting one empty instance under each given name.
    fn component(exports: &[&str]) -> Vec<u8> {
        let mut c = b"\0asm\x0d\0\x01\0".to_vec();
        let mut instances = vec![exports.len() as u8];
        for _ in exports {
            instances.extend([1, 0]);
        }
        section(&mut c, 5, &instances);
        let mut ex = vec![exports.len() as u8];
        for (i, name) in exports.iter().enumerate() {
            ex.extend([0, name.len() as u8]);
            ex.extend_from_slice(name.as_bytes());
            ex.extend([5, i as u8, 0]);
        }
        section(&mut c, 11, &ex);
        c
    }

    fn section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
        out.push(id);
        out.push(content.len() as u8);
        out.extend_from_slice(content);
    }

    fn load_bytes(name: &str, bytes: &[u8]) -> (tempfile::TempDir, LockedApp) {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join(name);
        std::fs::write(&wasm, bytes).unwrap();
        let app = load_from_wasm(&wasm).unwrap().locked;
        (dir, app)
    }

    #[test]
    fn command_component_becomes_a_command_app() {
        let (_d, app) = load_bytes("my_job.wasm", &component(&["wasi:cli/run@0.2.0"]));
        assert_eq!(app.metadata["trigger"], json!({ "type": "command" }));
        assert_eq!(app.triggers.len(), 1);
        let t = &app.triggers[0];
        assert_eq!(t.id, "my-job-command-trigger");
        assert_eq!(t.trigger_type, "command");
        assert_eq!(t.trigger_config, json!({ "component": "my-job" }));
        assert!(app.component("my-job").is_some());
        let (_d, app) = load_bytes("p3_job.wasm", &component(&["wasi:cli/run@0.3.0"]));
        assert_eq!(app.triggers[0].trigger_type, "command", "a WASI 0.3 command");
    }

    #[test]
    fn component_with_an_http_handler_stays_http() {
        for exports in [
            vec!["wasi:http/incoming-handler@0.2.0"],
            vec!["wasi:cli/run@0.2.6", "wasi:http/incoming-handler@0.2.3"],
            vec!["wasi:cli/run@0.2.0", "fermyon:spin/inbound-http"],
            vec!["wasi:cli/run@0.3.0", "wasi:http/handler@0.3.0"],
        ] {
            let (_d, app) = load_bytes("web.wasm", &component(&exports));
            assert_eq!(app.triggers[0].trigger_type, "http", "{exports:?}");
            assert_eq!(app.triggers[0].trigger_config["route"], "/...", "{exports:?}");
        }
    }

    #[test]
    fn core_module_with_start_and_no_handler_is_a_command() {
        assert!(is_command(&core_module(&["_start"])));
        let (_d, app) = load_bytes("tool.wasm", &core_module(&["_start", "memory_helper"]));
        assert_eq!(app.triggers[0].trigger_type, "command");
        assert!(!is_command(&core_module(&["_start", "wasi:http/incoming-handler@0.2.0#handle"])));
        assert!(!is_command(&core_module(&["wasi:http/incoming-handler@0.2.0#handle"])));
        assert!(!is_command(&core_module(&["_initialize"])));
    }

    #[test]
    fn unparseable_or_exportless_wasm_is_not_a_command() {
        assert!(!is_command(b"\0asm"));
        assert!(!is_command(b"not wasm at all"));
        assert!(!is_command(&component(&[])));
        assert!(!is_command(&component(&["wasi:cli/run@0.3.0-rc-2026-03-15"])));
    }

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
        assert_eq!(t.trigger_config, json!({ "component": "hello-world", "route": "/..." }));
        let c = app.component("hello-world").unwrap();
        assert_eq!(c.source.content.local_path(), Some(wasm.canonicalize().unwrap()));
        assert_eq!(loaded.app_dir.as_deref(), Some(dir.path().canonicalize().unwrap().as_path()));
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
