//! `fermyon:spin/sqlite@2.0.0`: connections as resources in the instance's table.

use wasmtime::component::{Linker, Resource};

use super::{OpenDatabase, Sqlite, View};
use crate::host::capability::{HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-sqlite@2.0.0",
        imports: { default: async | trappable },
        with: { "fermyon:spin/sqlite.connection": crate::host::sqlite::OpenDatabase },
    });
}

use bindings::fermyon::spin::sqlite::{Error, Host, HostConnection, QueryResult, Value};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Sqlite>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::sqlite::add_to_linker::<T, ViewOf<Sqlite>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
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
}

super::value_conversions!(bindings::fermyon::spin::sqlite);
