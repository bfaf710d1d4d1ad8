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

use super::cache_bound::{touch, trim, DEFAULT_CACHE_MAX_BYTES};
use super::cache_key::CacheKey;
use super::compile_lock::{lock_entry, EntryLock};
use super::componentize::servable_component;
use super::engine_config::compatibility_key;
use super::packed_artifact::{is_packed, pack, unpack};

/// A seal file: format version, then the 32-byte tag.
const SEAL_MAGIC: &[u8; 8] = b"SPINCC2\0";
const TAG_LEN: usize = 32;

/// A directory of sealed precompiled components: each entry is the artifact
/// (`<dir>/<engine key>/<sha256>.cwasm`, as wasmtime serializes it) and its seal
/// beside it (`<sha256>.seal`); without a directory or a key, every start
/// compiles in memory. It keeps within a size (see [`super::cache_bound`]).
#[derive(Clone, Debug, Default)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    key: Option<Arc<CacheKey>>,
    /// Whether only this shim's user can write `dir`: then a verified artifact
    /// is mapped from its file (no copy, and its pages are shared by every
    /// process that maps it) instead of read into memory first.
    private: bool,
    /// The most the entries under `dir` may hold after a write; `None`: no bound.
    max_bytes: Option<u64>,
}

impl CompileCache {
    /// A cache rooted at `dir` (created on first write), its entries sealed with
    /// `key`. Others may be able to write `dir` (a Pod's volume): an entry is read
    /// into memory, verified there, and deserialized from that copy.
    pub fn at(dir: impl Into<PathBuf>, key: Arc<CacheKey>) -> Self {
        Self { dir: Some(dir.into()), key: Some(key), private: false, max_bytes: Some(DEFAULT_CACHE_MAX_BYTES) }
    }

    /// A cache in a directory only this shim's user can write (the node's cache,
    /// the CLI user's own): a verified entry is mapped from its file.
    pub fn private(dir: impl Into<PathBuf>, key: Arc<CacheKey>) -> Self {
        Self { dir: Some(dir.into()), key: Some(key), private: true, max_bytes: Some(DEFAULT_CACHE_MAX_BYTES) }
    }

    /// No disk cache.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// The same cache bounded to `max_bytes` (`None`: unbounded) instead of
    /// [`DEFAULT_CACHE_MAX_BYTES`].
    pub fn with_max_bytes(self, max_bytes: Option<u64>) -> Self {
        Self { max_bytes, ..self }
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
    ///
    /// What a start does with Cranelift as its first-start compiler
    /// (`Runtime::compile_for_start`, which may put Winch between the two steps).
    #[cfg(test)]
    pub(crate) fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &[u8; 32],
        origin: &str,
    ) -> anyhow::Result<Component> {
        refuse_native(wasm, origin)?;
        match self.cached(engine, sha256, origin) {
            Some(component) => Ok(component),
            None => self.compile_and_store(engine, wasm, sha256, origin),
        }
    }

    /// The sealed entry of the wasm with digest `sha256` for `engine`, if there is
    /// one that verifies (an entry that does not is logged and ignored).
    pub fn cached(&self, engine: &Engine, sha256: &[u8; 32], origin: &str) -> Option<Component> {
        let (path, key, binding) = self.entry(engine, sha256)?;
        match self.load_sealed(engine, &path, key, &binding) {
            Ok(Some(c)) => {
                tracing::info!("{origin}: loaded from the compile cache");
                Some(c)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("ignoring cache entry {}: {e:#}", path.display());
                None
            }
        }
    }

