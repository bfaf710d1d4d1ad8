//! The app's SQLite databases by label: those the runtime config configures, and
//! Spin's `default` (in the state directory, or memory without one).

use std::collections::BTreeMap;
use std::path::Path;

use super::connection::SharedConnection;
use super::database::SqliteDatabase;
use crate::host::labelled::{Access, LabelKind, Labelled, OpenSet, DEFAULT_LABEL};
use super::config::SqliteDatabaseConfig;
use crate::host::seeds::warn_unused;

/// The default database's file name under the state directory (as Spin names it).
pub(crate) const DEFAULT_FILE: &str = "sqlite_db.db";

/// Every database the app's components can open, by label.
pub(crate) type SqliteDatabases = Labelled<SqliteDatabase>;
/// The databases one component may open.
pub(crate) type SqliteAccess = Access<SqliteDatabase>;
/// The databases one instance holds open.
pub(crate) type SqliteInstance = OpenSet<SqliteDatabase>;

const KIND: LabelKind =
LabelKind {
    noun: "SQLite database",
    data: "SQLite",
    manifest_field: "sqlite_databases",
    config_table: "sqlite_database",
    unknown_lead: Some("One or more components use SQLite databases which are not defined."),
};

impl Labelled<SqliteDatabase> {
    /// Opens the databases some component lists (`used`): those configured in
    /// `configs` (`[sqlite_database.<label>]`), and `default` when not configured there.
    pub(crate) fn sqlite(
        configs: &BTreeMap<String, SqliteDatabaseConfig>,
        state_dir: Option<&Path>,
        used: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> anyhow::Result<Self> {
        Labelled::from_used(KIND, used, |label| {
            let path = match (configs.get(label), label) {
                (Some(SqliteDatabaseConfig::Spin { path }), _) => path.clone(),
                (None, DEFAULT_LABEL) => state_dir.map(|d| d.join(DEFAULT_FILE)),
                (None, _) => return None,
            };
            Some(SharedConnection::open(path.as_deref()).and_then(SqliteDatabase::new))
        })
    }
}

impl SqliteDatabases {
    /// Runs `statements` against the default database, in order (`spin up --sqlite`).
    pub(crate) fn run_start_up_statements(&self, statements: &[String]) -> anyhow::Result<()> {
        if statements.is_empty() {
            return Ok(());
        }
        let Some(database) = self.get(DEFAULT_LABEL) else {
            warn_unused("--sqlite", "SQLite database");
            return Ok(());
        };
        for sql in statements {
            database.run_batch(sql).map_err(|e| anyhow::anyhow!("--sqlite `{}`: {e}", first_line(sql)))?;
        }
        Ok(())
    }
}

/// The first line of `sql`, to name a statement in an error.
fn first_line(sql: &str) -> &str {
    sql.trim_start().lines().next().unwrap_or_default()
}

impl Default for SqliteDatabases {
    fn default() -> Self {
        Labelled::new(KIND, BTreeMap::new())
    }
}
