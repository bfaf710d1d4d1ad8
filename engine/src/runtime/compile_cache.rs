//! Compile once, and run native code only if this shim compiled it.
//!
//! Wasmtime loads precompiled artifacts with `unsafe` deserialization: the bytes
//! become machine code. So bytes from an image, a registry or a user are always
//! compiled from wasm, and a precompiled artifact given in their place is refused.
//! Only two kinds of artifacts are ever deserialized: entries of this cache,
//! each sealed with an HMAC under a key that only the shim holds (so a tenant who
//! can write the cache directory cannot plant one), and layers that runwasi hands
//! over as `precompiled`, which came out of this shim's own `Compiler` through
//! containerd's content store (see [`CompileCache::load_trusted_artifact`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use wasmtime::component::Component;
use wasmtime::Engine;

use super::cache_key::CacheKey;
use super::componentize::servable_component;
use super::engine_config::compatibility_key;

/// First bytes of every cache entry: format version, then a 32-byte tag.
const ENTRY_MAGIC: &[u8; 8] = b"SPINCC1\0";
const TAG_LEN: usize = 32;

/// A directory of sealed precompiled components (`<dir>/<engine key>/<sha256>.cwasm`);
/// without a directory or a key, every start compiles in memory.
#[derive(Clone, Debug, Default)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    key: Option<Arc<CacheKey>>,
}

impl CompileCache {
    /// A cache rooted at `dir` (created on first write), its entries sealed with `key`.
    pub fn at(dir: impl Into<PathBuf>, key: Arc<CacheKey>) -> Self {
        Self { dir: Some(dir.into()), key: Some(key) }
    }

    /// No disk cache.
    pub fn disabled() -> Self {
        Self { dir: None, key: None }
    }

    /// The directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Loads `wasm` (from `origin`, a file name or layer digest for errors) as a
    /// component: from a sealed cache entry when one exists, otherwise by
    /// componentizing and compiling it and sealing the result. Precompiled bytes
    /// are refused: they did not come from this shim.
    /// `sha256` is the digest of `wasm`, which the caller has already computed.
    pub fn load(&self, engine: &Engine, wasm: &[u8], sha256: &[u8; 32], origin: &str) -> anyhow::Result<Component> {
        refuse_native(wasm, origin)?;
        let (Some(dir), Some(key)) = (&self.dir, self.key.as_deref()) else {
            return compile_logged(engine, wasm, origin);
        };
        let engine_key = compatibility_key(engine);
        let path = dir.join(&engine_key).join(format!("{}.cwasm", hex::encode(sha256)));
        let binding = binding(&engine_key, sha256);
        match read_sealed(&path, key, &binding) {
            Ok(Some(artifact)) => {
                // SAFETY: the artifact carries a valid HMAC under the shim's own key over
                // this engine's compatibility key and this wasm's digest, so this shim
                // wrote it from its own compilation; it is deserialized from memory, so
                // the file can no longer change under the check.
                match unsafe { Component::deserialize(engine, &artifact) } {
                    Ok(c) => {
                        tracing::info!("{origin}: loaded from the compile cache");
                        return Ok(c);
                    }
                    Err(e) => tracing::warn!("ignoring unusable cache entry {}: {e:#}", path.display()),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("ignoring cache entry {}: {e:#}", path.display()),
        }
        let component = compile_logged(engine, wasm, origin)?;
        if let Err(e) = write_sealed(&component, &path, key, &binding) {
            tracing::warn!("could not write compile cache {}: {e:#}", path.display());
        }
        Ok(component)
    }

    /// Loads an artifact that runwasi delivered as a `precompiled` layer. Those
    /// are written only by this shim's `Compiler` into containerd's content store,
    /// which no container can write; nothing else may be passed here.
    pub fn load_trusted_artifact(&self, engine: &Engine, artifact: &[u8], origin: &str) -> anyhow::Result<Component> {
        // SAFETY: see above; the caller passes only layers runwasi marked
        // `precompiled`, produced by `SpinCompiler` with this engine configuration.
        unsafe { Component::deserialize(engine, artifact) }
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading {origin}, precompiled by this shim"))
            .inspect(|_| tracing::info!("{origin}: loaded its artifact precompiled by this shim"))
    }
}

/// Bytes that are a native artifact where wasm was expected: the one line an
/// operator sees, kept free of added context (find it with `downcast_ref`).
#[derive(Debug)]
pub(crate) struct NativeArtifact {
    /// The file or layer digest the bytes came from.
    pub origin: String,
}

impl std::fmt::Display for NativeArtifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is a precompiled native artifact, not WebAssembly; ship the .wasm", self.origin)
    }
}

