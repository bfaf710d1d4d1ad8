//! Keeps a cache folder within a size. After an entry is written, the entries
//! used least recently are removed until the rest fit, the new one never.
//!
//! An entry is the files of one name in a subfolder of the cache's root: a
//! compiled artifact and its seal (`<engine key>/<sha256>.cwasm`, `.seal`), or a
//! downloaded source (`downloads/sha256:<sha256>`). Nothing else there is ever
//! removed, so a folder shared with other files loses none of them, except the
//! temporary files and compile locks (`<sha256>.lock`) of writers that died or
//! started more than an hour ago. An entry's last
//! use is the newest modification time of its files: writing sets it, and every
//! load refreshes it ([`touch`]). A removed entry is compiled (or downloaded)
//! again on its next use; a process that has it mapped keeps its pages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The default bound of every compile cache: the node's, a Pod's, the CLI's.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 2 << 30;

/// A writer's temporary file or lock this old belongs to a writer that is gone.
const STALE_TEMP_FILE: Duration = Duration::from_secs(3600);

/// What one [`trim`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Trimmed {
    /// Entries removed.
    pub(super) entries: usize,
    /// Their bytes.
    pub(super) bytes: u64,
    /// What the entries left hold.
    pub(super) kept_bytes: u64,
}

/// Marks the entry `file` belongs to as used now. Best effort: a cache that
/// cannot record it only ages that entry sooner.
pub(crate) fn touch(file: &std::fs::File) {
    let _ = file.set_modified(SystemTime::now());
}

/// Removes the least recently used entries under `root` until the others hold
/// at most `max_bytes`; `keep` (a file of the entry just written) stays even
/// when it alone is larger. Files that vanish meanwhile (another process
/// trimming the same cache) are skipped.
pub(super) fn trim(root: &Path, max_bytes: u64, keep: &Path) -> Trimmed {
    let keep = entry_key(keep);
    let (mut entries, subfolders) = scan(root);
    let mut total: u64 = entries.values().map(|e| e.bytes).sum();
    let mut oldest_first: Vec<(PathBuf, Entry)> = entries.drain().collect();
    oldest_first.sort_by_key(|(_, e)| e.last_used);
    let mut trimmed = Trimmed::default();
    for (key, entry) in oldest_first {
        if total <= max_bytes {
            break;
        }
        if Some(&key) == keep.as_ref() {
            continue;
        }
        let bytes = entry.bytes;
        if entry.remove() {
            total -= bytes;
            trimmed.entries += 1;
            trimmed.bytes += bytes;
        }
    }
    trimmed.kept_bytes = total;
    for sub in subfolders {
        // Only succeeds for a folder left empty (an older engine's).
        let _ = std::fs::remove_dir(sub);
    }
    trimmed
}

/// The files of one entry.
#[derive(Default)]
struct Entry {
    files: Vec<PathBuf>,
    bytes: u64,
    last_used: Option<SystemTime>,
}

impl Entry {
    /// Removes the entry, its seal first (an artifact without one is never
    /// loaded); false when some file could not be removed.
    fn remove(mut self) -> bool {
        self.files.sort_by_key(|f| f.extension().is_none_or(|e| e != "seal"));
        let mut all = true;
        for file in &self.files {
            match std::fs::remove_file(file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!("could not remove cache entry {}: {e}", file.display());
                    all = false;
                }
            }
        }
        all
    }
}

