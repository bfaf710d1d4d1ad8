//! Loading a locked app JSON (`spin.lock`), resolving relative sources against its directory.

use std::path::Path;

use anyhow::Context;

use super::files::normalize_lexically;
use super::LoadedApp;
use crate::locked::{ContentRef, LockedApp};

/// Folder beside a lock file holding content by digest (`content/sha256:<hex>`),
/// as `spin-shim registry pull` writes it.
pub const CONTENT_DIR: &str = "content";

/// Reads a locked app file; relative sources are resolved against the file's
/// directory, and digest-only references are looked up in [`CONTENT_DIR`] beside it.
pub(super) fn load_from_locked(path: &Path) -> anyhow::Result<LoadedApp> {
    let path = path.canonicalize().with_context(|| format!("cannot open locked app {}", path.display()))?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read locked app {}", path.display()))?;
    let mut locked = LockedApp::from_json(&bytes).with_context(|| format!("{}", path.display()))?;
    let base = path.parent().context("the lock file has no parent directory")?;
    resolve_sources(&mut locked, base)?;
    super::trigger_deps::reassign_trigger_deps(&mut locked);
    let mut loaded = LoadedApp::local(locked, Some(base.to_path_buf()));
    loaded.content_dir = Some(base.join(CONTENT_DIR)).filter(|dir| dir.is_dir());
    Ok(loaded)
}

/// Rewrites every source that is a plain relative or absolute path (not a URL) into a
/// `file://` URL, resolving relative ones against `base`.
fn resolve_sources(locked: &mut LockedApp, base: &Path) -> anyhow::Result<()> {
    for trigger in &mut locked.triggers {
        for dep in trigger.trigger_dependencies.values_mut().flatten() {
            resolve_ref(&mut dep.source.content, base).with_context(|| format!("trigger `{}`", trigger.id))?;
        }
    }
    for component in &mut locked.components {
        let refs =
            std::iter::once(&mut component.source.content).chain(component.files.iter_mut().map(|f| &mut f.content));
        let deps = component
            .trigger_dependencies
            .values_mut()
            .flatten()
            .chain(component.dependencies.values_mut())
            .map(|d| &mut d.source.content);
        let refs = refs.chain(deps);
        for content in refs {
            resolve_ref(content, base).with_context(|| format!("component `{}`", component.id))?;
        }
    }
    Ok(())
}

fn resolve_ref(content: &mut ContentRef, base: &Path) -> anyhow::Result<()> {
    let Some(source) = content.source.as_deref() else {
        return Ok(());
    };
    if is_url(source) {
        return Ok(());
    }
    let path = normalize_lexically(&base.join(source));
    content.source = ContentRef::from_path(&path)?.source;
    Ok(())
}

fn is_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| u.scheme().len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_relative_sources() {
        let dir = tempfile::tempdir().unwrap();
        let lock = json!({
            "spin_lock_version": 1,
            "metadata": { "name": "locked" },
            "triggers": [ { "id": "t", "trigger_type": "http",
                            "trigger_config": { "component": "c", "route": "/..." } } ],
            "components": [ {
                "id": "c",
                "source": { "content_type": "application/wasm", "source": "./wasm/c.wasm" },
                "files": [
                    { "source": "assets", "path": "/" },
                    { "source": "file:///abs/x.txt", "path": "/x.txt" },
                    { "digest": "sha256:00", "path": "/d" }
                ]
            } ]
        });
        let path = dir.path().join("spin.lock");
        std::fs::write(&path, lock.to_string()).unwrap();
        let loaded = load_from_locked(&path).unwrap();
        let base = dir.path().canonicalize().unwrap();
        let c = loaded.locked.component("c").unwrap();
        assert_eq!(c.source.content.local_path(), Some(base.join("wasm/c.wasm")));
        assert_eq!(c.files[0].content.local_path(), Some(base.join("assets")));
        assert_eq!(c.files[1].content.source.as_deref(), Some("file:///abs/x.txt"));
        assert_eq!(c.files[2].content.source, None);
        assert_eq!(loaded.app_dir, Some(base));
    }

    #[test]
    fn invalid_lock_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spin.lock");
        std::fs::write(&path, r#"{"spin_lock_version": 7}"#).unwrap();
        let err = format!("{:#}", load_from_locked(&path).unwrap_err());
        assert!(err.contains("spin.lock"), "{err}");
        assert!(err.contains("spin_lock_version 7"), "{err}");
    }
}
