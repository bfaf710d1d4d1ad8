//! Where an app comes from: a manifest, a directory, a bare wasm or a lock file.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The manifest file name looked up in an app directory.
pub(crate) const MANIFEST_FILE_NAME: &str = "spin.toml";

/// A source of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppSource {
    /// A spin.toml (V1 or V2).
    ManifestFile(PathBuf),
    /// A directory holding `spin.toml`.
    Directory(PathBuf),
    /// A bare Wasm component or module, served over HTTP at `/...`.
    Wasm(PathBuf),
    /// A locked app JSON (`spin.lock`).
    Locked(PathBuf),
}

impl AppSource {
    /// Guesses the kind of source: a directory, a `.wasm` file or one starting with `\0asm`,
    /// a `.json`/`.lock` file, or else a manifest.
    pub fn detect(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        if path.is_dir() {
            return Self::Directory(path);
        }
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("wasm") => Self::Wasm(path),
            Some("json" | "lock") => Self::Locked(path),
            _ if has_wasm_magic(&path) => Self::Wasm(path),
            _ => Self::ManifestFile(path),
        }
    }

    /// The spin.toml this source names, if it names one (a manifest, or a
    /// directory's own).
    pub fn manifest(&self) -> Option<PathBuf> {
        match self {
            Self::ManifestFile(path) => Some(path.clone()),
            Self::Directory(dir) => Some(dir.join(MANIFEST_FILE_NAME)),
            Self::Wasm(_) | Self::Locked(_) => None,
        }
    }

    /// The path this source names.
    pub fn path(&self) -> &Path {
        match self {
            Self::ManifestFile(p) | Self::Directory(p) | Self::Wasm(p) | Self::Locked(p) => p,
        }
    }
}

/// `\0asm`, or an ELF file (a precompiled artifact, loaded as wasm only to be
/// refused with the message that says what it is).
fn has_wasm_magic(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"\0asm" || &magic == b"\x7fELF")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("app"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(root.join("spin.toml"), "").unwrap();
        assert_eq!(AppSource::detect(root), AppSource::Directory(root.into()));
        assert_eq!(AppSource::detect(root.join("x.WASM")), AppSource::Wasm(root.join("x.WASM")));
        assert_eq!(AppSource::detect(root.join("app")), AppSource::Wasm(root.join("app")));
        assert_eq!(AppSource::detect(root.join("spin.lock")), AppSource::Locked(root.join("spin.lock")));
        assert_eq!(AppSource::detect(root.join("a.json")), AppSource::Locked(root.join("a.json")));
        assert_eq!(AppSource::detect(root.join("spin.toml")), AppSource::ManifestFile(root.join("spin.toml")));
    }
}
