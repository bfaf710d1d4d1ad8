//! A SQLite connection shared by every instance that opens the same database or
//! key-value store, used off the async threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One open SQLite database (a file, or memory).
#[derive(Clone)]
pub(crate) struct SharedConnection {
    conn: Arc<Mutex<rusqlite::Connection>>,
    path: Option<PathBuf>,
}

impl SharedConnection {
    /// Opens (creating it and its folder) the database at `path`, or an in-memory one.
    pub(crate) fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let conn = match path {
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| anyhow::anyhow!("cannot create directory {}: {e}", dir.display()))?;
                }
                rusqlite::Connection::open(p).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", p.display()))?
            }
            None => rusqlite::Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path: path.map(Path::to_path_buf) })
    }

    /// Where the data lives, for start-up messages: the quoted path, or
    /// `a temporary in-memory store`.
    pub(crate) fn describe(&self) -> String {
        match &self.path {
            Some(p) => format!("{:?}", p.display().to_string()),
            None => "a temporary in-memory store".into(),
        }
    }

    /// Runs `f` with the connection on this thread (for start-up work).
    pub(crate) fn run_now<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        f(&self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Runs `f` with the connection on a blocking thread.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, rusqlite::Error> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&conn)
        })
        .await
        .unwrap_or_else(|e| {
            let internal = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERNAL);
            Err(rusqlite::Error::SqliteFailure(internal, Some(format!("database task failed: {e}"))))
        })
    }
}
