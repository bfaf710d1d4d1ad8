//! `fermyon:spin/sqlite@2.0.0`: connections as resources in the instance's table.

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::database::{ExecuteError, SqliteDatabase};
use super::{Sqlite, View};
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::labelled::OpenError;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-sqlite@2.0.0",
        imports: { default: async | trappable },
        with: { "fermyon:spin/sqlite.connection": super::OpenDatabase },
    });
}

use bindings::fermyon::spin::sqlite::{Error, Host, HostConnection, QueryResult, Value};

/// An open database (the guest's `connection` resource).
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct OpenDatabase(Arc<SqliteDatabase>);

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Sqlite>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::sqlite::add_to_linker::<T, ViewOf<Sqlite>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    async fn open(&mut self, database: String) -> wasmtime::Result<Result<Resource<OpenDatabase>, Error>> {
        match self.state.open(&database) {
            Ok(db) => Ok(Ok(self.table.push(OpenDatabase(db))?)),
            Err(OpenError::AccessDenied) => Ok(Err(Error::AccessDenied)),
            Err(OpenError::TableFull) => Ok(Err(Error::Io("too many open databases".into()))),
        }
    }

    async fn execute(
        &mut self,
        res: Resource<OpenDatabase>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let db = self.table.get(&res)?.0.clone();
        let params = parameters.into_iter().map(to_sql).collect();
        Ok(db.execute(statement, params).await.map(from_output).map_err(|e| match e {
            ExecuteError::DatabaseFull => Error::DatabaseFull,
            ExecuteError::Io(m) => Error::Io(m),
        }))
    }

    async fn drop(&mut self, res: Resource<OpenDatabase>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        self.state.close();
        Ok(())
    }
}

super::value_conversions!(bindings::fermyon::spin::sqlite);
