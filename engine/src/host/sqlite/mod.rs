//! SQLite databases for guests: `fermyon:spin/sqlite@2.0.0` and the Spin 1
//! `fermyon:spin/sqlite`. Configuration: the component's `sqlite_databases` and
//! the runtime config's `[sqlite_database.<label>]`; the `default` label lives in
//! the state directory unless configured. The connection type is shared with the
//! SQLite key-value stores. Guest SQL runs under `guard`: no other files, no
//! storage-changing PRAGMAs, a deadline per statement and a cap on results.

mod config;
pub(crate) mod connection;
mod database;
mod databases;
mod guard;
mod v1;
mod v2;

use std::sync::Arc;

use wasmtime::component::Linker;

pub(crate) use databases::{SqliteAccess, SqliteDatabases, SqliteInstance};

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs};
use super::labelled::DEFAULT_LABEL;

/// The SQLite capability.
pub(crate) struct Sqlite;

impl Capability for Sqlite {
    type App = SqliteDatabases;
    type Component = Arc<SqliteAccess>;
    type Instance = SqliteInstance;

    const INTERFACES: &'static [&'static str] = &["fermyon:spin/sqlite@2.0.0", "fermyon:spin/sqlite"];

    /// The databases some component lists, and Spin's start-up line for the default one.
    fn app(inputs: &AppInputs<'_>) -> anyhow::Result<SqliteDatabases> {
        let configs = config::database_configs(inputs.config)?;
        let used = inputs.app.components.iter().flat_map(|c| c.sqlite_databases());
        let databases = SqliteDatabases::sqlite(&configs, inputs.state_dir, used)?;
        databases.announce_default(configs.contains_key(DEFAULT_LABEL));
        Ok(databases)
    }

    fn component(app: &SqliteDatabases, inputs: &ComponentInputs<'_>) -> anyhow::Result<Self::Component> {
        Ok(Arc::new(app.access_for(inputs.component_id, &inputs.component.sqlite_databases())?))
    }

    fn instance(component: &Self::Component, _: &InstanceInputs<'_>) -> SqliteInstance {
        SqliteInstance::new(component.clone())
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        v2::add_to_linker(linker)?;
        v1::add_to_linker(linker)
    }
}

/// The instance's view of the SQLite capability.
type View<'a> = CapabilityView<'a, Sqlite>;

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
