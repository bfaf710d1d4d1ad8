//! The result of loading an app from any source.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::locked::LockedApp;

/// A loaded app: the locked model, the directory relative paths were resolved
/// against, and for OCI apps where their content is. The CLI and the shim both
/// start from this.
#[derive(Debug, Clone, Default)]
pub struct LoadedApp {
    /// The normalised app.
    pub locked: LockedApp,
    /// The app directory (manifest, Wasm or lock file directory, or `/` in a
    /// container); its `.spin` folder is the default state directory.
    pub app_dir: Option<PathBuf>,
    /// Content addressed by digest (`<dir>/<digest>`), for OCI apps.
    pub content_dir: Option<PathBuf>,
    /// Artifacts runwasi delivered as `precompiled` layers (this shim's own
    /// `Compiler` wrote them), by the digest of the wasm they replace.
    pub trusted_artifacts: HashMap<String, Vec<u8>>,
}

impl LoadedApp {
    /// A local app loaded from `app_dir`.
    pub(crate) fn local(locked: LockedApp, app_dir: Option<PathBuf>) -> Self {
        Self { locked, app_dir, ..Self::default() }
    }
}
