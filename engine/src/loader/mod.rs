//! Loading an app from a spin.toml, a directory, a bare Wasm file or a locked app JSON into
//! the one [`LockedApp`](crate::locked::LockedApp) model, and staging its files.

pub mod files;
pub mod from_dir;
pub mod from_locked;
pub mod from_wasm;
mod source;
pub mod staging;

pub use source::{load, load_with, AppSource, LoadOptions, LoadedApp, MANIFEST_FILE_NAME};
