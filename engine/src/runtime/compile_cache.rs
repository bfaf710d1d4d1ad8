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
    Component::new(engine, &component)
        .map_err(anyhow::Error::from)
        .context("compiling the component")
}

/// Componentizes (if needed) and precompiles `wasm` into loadable artifact bytes.
pub fn precompile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    let component = componentize_if_needed(wasm)?;
    engine
        .precompile_component(&component)
        .map_err(anyhow::Error::from)
        .context("precompiling the component")
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
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .subsec_nanos();
    Ok(dir.join(format!(".tmp-{}-{nanos}", std::process::id())))
}
