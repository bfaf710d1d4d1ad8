//! The result of loading an app from any source.

use std::path::PathBuf;

use crate::locked::LockedApp;

/// A loaded app: the locked model plus the directory relative paths were resolved
/// against. The CLI and the shim both start from this.
#[derive(Debug, Clone)]
pub struct LoadedApp {
    /// The normalised app.
    pub locked: LockedApp,
    /// The app directory (manifest, Wasm or lock file directory), when the app is local.
    pub app_dir: Option<PathBuf>,
}
