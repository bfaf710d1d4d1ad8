//! What a compile cache folder holds, as tests look at it.

use std::path::{Path, PathBuf};

/// The files of the cache's entries with `extension` (`cwasm`, `seal`), in any
/// engine's folder (`<dir>/<engine key>/<sha256>.<extension>`), sorted.
pub fn entry_files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let listing =
        |d: &Path| -> Vec<PathBuf> { std::fs::read_dir(d).into_iter().flatten().flatten().map(|e| e.path()).collect() };
    let mut files: Vec<PathBuf> = listing(dir)
        .iter()
        .filter(|p| p.is_dir())
        .flat_map(|engine_dir| listing(engine_dir))
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    files.sort();
    files
}
