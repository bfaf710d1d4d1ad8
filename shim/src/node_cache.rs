//! The node's compile cache for images runwasi does not precompile (rootfs
//! images, wkg packages): a root-owned 0700 directory outside every container
//! (default `/var/lib/containerd-shim-spin/compiled`, or `SPIN_SHIM_NODE_CACHE_DIR`
//! in containerd's environment; `off` turns it off).
//!
//! The shim opens it before runwasi forks any container and keeps the handle;
//! a container's sandbox reaches it only through that open descriptor
//! (`/proc/self/fd/<n>`), never by a path in its own filesystem, so a Pod spec
//! cannot name it and a tenant cannot write it. Its entries are sealed with the
//! node key as any compile-cache entry is. Pods of one image on a node thus
//! compile once, without a hostPath volume or any Pod-spec change.
//!
//! It keeps within `SPIN_SHIM_NODE_CACHE_MAX` (containerd's environment, default
//! 2 GiB, `none` for no bound): each write removes the entries (compiled
//! artifacts, downloads, an older shim's artifacts) used least recently.

use std::os::fd::AsRawFd as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use spin_engine::runtime::DEFAULT_CACHE_MAX_BYTES;

use crate::logging::log_error;
use crate::settings::cache_max_bytes;

/// containerd's environment variable naming another directory, or `off`.
pub(crate) const DIR_VAR: &str = "SPIN_SHIM_NODE_CACHE_DIR";
/// Where the cache lives by default.
pub(crate) const DEFAULT_DIR: &str = "/var/lib/containerd-shim-spin/compiled";

/// containerd's environment variable bounding the cache's size.
pub(crate) const MAX_VAR: &str = "SPIN_SHIM_NODE_CACHE_MAX";

static NODE_CACHE: OnceLock<Result<std::fs::File, String>> = OnceLock::new();
static NODE_CACHE_MAX: OnceLock<Option<u64>> = OnceLock::new();

/// Opens (creating it 0700 if missing) the node cache and reads its bound; call
/// first thing in the shim's `main`, beside the node key.
pub fn open() {
    NODE_CACHE.get_or_init(|| {
        let dir = std::env::var_os(DIR_VAR).map(PathBuf::from).unwrap_or_else(|| DEFAULT_DIR.into());
        if dir.as_os_str() == "off" {
            return Err(format!("{DIR_VAR}=off"));
        }
        open_dir(&dir).map_err(|e| format!("{}: {e:#}", dir.display()))
    });
    NODE_CACHE_MAX.get_or_init(|| {
        let env = std::env::vars().filter(|(k, _)| k == MAX_VAR).collect();
        cache_max_bytes(&env, MAX_VAR).unwrap_or_else(|e| {
            log_error(&format!("{e:#}; the node cache keeps to the default {DEFAULT_CACHE_MAX_BYTES} bytes"));
            Some(DEFAULT_CACHE_MAX_BYTES)
        })
    });
}

/// The most the node cache may hold (`None`: no bound).
pub(crate) fn max_bytes() -> Option<u64> {
    NODE_CACHE_MAX.get().copied().unwrap_or(Some(DEFAULT_CACHE_MAX_BYTES))
}

fn open_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let file = std::fs::File::open(dir)?;
    let meta = file.metadata()?;
    // Only the shim's own user may write it; anything else is not the node's cache.
    if !meta.is_dir() || meta.uid() != unsafe { libc::geteuid() } || meta.permissions().mode() & 0o022 != 0 {
        anyhow::bail!("not a directory owned by this user and writable by it alone");
    }
    Ok(file)
}

/// The node cache as a path the sandbox can use after entering the container,
/// or why there is none.
pub(crate) fn path() -> Result<PathBuf, String> {
    match NODE_CACHE.get() {
        Some(Ok(dir)) => Ok(PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()))),
        Some(Err(why)) => Err(why.clone()),
        None => Err("the shim did not open a node cache".into()),
    }
}

/// The node's folder for the `{ url, digest }` sources of rootfs apps, so each
/// is downloaded once per node; `None` when the node cache is off or this
/// container's user may not write it. Every use checks a file against its
/// digest, so nothing here is trusted for being here.
pub(crate) fn downloads() -> Option<PathBuf> {
    let dir = path().ok()?.join("downloads");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).ok()?;
    tempfile::tempfile_in(&dir).ok()?;
    Some(dir)
}
