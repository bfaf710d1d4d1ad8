//! The secret that seals compile-cache entries. On a node it lives in a file
//! only root can read, outside every container (default
//! `/var/lib/containerd-shim-spin/cache.key`); the shim reads it before any
//! container exists, so a Pod never sees it, and a Pod that can write the cache
//! directory still cannot produce an entry the shim will load.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;

/// Where the node's key lives unless `SPIN_SHIM_CACHE_KEY_FILE` (in containerd's
/// environment) says otherwise.
pub const DEFAULT_NODE_KEY_FILE: &str = "/var/lib/containerd-shim-spin/cache.key";

const KEY_LEN: usize = 32;

/// A 256-bit secret for sealing cache entries.
pub struct CacheKey([u8; KEY_LEN]);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

impl CacheKey {
    /// A key with the given bytes (tests).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads the key at `path`, creating it (mode 0600, parent 0700) from the
    /// kernel's random source when absent. A key file that others may read or
    /// write, or that another user owns, is refused: it would not be a secret.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::File::open(path) {
            Ok(file) => Self::read_private(file, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(e).with_context(|| format!("cannot read the cache key {}", path.display())),
        }
    }

    fn read_private(mut file: std::fs::File, path: &Path) -> anyhow::Result<Self> {
        let meta = file.metadata()?;
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        if meta.uid() != euid || meta.mode() & 0o077 != 0 {
            anyhow::bail!(
                "the cache key {} must be owned by uid {euid} and not readable by others (mode 0600); not using it",
                path.display()
            );
        }
        let mut key = [0u8; KEY_LEN];
        file.read_exact(&mut key).with_context(|| format!("the cache key {} is too short", path.display()))?;
        Ok(Self(key))
    }

    fn create(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        let mut key = [0u8; KEY_LEN];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot create the cache key {}", tmp.display()))?;
        file.write_all(&key)?;
        file.sync_all()?;
        // Another shim may have created it meanwhile: the first one wins, and both use it.
        if std::fs::hard_link(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return Self::read_private(std::fs::File::open(path)?, path);
        }
        let _ = std::fs::remove_file(&tmp);
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/cache.key");
        let a = CacheKey::load_or_create(&path).unwrap();
        let b = CacheKey::load_or_create(&path).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert_ne!(a.bytes(), &[0u8; 32]);
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.key");
        std::fs::write(&path, [1u8; 32]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = CacheKey::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("mode 0600"), "{err}");
    }
}
