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
mod wasm_pkg;

use std::path::PathBuf;

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

/// How a spin.toml is loaded.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where `{ url, digest }` sources are kept once downloaded.
    pub downloads: PathBuf,
    /// The named profile whose overrides apply (Spin 4's `--profile`).
    pub profile: Option<String>,
    /// wasm-pkg's config file, for registry packages; `None`: the user's
    /// (`$XDG_CONFIG_HOME/wasm-pkg/config.toml`, else `~/.config/...`).
    pub wasm_pkg_config: Option<PathBuf>,
    /// Whether `{ url, digest }` sources and registry packages are fetched
    /// (to run the app) or only named (to see which local files it uses).
    pub remote: RemoteSources,
    /// Spin's `--direct-mounts`: every `files` entry must be a directory
    /// (mounted as it is, so host edits show at once), with no `exclude_files`.
    pub direct_mounts_only: bool,
}

/// What loading does with sources that are not local files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RemoteSources {
    /// Downloads them (checked against their digests), as running the app needs.
    #[default]
    Fetch,
    /// Names them only (the URL, or `registry-package:<package>`), never
    /// touching the network: enough for packing the app's own files.
    Name,
}

impl Default for LoadOptions {
    /// The default download cache ([`download_cache_dir`]), no profile.
    fn default() -> Self {
        Self {
            downloads: download_cache_dir(),
            profile: None,
            wasm_pkg_config: None,
            remote: RemoteSources::Fetch,
            direct_mounts_only: false,
        }
    }
}

/// Loads an app from any source with the default [`LoadOptions`].
pub fn load(source: &AppSource) -> anyhow::Result<LoadedApp> {
    load_with(source, &LoadOptions::default())
}

/// Loads an app from any source; `options` apply to a spin.toml.
pub fn load_with(source: &AppSource, options: &LoadOptions) -> anyhow::Result<LoadedApp> {
    match source {
        AppSource::ManifestFile(path) => from_manifest::load_from_manifest(path, options),
        AppSource::Directory(dir) => {
            let manifest = dir.join(MANIFEST_FILE_NAME);
            if !manifest.is_file() {
                bail!("no {MANIFEST_FILE_NAME} in directory {}", dir.display());
            }
            from_manifest::load_from_manifest(&manifest, options)
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
