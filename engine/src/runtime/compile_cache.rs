//! Compile once: components are compiled ahead of time and cached on disk, keyed
//! by the content digest of the wasm and the engine's compatibility key.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::Digest as _;
use wasmtime::component::Component;
use wasmtime::Engine;

use super::componentize::componentize_if_needed;
use super::engine_config::compatibility_key;

/// A directory of precompiled components (`<dir>/<engine key>/<sha256>.cwasm`);
/// `None` compiles in memory every time.
#[derive(Clone, Debug, Default)]
pub struct CompileCache {
    dir: Option<PathBuf>,
}

impl CompileCache {
    /// A cache rooted at `dir` (created on first write).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: Some(dir.into()) }
    }

    /// No disk cache.
    pub fn disabled() -> Self {
        Self { dir: None }
    }

    /// The directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Loads `wasm` as a component, from the cache when a valid artifact exists,
    /// otherwise componentizing and compiling it and storing the result.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
        if Engine::detect_precompiled(wasm).is_some() {
            // SAFETY: precompiled bytes are only accepted from the content store that
            // this shim's own compiler wrote (runwasi marks them `precompiled`).
            return unsafe { Component::deserialize(engine, wasm) }
                .map_err(anyhow::Error::from)
                .context("loading a precompiled component");
        }
        let Some(path) = self.artifact_path(engine, wasm) else {
            return compile(engine, wasm);
        };
        if path.exists() {
            // SAFETY: the file was written by `store` below from our own compilation,
            // in a directory keyed by this engine's compatibility hash.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok(c),
                Err(e) => tracing::warn!("ignoring unusable cache entry {}: {e:#}", path.display()),
            }
        }
        let component = compile(engine, wasm)?;
        if let Err(e) = store(&component, &path) {
            tracing::warn!("could not write compile cache {}: {e:#}", path.display());
        }
        Ok(component)
    }

    fn artifact_path(&self, engine: &Engine, wasm: &[u8]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let digest = hex::encode(sha2::Sha256::digest(wasm));
        Some(dir.join(compatibility_key(engine)).join(format!("{digest}.cwasm")))
    }
}

/// Componentizes (if needed) and compiles `wasm` in memory.
pub fn compile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
    let component = componentize_if_needed(wasm)?;
    Component::new(engine, &component).map_err(anyhow::Error::from).context("compiling the component")
}

/// Componentizes (if needed) and precompiles `wasm` into loadable artifact bytes.
pub fn precompile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    let component = componentize_if_needed(wasm)?;
    engine.precompile_component(&component).map_err(anyhow::Error::from).context("precompiling the component")
}

fn store(component: &Component, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let bytes = component.serialize()?;
    let tmp = tempfile_in(dir)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
    Ok(dir.join(format!(".tmp-{}-{nanos}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{build_engine, EngineOptions};

    fn engine() -> Engine {
        build_engine(&EngineOptions { pooling: false, ..Default::default() }).unwrap()
    }

    #[test]
    fn compiles_once_then_loads_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::at(dir.path());
        let engine = engine();
        let wasm = wat::parse_str("(component (core module (func (export \"f\"))))").unwrap();
        cache.load(&engine, &wasm).unwrap();
        let key_dir = dir.path().join(compatibility_key(&engine));
        let files: Vec<_> = std::fs::read_dir(&key_dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let written = std::fs::metadata(&files[0]).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.load(&engine, &wasm).unwrap();
        assert_eq!(std::fs::metadata(&files[0]).unwrap().modified().unwrap(), written, "reused, not rewritten");
    }

    #[test]
    fn precompiled_bytes_are_loaded_directly_and_garbage_is_refused() {
        let engine = engine();
        let wasm = wat::parse_str("(component)").unwrap();
        let artifact = precompile(&engine, &wasm).unwrap();
        CompileCache::disabled().load(&engine, &artifact).unwrap();
        let err = CompileCache::disabled().load(&engine, b"not wasm at all").unwrap_err();
        assert!(format!("{err:#}").contains("not a WebAssembly"), "{err:#}");
    }
}
