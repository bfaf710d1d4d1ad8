//! What guest SQL may do: an authorizer that refuses statements reaching beyond
//! the database file (ATTACH, DETACH, VACUUM INTO, load_extension) or changing how
//! it is stored (PRAGMAs outside a short read-only list), a deadline per
//! statement, and a cap on the bytes one statement returns.
//!
//! SQLite reports `VACUUM INTO 'file'` to the authorizer as an ATTACH of `file`
//! (the VACUUM runs `ATTACH 'file' AS vacuum_...` internally, with the
//! authorizer in place), so refusing ATTACH refuses it too, before the file is
//! created. A plain `VACUUM` attaches a temporary database the same way and is
//! refused as well.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::ffi;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;

/// How long one guest statement may run before it is stopped (the guest gets an
/// `io` error); long enough for any reasonable query, short enough that a
/// runaway one cannot hold the database, which instances share, for long.
pub(crate) const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest result one statement may return, counted as held in memory (each
/// value plus its text or blob bytes); also the largest single text or blob.
pub(crate) const DEFAULT_MAX_RESULT_BYTES: usize = 64 << 20;
/// Virtual-machine instructions between two checks of the deadline.
const PROGRESS_INTERVAL: i32 = 1_000;

/// PRAGMAs a guest may run, with or without an argument: they only describe the
/// schema or check it.
const PRAGMAS_WITH_ARGUMENT: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
];
/// PRAGMAs a guest may read but not set (`PRAGMA name`, no value).
const PRAGMAS_READ_ONLY: &[&str] =
    &["user_version", "application_id", "schema_version", "data_version", "foreign_keys", "page_count", "page_size"];

/// The bounds on guest SQL of one database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SqlLimits {
    /// Wall-clock limit on one statement.
    pub statement_timeout: Duration,
    /// Largest result of one statement, and largest single value, in bytes.
    pub max_result_bytes: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        Self { statement_timeout: DEFAULT_STATEMENT_TIMEOUT, max_result_bytes: DEFAULT_MAX_RESULT_BYTES }
    }
}

/// Why the authorizer refused the current statement, for the guest's error.
#[derive(Clone, Default)]
pub(super) struct Denials(Arc<Mutex<Option<String>>>);

impl Denials {
    /// The reason of the last refusal, cleared.
    pub(super) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn record(&self, reason: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
    }
}

/// Puts `c` under the guest rules: the authorizer, defensive mode (no direct
/// writes to the schema or shadow tables) and the cap on a single value.
pub(super) fn install(c: &rusqlite::Connection, limits: &SqlLimits) -> rusqlite::Result<Denials> {
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    c.set_limit(Limit::SQLITE_LIMIT_LENGTH, i32::try_from(limits.max_result_bytes).unwrap_or(i32::MAX))?;
    let denials = Denials::default();
    let record = denials.clone();
    c.authorizer(Some(move |ctx: AuthContext<'_>| match refusal(&ctx.action) {
        Some(reason) => {
            record.record(reason);
            Authorization::Deny
        }
        None => Authorization::Allow,
    }));
    Ok(denials)
}

/// Why guest SQL may not do `action`; `None` when it may.
fn refusal(action: &AuthAction<'_>) -> Option<String> {
    const OUTSIDE: &str = "guests cannot reach other database files (ATTACH, DETACH, VACUUM)";
    match action {
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Some(OUTSIDE.into()),
        // ATTACH with a filename that is not a literal arrives without its arguments.
        AuthAction::Unknown { code: ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH, .. } => Some(OUTSIDE.into()),
        AuthAction::Unknown { code: ffi::SQLITE_PRAGMA, .. } => Some("PRAGMA is not available to guests".into()),
        AuthAction::Pragma { pragma_name, pragma_value } => {
            let allowed = |list: &[&str]| list.iter().any(|p| p.eq_ignore_ascii_case(pragma_name));
            if allowed(PRAGMAS_WITH_ARGUMENT) || (pragma_value.is_none() && allowed(PRAGMAS_READ_ONLY)) {
                None
            } else {
                Some(format!("PRAGMA {pragma_name} is not available to guests"))
            }
        }
        AuthAction::Function { function_name }
            if ["load_extension", "fts3_tokenizer"].iter().any(|f| f.eq_ignore_ascii_case(function_name)) =>
        {
            Some(format!("{function_name}() is not available to guests"))
        }
        _ => None,
    }
}

/// Stops the statement running on a connection once its deadline has passed;
/// disarmed when dropped.
pub(super) struct Deadline<'c>(&'c rusqlite::Connection);

impl<'c> Deadline<'c> {
    /// Arms a deadline `timeout` from now on `c`.
    pub(super) fn arm(c: &'c rusqlite::Connection, timeout: Duration) -> Self {
        let deadline = Instant::now() + timeout;
        c.progress_handler(PROGRESS_INTERVAL, Some(move || Instant::now() >= deadline));
        Self(c)
    }
}

impl Drop for Deadline<'_> {
    fn drop(&mut self) {
        self.0.progress_handler(0, None::<fn() -> bool>);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_pragmas_pass_and_the_rest_is_refused() {
        let pragma = |name, value| refusal(&AuthAction::Pragma { pragma_name: name, pragma_value: value });
        assert_eq!(pragma("table_info", Some("t")), None);
        assert_eq!(pragma("TABLE_LIST", None), None);
        assert_eq!(pragma("user_version", None), None);
        assert!(pragma("user_version", Some("7")).is_some());
        assert!(pragma("journal_mode", Some("OFF")).is_some());
        assert!(pragma("writable_schema", Some("1")).is_some());
        assert!(pragma("database_list", None).is_some());
        assert!(refusal(&AuthAction::Function { function_name: "LOAD_EXTENSION" }).is_some());
        assert_eq!(refusal(&AuthAction::Function { function_name: "upper" }), None);
    }
}
