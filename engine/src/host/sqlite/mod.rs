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
mod v3;

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

pub(crate) use databases::{SqliteAccess, SqliteDatabases, SqliteInstance};
pub(crate) use guard::DEFAULT_MAX_RESULT_BYTES;

use database::{Effects, ExecuteError, QueryOutput, SqlValue, SqliteDatabase};

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs};
use super::labelled::{OpenError, DEFAULT_LABEL};

/// The SQLite capability.
pub(crate) struct Sqlite;

impl Capability for Sqlite {
    type App = SqliteDatabases;
    type Component = Arc<SqliteAccess>;
    type Instance = SqliteInstance;

    /// `@3.1.0` serves `@3.0.0` imports too: wasmtime's linker resolves an
    /// import to the newest semver-compatible definition, and 3.0.0 is 3.1.0
    /// without the async functions.
    const INTERFACES: &'static [&'static str] = &[
        "spin:sqlite/sqlite@3.1.0",
        "spin:sqlite/sqlite@3.0.0",
        "fermyon:spin/sqlite@2.0.0",
        "fermyon:spin/sqlite",
    ];

    /// The databases some component lists, and Spin's start-up line for the default one.
    fn app(inputs: &AppInputs<'_>) -> anyhow::Result<SqliteDatabases> {
        let configs = config::database_configs(inputs.config)?;
        let used = inputs.app.components.iter().flat_map(|c| c.sqlite_databases());
        let databases = SqliteDatabases::sqlite(&configs, inputs.state_dir, used)?;
        databases.announce_default(configs.contains_key(DEFAULT_LABEL));
        databases.run_start_up_statements(&inputs.seeds.sqlite_statements)?;
        Ok(databases)
    }

    fn component(app: &SqliteDatabases, inputs: &ComponentInputs<'_>) -> anyhow::Result<Self::Component> {
        Ok(Arc::new(app.access_for(inputs.component_id, &inputs.component.sqlite_databases())?))
    }

    fn instance(component: &Self::Component, _: &InstanceInputs<'_>) -> SqliteInstance {
        SqliteInstance::new(component.clone())
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        v3::add_to_linker(linker)?;
        v2::add_to_linker(linker)?;
        v1::add_to_linker(linker)
    }
}

/// The instance's view of the SQLite capability.
type View<'a> = CapabilityView<'a, Sqlite>;

/// An open database (the guest's `connection` resource of 2.0 and 3.x), with
/// what its own statements last changed.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct OpenDatabase {
    db: Arc<SqliteDatabase>,
    changes: u64,
    last_insert_rowid: i64,
}

impl OpenDatabase {
    fn new(db: Arc<SqliteDatabase>) -> Self {
        Self { db, changes: 0, last_insert_rowid: 0 }
    }

    /// Notes what a statement run on this connection changed.
    fn record(&mut self, effects: Effects) {
        self.changes = effects.changes.unwrap_or(self.changes);
        self.last_insert_rowid = effects.inserted_rowid.unwrap_or(self.last_insert_rowid);
    }
}

/// The resource side of 2.0 and 3.x: opening a label into the instance's table,
/// running a statement on a connection, closing it.
impl View<'_> {
    fn open_database(&mut self, label: &str) -> wasmtime::Result<Result<Resource<OpenDatabase>, OpenError>> {
        match self.state.open(label) {
            Ok(db) => Ok(Ok(self.table.push(OpenDatabase::new(db))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn database(&self, res: &Resource<OpenDatabase>) -> wasmtime::Result<Arc<SqliteDatabase>> {
        Ok(self.table.get(res)?.db.clone())
    }

    fn record(&mut self, res: &Resource<OpenDatabase>, out: &Result<QueryOutput, ExecuteError>) -> wasmtime::Result<()> {
        if let Ok(out) = out {
            self.table.get_mut(res)?.record(out.effects);
        }
        Ok(())
    }

    async fn execute_on(
        &mut self,
        res: &Resource<OpenDatabase>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<QueryOutput, ExecuteError>> {
        let out = self.database(res)?.execute(statement, params).await;
        self.record(res, &out)?;
        Ok(out)
    }

    fn connection(&self, res: &Resource<OpenDatabase>) -> wasmtime::Result<&OpenDatabase> {
        Ok(self.table.get(res)?)
    }

    fn close_database(&mut self, res: Resource<OpenDatabase>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        self.state.close();
        Ok(())
    }
}

/// The `open`, `execute` and `drop` of the `connection` resource, which 2.0 and
/// the sync side of 3.x share word for word (each version has its own `Error`,
/// `Value` and `QueryResult`), expanded inside each `HostConnection` impl.
macro_rules! shared_connection_ops {
    () => {
        async fn open(&mut self, database: String) -> wasmtime::Result<Result<Resource<OpenDatabase>, Error>> {
            self.open_database(&database).map(|r| r.map_err(open_error))
        }

        async fn execute(
            &mut self,
            res: Resource<OpenDatabase>,
            statement: String,
            parameters: Vec<Value>,
        ) -> wasmtime::Result<Result<QueryResult, Error>> {
            let params = parameters.into_iter().map(to_sql).collect();
            Ok(self.execute_on(&res, statement, params).await?.map(from_output).map_err(execute_error))
        }

        async fn drop(&mut self, res: Resource<OpenDatabase>) -> wasmtime::Result<()> {
            self.close_database(res)
        }
    };
}
pub(crate) use shared_connection_ops;

/// Conversions between an interface version's `value`/`query-result`/`error`
/// and [`SqlValue`]/[`QueryOutput`]/[`ExecuteError`]/[`OpenError`] (each
/// version's bindings have their own types).
macro_rules! value_conversions {
    ($bindings:path) => {
        use $bindings as wit;

        fn open_error(e: $crate::host::labelled::OpenError) -> wit::Error {
            match e {
                $crate::host::labelled::OpenError::AccessDenied => wit::Error::AccessDenied,
                $crate::host::labelled::OpenError::TableFull => wit::Error::Io("too many open databases".into()),
            }
        }

        fn execute_error(e: super::database::ExecuteError) -> wit::Error {
            match e {
                super::database::ExecuteError::DatabaseFull => wit::Error::DatabaseFull,
                super::database::ExecuteError::Io(m) => wit::Error::Io(m),
            }
        }

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

        fn from_row(row: Vec<super::database::SqlValue>) -> wit::RowResult {
            use super::database::SqlValue;
            let value = |v: SqlValue| match v {
                SqlValue::Integer(i) => wit::Value::Integer(i),
                SqlValue::Real(f) => wit::Value::Real(f),
                SqlValue::Text(s) => wit::Value::Text(s),
                SqlValue::Blob(b) => wit::Value::Blob(b),
                SqlValue::Null => wit::Value::Null,
            };
            wit::RowResult { values: row.into_iter().map(value).collect() }
        }

        fn from_output(out: super::database::QueryOutput) -> wit::QueryResult {
            wit::QueryResult { columns: out.columns, rows: out.rows.into_iter().map(from_row).collect() }
        }
    };
}
pub(crate) use value_conversions;