impl std::error::Error for NativeArtifact {}

/// Refuses bytes that are a wasmtime artifact rather than WebAssembly with a
/// [`NativeArtifact`] error.
pub fn refuse_native(bytes: &[u8], origin: &str) -> anyhow::Result<()> {
    if Engine::detect_precompiled(bytes).is_some() || bytes.starts_with(b"\x7fELF") {
        return Err(NativeArtifact { origin: origin.to_string() }.into());
    }
    Ok(())
}

/// [`compile`], logging (at info, once per component and start) how long it took.
fn compile_logged(engine: &Engine, wasm: &[u8], origin: &str) -> anyhow::Result<Component> {
    let started = std::time::Instant::now();
    let component = compile(engine, wasm)?;
    tracing::info!("{origin}: compiled from wasm in {} ms", started.elapsed().as_millis());
    Ok(component)
}

/// Componentizes (if needed) and compiles `wasm` in memory.
pub fn compile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
    let component = servable_component(wasm)?;
    Component::new(engine, &component).map_err(anyhow::Error::from).context("compiling the component")
}

/// Componentizes (if needed) and precompiles `wasm` into loadable artifact bytes;
/// refuses input that is already an artifact.
pub fn precompile(engine: &Engine, wasm: &[u8], origin: &str) -> anyhow::Result<Vec<u8>> {
    refuse_native(wasm, origin)?;
    let component = servable_component(wasm)?;
    engine.precompile_component(&component).map_err(anyhow::Error::from).context("precompiling the component")
}

/// What a tag vouches for besides the artifact: which engine and which wasm.
fn binding(engine_key: &str, sha256: &[u8; 32]) -> Vec<u8> {
    let mut b = engine_key.as_bytes().to_vec();
    b.extend_from_slice(sha256);
    b
}

fn tag(key: &CacheKey, binding: &[u8], artifact: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.bytes()).expect("HMAC takes keys of any length");
    mac.update(&(binding.len() as u64).to_le_bytes());
    mac.update(binding);
    mac.update(artifact);
    mac
}

/// The artifact of a sealed entry if its tag verifies; `None` when absent.
fn read_sealed(path: &Path, key: &CacheKey, binding: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let header = ENTRY_MAGIC.len() + TAG_LEN;
    if bytes.len() < header || &bytes[..ENTRY_MAGIC.len()] != ENTRY_MAGIC {
        anyhow::bail!("not a sealed cache entry; it was not written by this shim");
    }
    let artifact = bytes.split_off(header);
    tag(key, binding, &artifact)
        .verify_slice(&bytes[ENTRY_MAGIC.len()..])
        .map_err(|_| anyhow::anyhow!("its seal does not verify; it was not written by this shim"))?;
    Ok(Some(artifact))
}

