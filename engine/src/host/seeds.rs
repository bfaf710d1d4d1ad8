//! What a runner puts into an app's `default` key-value store and SQLite
//! database before the app serves: `spin up --key-value` and `--sqlite`, as
//! Spin's start-up hooks do. Each capability applies its own part when its app
//! stage is built.

use std::future::Future;

/// Values and statements applied at start.
#[derive(Clone, Debug, Default)]
pub struct StartupSeeds {
    /// `key=value` pairs set in the default key-value store, in order
    /// (existing values are overwritten).
    pub key_values: Vec<(String, String)>,
    /// SQL text run against the default SQLite database, in order; each may
    /// hold several statements (a migration file's contents).
    pub sqlite_statements: Vec<String>,
}

/// Runs `work` to completion from start-up code: a blocking thread of the
/// runner's runtime (where an app is prepared), or a thread with no runtime.
pub(crate) fn run_at_start<F: Future>(work: F) -> anyhow::Result<F::Output> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => Ok(handle.block_on(work)),
        Err(_) => Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(work)),
    }
}

/// The warning for seeds given to an app none of whose components lists the
/// `default` store or database (nothing is written).
pub(crate) fn warn_unused(flag: &str, noun: &str) {
    eprintln!("Warning: {flag}: no component lists the `default` {noun}; nothing was written");
}
