//! One compile of a wasm per compile cache at a time, across the processes
//! that share the cache (the replicas of an app starting together on a node).
//! The first to compile takes the lock file beside the entry
//! (`<engine key>/<sha256>.lock`); the others wait for it and then load what
//! it sealed, instead of each spending the same CPU and memory. A holder that
//! dies releases the lock with its descriptor, and a wait is bounded: past
//! [`MAX_WAIT`] the waiter compiles on its own. Any failure to lock only
//! means compiling without one.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest a process waits for another's compile of the same wasm.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// How often a waiter tries the lock again.
const POLL: Duration = Duration::from_millis(25);

/// The lock on one entry while this process compiles it. Dropped, it removes
/// the lock file and lets go: a process waiting on it then finds the entry
/// written (or, after a failed compile, compiles it itself).
pub(crate) struct EntryLock {
    held: Option<(File, PathBuf)>,
}

impl Drop for EntryLock {
    fn drop(&mut self) {
        if let Some((_file, path)) = self.held.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Takes the lock of the entry whose artifact lives at `artifact`, waiting
/// (up to [`MAX_WAIT`]) while another process holds it; `origin` names the wasm
/// in the log.
pub(crate) fn lock_entry(artifact: &Path, origin: &str) -> EntryLock {
    let path = artifact.with_extension("lock");
    let file = match open(&path) {
        Ok(file) => file,
        Err(e) => {
            tracing::debug!("{origin}: compiling without a lock: {e}");
            return EntryLock { held: None };
        }
    };
    let started = Instant::now();
    for attempt in 0u64.. {
        match file.try_lock() {
            Ok(()) => return EntryLock { held: Some((file, path)) },
            Err(TryLockError::WouldBlock) if started.elapsed() < MAX_WAIT => {
                if attempt == 0 {
                    tracing::info!("{origin}: another process is compiling it; waiting for its artifact");
                }
                std::thread::sleep(POLL);
            }
            Err(TryLockError::WouldBlock) => {
                tracing::warn!(
                    "{origin}: another process has compiled it for {} s; compiling it here too",
                    MAX_WAIT.as_secs()
                );
                return EntryLock { held: None };
            }
            Err(TryLockError::Error(e)) => {
                tracing::debug!("{origin}: compiling without a lock: {e}");
                return EntryLock { held: None };
            }
        }
    }
    unreachable!("the attempts end with the wait")
}

/// Opens (creating it and its folder) the lock file at `path`.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    File::options().create(true).truncate(false).write(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_locker_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let artifact = dir.path().join("key").join("ab.cwasm");
        let first = lock_entry(&artifact, "app.wasm");
        assert!(first.held.is_some());
        let waiter = {
            let artifact = artifact.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let second = lock_entry(&artifact, "app.wasm");
                (second.held.is_some(), started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        drop(first);
        let (held, took) = waiter.join().unwrap();
        assert!(held);
        assert!(took >= Duration::from_millis(250), "{took:?}");
        // Released by the second's drop, which removed the file too.
        assert!(!artifact.with_extension("lock").exists());
        let started = Instant::now();
        assert!(lock_entry(&artifact, "app.wasm").held.is_some());
        assert!(started.elapsed() < Duration::from_millis(250));
    }

    #[test]
    fn a_lock_file_that_cannot_be_made_means_compiling_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("key");
        std::fs::write(&blocker, b"a file where the folder should be").unwrap();
        assert!(lock_entry(&blocker.join("ab.cwasm"), "app.wasm").held.is_none());
    }
}
