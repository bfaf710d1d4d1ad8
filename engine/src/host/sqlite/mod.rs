//! SQLite databases for guests: `fermyon:spin/sqlite@2.0.0` and the Spin 1
//! `fermyon:spin/sqlite`. Configuration: the component's `sqlite_databases` and
//! the runtime config's `[sqlite_database.<label>]`; the `default` label lives in
//! the state directory unless configured. The connection type is shared with the
//! SQLite key-value stores. Guest SQL runs under `guard`: no other files, no
//! storage-changing PRAGMAs, a deadline per statement and a cap on results.

pub(crate) mod connection;
mod database;
mod databases;
mod guard;
mod v1;
mod v2;

use wasmtime::component::Linker;

pub use super::labelled::DEFAULT_LABEL;
pub use database::{ExecuteError, QueryOutput, SqlValue, SqliteDatabase};
pub use databases::{SqliteAccess, SqliteDatabases, SqliteInstance, DEFAULT_FILE};
pub use guard::{SqlLimits, DEFAULT_MAX_RESULT_BYTES, DEFAULT_STATEMENT_TIMEOUT};

use super::state::HostState;

/// Adds both SQLite interfaces to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    v2::add_to_linker(linker)?;
    v1::add_to_linker(linker)
}

/// Conversions between an interface version's `value`/`query-result` and
/// [`SqlValue`]/[`QueryOutput`] (each version's bindings have their own types).
macro_rules! value_conversions {
    ($bindings:path) => {
        use $bindings as wit;

        fn to_sql(v: wit::Value) -> super::database::SqlValue {
            use super::database::SqlValue;
            match v {
                wit::Value::Integer(i) => SqlValue::Integer(i),
                wit::Value::Real(f) => SqlValue::Real(f),
                wit::Value::Text(s) => SqlValue::Text(s),
                wit::Value::Blob(b) => SqlValue::Blob(b),
                wit::Value::Null => SqlValue::Null,
            }
        }

        fn from_output(out: super::database::QueryOutput) -> wit::QueryResult {
            use super::database::SqlValue;
            let value = |v: SqlValue| match v {
                SqlValue::Integer(i) => wit::Value::Integer(i),
                SqlValue::Real(f) => wit::Value::Real(f),
                SqlValue::Text(s) => wit::Value::Text(s),
                SqlValue::Blob(b) => wit::Value::Blob(b),
                SqlValue::Null => wit::Value::Null,
            };
            wit::QueryResult {
                columns: out.columns,
                rows: out
                    .rows
                    .into_iter()
                    .map(|r| wit::RowResult { values: r.into_iter().map(value).collect() })
                    .collect(),
            }
        }
    };
}
pub(crate) use value_conversions;
