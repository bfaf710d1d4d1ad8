//! Loading an app from a spin.toml, a directory, a bare Wasm file or a locked app JSON into
//! the one [`LockedApp`](crate::locked::LockedApp) model, and staging its files.

mod content;
mod files;
mod from_locked;
mod from_manifest;
mod from_wasm;
mod loaded;
mod remote;
mod source;
pub(crate) mod staging;
mod trigger_deps;

use std::path::Path;

use anyhow::bail;

pub(crate) use content::Content;
pub use from_locked::CONTENT_DIR;
pub use from_wasm::is_command;
pub use loaded::LoadedApp;
pub use remote::cache_dir as download_cache_dir;
pub use source::AppSource;
use source::MANIFEST_FILE_NAME;
pub(crate) use staging::Mount;
pub use trigger_deps::RESOLVE_USING_KEY;

/// Loads an app from any source, keeping `{ url, digest }` sources in the
/// default download cache ([`download_cache_dir`]).
pub fn load(source: &AppSource) -> anyhow::Result<LoadedApp> {
    load_with_downloads(source, &download_cache_dir())
}

/// [`load`], keeping `{ url, digest }` sources in `downloads`.
pub fn load_with_downloads(source: &AppSource, downloads: &Path) -> anyhow::Result<LoadedApp> {
    match source {
        AppSource::ManifestFile(path) => from_manifest::load_from_manifest(path, downloads),
        AppSource::Directory(dir) => {
            let manifest = dir.join(MANIFEST_FILE_NAME);
            if !manifest.is_file() {
                bail!("no {MANIFEST_FILE_NAME} in directory {}", dir.display());
            }
            from_manifest::load_from_manifest(&manifest, downloads)
        }
        AppSource::Wasm(path) => from_wasm::load_from_wasm(path),
        AppSource::Locked(path) => from_locked::load_from_locked(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_without_manifest_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(&AppSource::Directory(dir.path().into())).unwrap_err();
        assert!(err.to_string().starts_with("no spin.toml in directory"), "{err}");
    }
}