    /// Compiles `wasm` (digest `sha256`, checked by the caller not to be native
    /// code) for `engine` and seals the result into the cache, if there is one;
    /// while another process compiles the same wasm into the cache, waits for it
    /// and loads its artifact instead (see [`super::compile_lock`]).
    pub fn compile_and_store(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &[u8; 32],
        origin: &str,
    ) -> anyhow::Result<Component> {
        let Some((path, key, binding)) = self.entry(engine, sha256) else {
            return compile_logged(engine, wasm, origin);
        };
        // Replicas starting together compile it once: the others wait, then load
        // it. Looked up again under the lock, which a compile that ended a moment
        // ago may have just let go.
        let _lock = lock_entry(&path, origin);
        if let Some(component) = self.cached(engine, sha256, origin) {
            return Ok(component);
        }
        let component = compile_logged(engine, wasm, origin)?;
        if !self.store(&component, &path, key, &binding) || !self.private {
            return Ok(component);
        }
        // Served from the entry's file, as later starts are: its pages are then shared
        // with every replica of the app on the node instead of a private copy.
        // SAFETY: this process wrote and sealed the file a moment ago from its own
        // compilation, in a directory only this shim's user can write.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(mapped) => Ok(mapped),
            Err(e) => {
                tracing::warn!("could not map {} ({e:#}); serving the compiled copy", path.display());
                Ok(component)
            }
        }
    }

    /// Takes the lock of the entry of `sha256` for `engine`, waiting while another
    /// process holds it (see [`super::compile_lock`]); `None` without a cache.
    pub(crate) fn lock(&self, engine: &Engine, sha256: &[u8; 32], origin: &str) -> Option<EntryLock> {
        let (path, _, _) = self.entry(engine, sha256)?;
        Some(lock_entry(&path, origin))
    }

    /// Seals `component`, compiled for `engine` from the wasm with digest
    /// `sha256`, into the cache on a thread of its own and then lets go of
    /// `lock`: for code a start serves at once, which a process waiting on the
    /// lock then loads.
    pub(crate) fn store_in_background(&self, engine: &Engine, component: Component, sha256: [u8; 32], lock: EntryLock) {
        let (cache, engine) = (self.clone(), engine.clone());
        let spawned = std::thread::Builder::new().name("cache-write".into()).spawn(move || {
            if let Some((path, key, binding)) = cache.entry(&engine, &sha256) {
                cache.store(&component, &path, key, &binding);
            }
            drop(lock);
        });
        if let Err(e) = spawned {
            tracing::warn!("could not start writing the compile cache: {e}");
        }
    }

    /// Removes the entry of `sha256` for `engine`, once no process writes it.
    pub(crate) fn remove(&self, engine: &Engine, sha256: &[u8; 32], origin: &str) {
        let Some((path, _, _)) = self.entry(engine, sha256) else { return };
        let _lock = lock_entry(&path, origin);
        // The seal first: an artifact without one is never loaded.
        for file in [seal_path(&path), path] {
            if let Err(e) = std::fs::remove_file(&file) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("could not remove {}: {e}", file.display());
                }
            }
        }
    }

    /// Seals `component` into the entry at `path` and keeps the cache within its
    /// bound; whether it was written (a failure is logged, never fatal).
    fn store(&self, component: &Component, path: &Path, key: &CacheKey, binding: &[u8]) -> bool {
        match write_sealed(component, path, key, binding) {
            Ok(()) => {
                self.keep_within_bound(path);
                true
            }
            Err(e) => {
                tracing::warn!("could not write compile cache {}: {e:#}", path.display());
                false
            }
        }
    }

    /// Removes the entries used least recently once the cache holds more than its
    /// bound; `written` (the artifact just written) stays.
    fn keep_within_bound(&self, written: &Path) {
        let (Some(dir), Some(max)) = (self.dir.as_deref(), self.max_bytes) else { return };
        let trimmed = trim(dir, max, written);
        if trimmed.entries > 0 {
            let entries = if trimmed.entries == 1 { "entry" } else { "entries" };
            tracing::info!(
                "compile cache {} over its bound of {max} bytes: removed the {} {entries} used least recently \
                 ({} bytes); {} bytes kept",
                dir.display(),
                trimmed.entries,
                trimmed.bytes,
                trimmed.kept_bytes
            );
        }
    }

    /// Where the entry of `sha256` for `engine` lives, the key that seals it and
    /// what its seal binds; `None` without a cache.
    fn entry(&self, engine: &Engine, sha256: &[u8; 32]) -> Option<(PathBuf, &CacheKey, Vec<u8>)> {
        let (dir, key) = (self.dir.as_ref()?, self.key.as_deref()?);
        let engine_key = compatibility_key(engine);
        let path = dir.join(&engine_key).join(format!("{}.cwasm", hex::encode(sha256)));
        Some((path, key, binding(&engine_key, sha256)))
    }

    /// The entry at `path` if its seal verifies; `None` when there is none.
    fn load_sealed(
        &self,
        engine: &Engine,
        path: &Path,
        key: &CacheKey,
        binding: &[u8],
    ) -> anyhow::Result<Option<Component>> {
        let Some(seal) = read_seal(&seal_path(path))? else { return Ok(None) };
        if self.private {
            let Some(mut file) = unless_missing(std::fs::File::open(path))? else { return Ok(None) };
            let mut mac = tag_start(key, binding);
            std::io::copy(&mut file, &mut MacWriter(&mut mac))?;
            verify(mac, &seal)?;
            touch(&file);
            // SAFETY: the artifact carries a valid HMAC under the shim's own key over
            // this engine's compatibility key and this wasm's digest, so this shim
            // wrote it from its own compilation; only this shim's user can write the
            // directory, so the file mapped now is the file just verified.
            return Ok(Some(unsafe { Component::deserialize_file(engine, path) }?));
        }
        let Some(mut file) = unless_missing(std::fs::File::open(path))? else { return Ok(None) };
        let mut artifact = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut artifact)?;
        let mut mac = tag_start(key, binding);
        mac.update(&artifact);
        verify(mac, &seal)?;
        touch(&file);
        // SAFETY: as above, and the bytes are deserialized from memory, so the
        // file can no longer change under the check.
        Ok(Some(unsafe { Component::deserialize(engine, &artifact) }?))
    }

    /// Loads an artifact that runwasi delivered as a `precompiled` layer. Those
    /// are written only by this shim's `Compiler` into containerd's content store,
    /// which no container can write; nothing else may be passed here.
    pub fn load_trusted_artifact(&self, engine: &Engine, artifact: &[u8], origin: &str) -> anyhow::Result<Component> {
        unpack(artifact)
            .and_then(|artifact| {
                // SAFETY: see above; the caller passes only layers runwasi marked
                // `precompiled`, produced by `SpinCompiler` with this engine configuration.
                Ok(unsafe { Component::deserialize(engine, &artifact) }?)
            })
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

/// Refuses bytes that are a wasmtime artifact (packed or not) rather than
/// WebAssembly with a [`NativeArtifact`] error.
pub fn refuse_native(bytes: &[u8], origin: &str) -> anyhow::Result<()> {
    if Engine::detect_precompiled(bytes).is_some() || bytes.starts_with(b"\x7fELF") || is_packed(bytes) {
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

/// Componentizes (if needed) and precompiles `wasm` into packed artifact bytes
/// ([`CompileCache::load_trusted_artifact`] loads them); refuses input that is
/// already an artifact.
pub fn precompile(engine: &Engine, wasm: &[u8], origin: &str) -> anyhow::Result<Vec<u8>> {
    refuse_native(wasm, origin)?;
    let component = servable_component(wasm)?;
    let artifact =
        engine.precompile_component(&component).map_err(anyhow::Error::from).context("precompiling the component")?;
    pack(&artifact)
}

/// What a tag vouches for besides the artifact: which engine and which wasm.
fn binding(engine_key: &str, sha256: &[u8; 32]) -> Vec<u8> {
    let mut b = engine_key.as_bytes().to_vec();
    b.extend_from_slice(sha256);
    b
}

/// The MAC over `binding` that an artifact's bytes are then fed into.
fn tag_start(key: &CacheKey, binding: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.bytes()).expect("HMAC takes keys of any length");
    mac.update(&(binding.len() as u64).to_le_bytes());
    mac.update(binding);
    mac
}

/// Feeds what is written into a MAC.
struct MacWriter<'a>(&'a mut Hmac<Sha256>);

impl std::io::Write for MacWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn verify(mac: Hmac<Sha256>, seal: &[u8]) -> anyhow::Result<()> {
    mac.verify_slice(seal).map_err(|_| anyhow::anyhow!("its seal does not verify; it was not written by this shim"))
}

/// Where the seal of the artifact at `path` lives.
fn seal_path(path: &Path) -> PathBuf {
    path.with_extension("seal")
}

/// `None` for a file that is not there; any other failure stays an error.
fn unless_missing<T>(result: std::io::Result<T>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The tag in the seal file at `path`; `None` when there is none.
fn read_seal(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(bytes) = unless_missing(std::fs::read(path))? else { return Ok(None) };
    match bytes.strip_prefix(SEAL_MAGIC.as_slice()) {
        Some(tag) if tag.len() == TAG_LEN => Ok(Some(tag.to_vec())),
        _ => anyhow::bail!("{} is not a seal written by this shim", path.display()),
    }
}

/// Writes the artifact, then its seal (a reader never sees a seal before its artifact).
fn write_sealed(component: &Component, path: &Path, key: &CacheKey, binding: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let artifact = component.serialize()?;
    let mut mac = tag_start(key, binding);
    mac.update(&artifact);
    let mut seal = SEAL_MAGIC.to_vec();
    seal.extend_from_slice(&mac.finalize().into_bytes());
    for (target, bytes) in [(path.to_path_buf(), &artifact), (seal_path(path), &seal)] {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, bytes)?;
        tmp.persist(&target)?;
    }
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

    /// The artifacts in the cache (each has its `.seal` beside it).
    fn entries(dir: &Path, engine: &Engine) -> Vec<PathBuf> {
        let key_dir = dir.join(compatibility_key(engine));
        let all: Vec<PathBuf> = std::fs::read_dir(&key_dir).unwrap().map(|e| e.unwrap().path()).collect();
        let artifacts: Vec<PathBuf> = all.iter().filter(|p| p.extension().unwrap() == "cwasm").cloned().collect();
        assert!(artifacts.iter().all(|a| all.contains(&seal_path(a))), "{all:?}");
        assert_eq!(all.len(), 2 * artifacts.len(), "{all:?}");
        artifacts
    }

    const WAT: &str = "(component (core module (func (export \"f\"))))";

    /// A temp folder, a cache in it (private to this user or not), an engine and
    /// the test component's wasm.
    fn cache_setup(private: bool) -> (tempfile::TempDir, CompileCache, Engine, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let cache =
            if private { CompileCache::private(dir.path(), key()) } else { CompileCache::at(dir.path(), key()) };
        (dir, cache, engine(), wat::parse_str(WAT).unwrap())
    }

    /// Whether this process maps `path` (a loaded component's code).
    fn maps(path: &Path) -> bool {
        std::fs::read_to_string("/proc/self/maps").unwrap().contains(&path.display().to_string())
    }

    #[test]
    fn what_a_start_compiles_into_a_private_cache_is_served_from_the_entry_file() {
        // So the first replica on a node shares its code pages with the next ones.
        for private in [true, false] {
            let (dir, cache, engine, wasm) = cache_setup(private);
            let component = cache.compile_and_store(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
            let entry = &entries(dir.path(), &engine)[0];
            // A Pod's own folder (others may write it) is never mapped.
            assert_eq!(maps(entry), private, "private: {private}");
            drop(component);
            assert!(!maps(entry));
        }
    }

    #[test]
    fn compiles_once_then_loads_from_disk() {
        use std::os::unix::fs::MetadataExt as _;
        for private in [false, true] {
            let (dir, cache, engine, wasm) = cache_setup(private);
            cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
            let files = entries(dir.path(), &engine);
            assert_eq!(files.len(), 1, "{files:?}");
            let written = std::fs::metadata(&files[0]).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            let loaded = cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
            let now = std::fs::metadata(&files[0]).unwrap();
            // A rewrite renames a new file into place.
            assert_eq!(now.ino(), written.ino(), "reused, not rewritten");
            assert!(now.modified().unwrap() > written.modified().unwrap(), "a load marks the entry used");
            assert_eq!(loaded.component_type().exports(&engine).count(), 0);
        }
    }

    #[test]
    fn a_write_past_the_bound_removes_the_entries_used_least_recently() {
        for private in [true, false] {
            let (dir, cache, engine, wasm) = cache_setup(private);
            let other = wat::parse_str("(component (core module))").unwrap();
            cache.load(&engine, &wasm, &sha256(&wasm), "first.wasm").unwrap();
            let first = entries(dir.path(), &engine);
            // Room for one entry only: the one just written stays.
            let cache = cache.with_max_bytes(Some(1));
            cache.load(&engine, &other, &sha256(&other), "second.wasm").unwrap();
            let second = entries(dir.path(), &engine);
            assert_eq!(second.len(), 1, "{second:?}");
            assert_ne!(second, first);
            // Unbounded, nothing goes.
            let cache = cache.with_max_bytes(None);
            cache.load(&engine, &wasm, &sha256(&wasm), "first.wasm").unwrap();
            assert_eq!(entries(dir.path(), &engine).len(), 2);
        }
    }

    #[test]
    fn a_compile_of_wasm_another_process_is_compiling_waits_and_loads_its_artifact() {
        use std::os::unix::fs::MetadataExt as _;
        let (dir, cache, engine, wasm) = cache_setup(true);
        let digest = sha256(&wasm);
        let (path, key, binding) = cache.entry(&engine, &digest).unwrap();
        // The other process: holds the entry's lock while it compiles and seals.
        let other = lock_entry(&path, "app.wasm");
        let waiter = {
            let (cache, engine, wasm) = (cache.clone(), engine.clone(), wasm.clone());
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                cache.compile_and_store(&engine, &wasm, &digest, "app.wasm").unwrap();
                started.elapsed()
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        write_sealed(&compile(&engine, &wasm).unwrap(), &path, key, &binding).unwrap();
        let written = std::fs::metadata(&path).unwrap().ino();
        drop(other);
        let took = waiter.join().unwrap();
        assert!(took >= std::time::Duration::from_millis(250), "it did not wait: {took:?}");
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), written, "it loaded the other's artifact, not its own");
        assert_eq!(entries(dir.path(), &engine).len(), 1, "and left no lock file");
    }

    #[test]
    fn precompiled_bytes_from_outside_are_refused_with_one_line() {
        let engine = engine();
        let artifact = engine.precompile_component(&wat::parse_str("(component)").unwrap()).unwrap();
        // As wasmtime writes it, and as this shim's precompiler hands it to runwasi.
        for artifact in [artifact.clone(), pack(&artifact).unwrap()] {
            for cache in [CompileCache::disabled(), CompileCache::at(tempfile::tempdir().unwrap().path(), key())] {
                let err = cache.load(&engine, &artifact, &sha256(&artifact), "/app.wasm").unwrap_err().to_string();
                assert_eq!(err, "/app.wasm is a precompiled native artifact, not WebAssembly; ship the .wasm");
            }
            let err = precompile(&engine, &artifact, "sha256:abc").unwrap_err().to_string();
            assert!(err.starts_with("sha256:abc is a precompiled native artifact"), "{err}");
        }
        let err =
            CompileCache::disabled().load(&engine, b"not wasm at all", &sha256(b"not wasm at all"), "x").unwrap_err();
        assert!(format!("{err:#}").contains("not a WebAssembly"), "{err:#}");
    }

    /// What the precompiler hands runwasi is packed, and loads; an unpacked
    /// artifact loads too.
    #[test]
    fn precompiled_artifacts_load_packed_or_not() {
        let engine = engine();
        let wasm = wat::parse_str("(component (core module (func (export \"f\"))))").unwrap();
        let packed = precompile(&engine, &wasm, "sha256:abc").unwrap();
        assert!(is_packed(&packed));
        let unpacked = engine.precompile_component(&wasm).unwrap();
        for artifact in [packed, unpacked] {
            CompileCache::disabled().load_trusted_artifact(&engine, &artifact, "sha256:abc").unwrap();
        }
    }

    /// A tenant who can write the cache directory replaces an entry with an
    /// artifact of their own (another component's, under the real seal; then
    /// with a made-up seal too). Neither is loaded, from a shared or a private
    /// directory: the cache recompiles the real wasm, and the component behaves
    /// as the wasm says.
    #[test]
    fn a_poisoned_cache_entry_is_not_loaded() {
        for private in [false, true] {
            let (dir, cache, engine, wasm) = cache_setup(private);
            cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
            let entry = entries(dir.path(), &engine).remove(0);
            let evil = engine
                .precompile_component(&wat::parse_str("(component (core module (func (export \"g\"))))").unwrap())
                .unwrap();
            let mut forged_seal = SEAL_MAGIC.to_vec();
            forged_seal.extend_from_slice(&[0u8; TAG_LEN]);
            let real_seal = std::fs::read(seal_path(&entry)).unwrap();
            for seal in [real_seal, forged_seal] {
                std::fs::write(&entry, &evil).unwrap();
                std::fs::write(seal_path(&entry), &seal).unwrap();
                let loaded = cache.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
                let exports: Vec<String> =
                    loaded.component_type().exports(&engine).map(|(n, _)| n.to_string()).collect();
                assert!(exports.is_empty(), "the planted artifact was loaded: {exports:?}");
                assert_ne!(std::fs::read(&entry).unwrap(), evil, "the entry is rewritten from our own compilation");
            }

            // Sealed under another node's key: refused, and compiled again.
            let other = CompileCache::at(dir.path(), Arc::new(CacheKey::from_bytes([9; 32])));
            let binding = binding(&compatibility_key(&engine), &sha256(&wasm));
            assert!(other.load_sealed(&engine, &entry, &CacheKey::from_bytes([9; 32]), &binding).is_err());
            other.load(&engine, &wasm, &sha256(&wasm), "app.wasm").unwrap();
        }
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
        std::fs::copy(seal_path(&entry_a), seal_path(&path_b)).unwrap();
        let binding_b = binding(&compatibility_key(&engine), &sha256(&b));
        assert!(cache.load_sealed(&engine, &path_b, &k, &binding_b).is_err());
    }
}
