//! The `[sqlite_database.<label>]` tables of the runtime config, as this
//! capability reads them: Spin's `spin` type; a relative `path` is taken from
//! the working directory, as Spin does.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::runtime_config::RuntimeConfig;

/// The runtime config's table name.
const TABLE: &str = "sqlite_database";

/// One `[sqlite_database.<label>]` table.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum SqliteDatabaseConfig {
    /// A local database file at `path`, in memory without one.
    Spin {
        /// The database file.
        #[serde(default)]
        path: Option<PathBuf>,
    },
}

/// Every `[sqlite_database.<label>]` table of `config`.
pub(crate) fn database_configs(config: &RuntimeConfig) -> anyhow::Result<BTreeMap<String, SqliteDatabaseConfig>> {
    config.labelled_tables(TABLE, &config.sqlite_database)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> anyhow::Result<BTreeMap<String, SqliteDatabaseConfig>> {
        database_configs(&RuntimeConfig::parse(text, Path::new("/etc/app/rc.toml"))?)
    }

    #[test]
    fn spin_databases_keep_their_path_as_written() {
        let c = parse("[sqlite_database.a]\ntype = \"spin\"\npath = \"a.db\"\n[sqlite_database.m]\ntype = \"spin\"\n")
            .unwrap();
        assert!(matches!(&c["a"], SqliteDatabaseConfig::Spin { path: Some(x) } if x == Path::new("a.db")));
        assert!(matches!(&c["m"], SqliteDatabaseConfig::Spin { path: None }));
    }

    #[test]
    fn unknown_database_types_name_the_file_table_and_type() {
        let e = parse("[sqlite_database.x]\ntype = \"libsql\"\nurl = \"u\"\ntoken = \"t\"\n").unwrap_err().to_string();
        assert!(e.contains("rc.toml") && e.contains("[sqlite_database.x]") && e.contains("libsql"), "{e}");
    }
}
