//! The node's compile-cache key, read by the shim on the host before any
//! container exists. runwasi forks every container from the shim process, so
//! the sandbox finds the key in memory, while the key file itself stays outside
//! every container's mount namespace.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use spin_engine::runtime::{CacheKey, DEFAULT_NODE_KEY_FILE};

/// containerd's environment variable naming another key file.
pub(crate) const KEY_FILE_VAR: &str = "SPIN_SHIM_CACHE_KEY_FILE";

static NODE_KEY: OnceLock<Result<Arc<CacheKey>, String>> = OnceLock::new();

/// Reads (or creates) the node key; call first thing in the shim's `main`.
pub fn load() {
    NODE_KEY.get_or_init(|| {
        let path = std::env::var_os(KEY_FILE_VAR).map(PathBuf::from).unwrap_or_else(|| DEFAULT_NODE_KEY_FILE.into());
        CacheKey::load_or_create(&path).map(Arc::new).map_err(|e| format!("{e:#}"))
    });
}

/// The node key, or why there is none (the compile cache is then off).
pub(crate) fn get() -> Result<Arc<CacheKey>, String> {
    NODE_KEY.get().cloned().unwrap_or_else(|| Err("the shim did not load a node key".into()))
}