/// Every entry in the subfolders of `root`, by [`entry_key`], and those
/// subfolders; stale temporary files are removed on the way.
fn scan(root: &Path) -> (HashMap<PathBuf, Entry>, Vec<PathBuf>) {
    let mut entries: HashMap<PathBuf, Entry> = HashMap::new();
    let mut subfolders = Vec::new();
    let Ok(listing) = std::fs::read_dir(root) else { return (entries, subfolders) };
    for sub in listing.flatten() {
        if !sub.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        subfolders.push(sub.path());
        let Ok(files) = std::fs::read_dir(sub.path()) else { continue };
        for file in files.flatten() {
            let path = file.path();
            let Ok(meta) = file.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().ok();
            if is_scratch_file(&path) {
                let stale = modified.and_then(|m| m.elapsed().ok()).is_some_and(|age| age > STALE_TEMP_FILE);
                if stale {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            let Some(key) = entry_key(&path) else { continue };
            let entry = entries.entry(key).or_default();
            entry.files.push(path);
            entry.bytes += meta.len();
            entry.last_used = entry.last_used.max(modified);
        }
    }
    (entries, subfolders)
}

/// The entry a cache file belongs to (its path without the `.cwasm` or `.seal`
/// extension), or `None` for a file that is no cache entry's.
fn entry_key(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let digest = match name.strip_prefix("sha256:") {
        Some(digest) => digest,
        None => name.strip_suffix(".cwasm").or_else(|| name.strip_suffix(".seal"))?,
    };
    is_digest(digest).then(|| path.with_file_name(digest))
}

/// A file that only matters while a writer lives: one `tempfile` is writing
/// before it is renamed into place, or an entry's compile lock.
fn is_scratch_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    name.starts_with(".tmp") || name.strip_suffix(".lock").is_some_and(is_digest)
}

/// 64 hex digits: a sha256 digest as entry names spell it.
fn is_digest(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aa00000000000000000000000000000000000000000000000000000000000000";
    const B: &str = "bb00000000000000000000000000000000000000000000000000000000000000";
    const C: &str = "cc00000000000000000000000000000000000000000000000000000000000000";

    /// Writes an artifact of `size` bytes and its seal, used `age` ago.
    fn entry(dir: &Path, digest: &str, size: usize, age: Duration) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let artifact = dir.join(format!("{digest}.cwasm"));
        for (path, len) in [(artifact.clone(), size), (dir.join(format!("{digest}.seal")), 40)] {
            std::fs::write(&path, vec![0u8; len]).unwrap();
            aged(&path, age);
        }
        artifact
    }

    fn aged(path: &Path, age: Duration) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn the_least_recently_used_entries_go_until_the_rest_fit() {
        let root = tempfile::tempdir().unwrap();
        let engine = root.path().join("0123abcd");
        entry(&engine, A, 1000, Duration::from_secs(300));
        entry(&engine, B, 1000, Duration::from_secs(200));
        let c = entry(&engine, C, 1000, Duration::ZERO);

        let trimmed = trim(root.path(), 2100, &c);
        assert_eq!(trimmed, Trimmed { entries: 1, bytes: 1040, kept_bytes: 2080 });
        assert_eq!(
            names(&engine),
            [format!("{B}.cwasm"), format!("{B}.seal"), format!("{C}.cwasm"), format!("{C}.seal")]
        );
    }

    #[test]
    fn a_touched_entry_counts_as_used_now() {
        let root = tempfile::tempdir().unwrap();
        let engine = root.path().join("0123abcd");
        let a = entry(&engine, A, 1000, Duration::from_secs(300));
        entry(&engine, B, 1000, Duration::from_secs(200));
        touch(&std::fs::File::open(&a).unwrap());
        let c = entry(&engine, C, 1000, Duration::ZERO);

        trim(root.path(), 2100, &c);
        assert_eq!(
            names(&engine),
            [format!("{A}.cwasm"), format!("{A}.seal"), format!("{C}.cwasm"), format!("{C}.seal")]
        );
    }

    #[test]
    fn the_entry_just_written_stays_even_alone_over_the_bound() {
        let root = tempfile::tempdir().unwrap();
        let engine = root.path().join("0123abcd");
        entry(&engine, A, 1000, Duration::from_secs(300));
        let c = entry(&engine, C, 5000, Duration::ZERO);

        let trimmed = trim(root.path(), 100, &c);
        assert_eq!(trimmed.entries, 1);
        assert_eq!(names(&engine), [format!("{C}.cwasm"), format!("{C}.seal")]);
    }

    #[test]
    fn older_engines_downloads_and_stale_temporary_files_count_but_other_files_stay() {
        let root = tempfile::tempdir().unwrap();
        let old_engine = root.path().join("old");
        entry(&old_engine, A, 1000, Duration::from_secs(900));
        let downloads = root.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let download = downloads.join(format!("sha256:{B}"));
        std::fs::write(&download, vec![0u8; 1000]).unwrap();
        aged(&download, Duration::from_secs(800));
        let engine = root.path().join("new");
        let c = entry(&engine, C, 1000, Duration::ZERO);
        let (old_lock, new_lock) = (format!("{A}.lock"), format!("{B}.lock"));
        for (name, age) in [
            (".tmpOld", 7200),
            (".tmpNew", 10),
            (&old_lock, 7200),
            (&new_lock, 10),
            ("notes.txt", 9000),
            (".cache.key", 9000),
        ] {
            std::fs::write(engine.join(name), b"x").unwrap();
            aged(&engine.join(name), Duration::from_secs(age));
        }
        std::fs::write(root.path().join(format!("{A}.cwasm")), b"at the root: not an entry").unwrap();

        let trimmed = trim(root.path(), 1500, &c);
        assert_eq!(trimmed.entries, 2);
        assert!(!old_engine.exists(), "an older engine's folder left empty is removed");
        assert_eq!(names(&downloads), Vec::<String>::new());
        assert_eq!(
            names(&engine),
            [".cache.key", ".tmpNew", &new_lock, &format!("{C}.cwasm"), &format!("{C}.seal"), "notes.txt"]
                .map(String::from)
        );
        assert!(root.path().join(format!("{A}.cwasm")).exists());
    }

    #[test]
    fn a_cache_within_its_bound_loses_nothing() {
        let root = tempfile::tempdir().unwrap();
        let engine = root.path().join("0123abcd");
        entry(&engine, A, 1000, Duration::from_secs(300));
        let b = entry(&engine, B, 1000, Duration::ZERO);
        assert_eq!(trim(root.path(), 2080, &b), Trimmed { entries: 0, bytes: 0, kept_bytes: 2080 });
        assert_eq!(names(&engine).len(), 4);
    }

    #[test]
    fn file_names_that_are_not_entries_have_no_key() {
        assert_eq!(entry_key(Path::new(&format!("/c/k/{A}.cwasm"))), Some(PathBuf::from(format!("/c/k/{A}"))));
        assert_eq!(entry_key(Path::new(&format!("/c/k/{A}.seal"))), Some(PathBuf::from(format!("/c/k/{A}"))));
        assert_eq!(
            entry_key(Path::new(&format!("/c/downloads/sha256:{A}"))),
            Some(PathBuf::from(format!("/c/downloads/{A}")))
        );
        for other in ["/c/k/abc.cwasm", "/c/k/.cache.key", &format!("/c/k/{A}.txt"), &format!("/c/k/{A}")] {
            assert_eq!(entry_key(Path::new(other)), None, "{other}");
        }
    }
}