fn write_sealed(component: &Component, path: &Path, key: &CacheKey, binding: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let artifact = component.serialize()?;
    let mut out = Vec::with_capacity(ENTRY_MAGIC.len() + TAG_LEN + artifact.len());
    out.extend_from_slice(ENTRY_MAGIC);
    out.extend_from_slice(&tag(key, binding, &artifact).finalize().into_bytes());
    out.extend_from_slice(&artifact);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &out)?;
    tmp.persist(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{build_engine, EngineOptions};

    fn engine() -> Engine {
        build_engine(&EngineOptions { pooling: false, ..Default::default() }).unwrap()
    }

    fn key() -> Arc<CacheKey> {
        Arc::new(CacheKey::from_bytes([7; 32]))
    }

    fn sha256(wasm: &[u8]) -> [u8; 32] {
        use sha2::Digest as _;
        Sha256::digest(wasm).into()
    }

    fn entries(dir: &Path, engine: &Engine) -> Vec<PathBuf> {
        let key_dir = dir.join(compatibility_key(engine));
        std::fs::read_dir(&key_dir).unwrap().map(|e| e.unwrap().path()).collect()
    }

    const WAT: &str = "(component (core module (func (export \"f\"))))";

    #[test]
    fn compiles_once_then_loads_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::at(dir.path(), key());
        let engine = engine();
        let wasm = wat::parse_str(WAT).unwrap();
        cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
        let files = entries(dir.path(), &engine);
        assert_eq!(files.len(), 1, "{files:?}");
        let written = std::fs::metadata(&files[0]).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
        assert_eq!(std::fs::metadata(&files[0]).unwrap().modified().unwrap(), written, "reused, not rewritten");
    }

    #[test]
    fn precompiled_bytes_from_outside_are_refused_with_one_line() {
        let engine = engine();
        let artifact = engine.precompile_component(&wat::parse_str("(component)").unwrap()).unwrap();
        for cache in [CompileCache::disabled(), CompileCache::at(tempfile::tempdir().unwrap().path(), key())] {
            let err = cache.load(&engine, &artifact, &sha256(&artifact), "/app.wasm").unwrap_err().to_string();
            assert_eq!(err, "/app.wasm is a precompiled native artifact, not WebAssembly; ship the .wasm");
        }
        let err = precompile(&engine, &artifact, "sha256:abc").unwrap_err().to_string();
        assert!(err.starts_with("sha256:abc is a precompiled native artifact"), "{err}");
        let err =
            CompileCache::disabled().load(&engine, b"not wasm at all", &sha256(b"not wasm at all"), "x").unwrap_err();
        assert!(format!("{err:#}").contains("not a WebAssembly"), "{err:#}");
    }

    /// A tenant who can write the cache directory replaces an entry with an
    /// artifact of their own (here: another component's, with the magic and a
    /// made-up tag, and a raw unsealed artifact). Neither is loaded: the cache
    /// recompiles the real wasm, and the component behaves as the wasm says.
    #[test]
    fn a_poisoned_cache_entry_is_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = CompileCache::at(dir.path(), key());
        let wasm = wat::parse_str(WAT).unwrap();
        cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
        let entry = entries(dir.path(), &engine).remove(0);
        let evil = engine
            .precompile_component(&wat::parse_str("(component (core module (func (export \"g\"))))").unwrap())
            .unwrap();

        let mut forged = ENTRY_MAGIC.to_vec();
        forged.extend_from_slice(&[0u8; TAG_LEN]);
        forged.extend_from_slice(&evil);
        for planted in [forged, evil.clone()] {
            std::fs::write(&entry, &planted).unwrap();
            let loaded = cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
            let exports: Vec<String> = loaded.component_type().exports(&engine).map(|(n, _)| n.to_string()).collect();
            assert!(exports.is_empty(), "the planted artifact was loaded: {exports:?}");
            let rewritten = std::fs::read(&entry).unwrap();
            assert_ne!(rewritten, planted, "the entry is rewritten from our own compilation");
        }

        // Sealed under another node's key: also refused.
        let other = CompileCache::at(dir.path(), Arc::new(CacheKey::from_bytes([9; 32])));
        assert!(read_sealed(
            &entry,
            &CacheKey::from_bytes([9; 32]),
            &binding(&compatibility_key(&engine), &sha256(&wasm))
        )
        .is_err());
        other.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
    }

    #[test]
    fn an_entry_for_other_wasm_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let k = key();
        let cache = CompileCache::at(dir.path(), k.clone());
        let a = wat::parse_str(WAT).unwrap();
        let b = wat::parse_str("(component)").unwrap();
        cache.load(&engine, &a, &sha256(&a), "a").unwrap();
        let entry_a = entries(dir.path(), &engine).remove(0);
        // Copy a's valid entry to where b's would be: its seal binds it to a's digest.
        let path_b = entry_a.with_file_name(format!("{}.cwasm", hex::encode(sha256(&b))));
        std::fs::copy(&entry_a, &path_b).unwrap();
        assert!(read_sealed(&path_b, &k, &binding(&compatibility_key(&engine), &sha256(&b))).is_err());
    }
}
