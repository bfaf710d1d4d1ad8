//! The Spin 1 `fermyon:spin/sqlite` interface: the same databases, addressed by
//! integer handles.

use wasmtime::component::Linker;

use super::{Sqlite, View};
use crate::host::capability::{HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v1",
        world: "fermyon:spin/host-sqlite-v1",
        imports: { default: async | trappable },
    });
}

use bindings::fermyon::spin::sqlite::{Connection, Error, Host, QueryResult, Value};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Sqlite>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::sqlite::add_to_linker::<T, ViewOf<Sqlite>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {
    async fn open(&mut self, database: String) -> wasmtime::Result<Result<Connection, Error>> {
        Ok(self.state.open_handle(&database).map_err(open_error))
    }

    async fn execute(
        &mut self,
        conn: Connection,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let Some(db) = self.state.by_handle(conn) else { return Ok(Err(Error::InvalidConnection)) };
        let params = parameters.into_iter().map(to_sql).collect();
        Ok(db.execute(statement, params).await.map(from_output).map_err(execute_error))
    }

    async fn close(&mut self, conn: Connection) -> wasmtime::Result<()> {
        self.state.close_handle(conn);
        Ok(())
    }
}

super::value_conversions!(bindings::fermyon::spin::sqlite);
