//! `spin:sqlite/sqlite@3.1.0` (Spin 4), which also serves `@3.0.0` imports: the
//! same databases, access rules, guards and errors as `fermyon:spin/sqlite@2.0.0`.
//! The sync functions run like 2.0's; the async ones (`*-async`) run on an
//! accessor, so the instance's other tasks keep going while SQLite works.
//! `execute-async` returns the column names, the rows as a stream and a future
//! that resolves once they are all sent: the rows are read under the same
//! result-size cap as `execute`, so the outcome is known before streaming.

use wasmtime::component::{Accessor, FutureReader, Linker, Resource, StreamReader};

use super::{OpenDatabase, Sqlite, View};
use crate::host::capability::{HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/sqlite",
        imports: { default: async | trappable },
        with: { "spin:sqlite/sqlite.connection": crate::host::sqlite::OpenDatabase },
    });
}

use bindings::spin::sqlite::sqlite::{Error, Host, HostConnection, HostConnectionWithStore, QueryResult, RowResult, Value};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Sqlite>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::sqlite::sqlite::add_to_linker::<T, ViewOf<Sqlite>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    super::shared_connection_ops!();

    async fn last_insert_rowid(&mut self, res: Resource<OpenDatabase>) -> wasmtime::Result<i64> {
        Ok(self.connection(&res)?.last_insert_rowid)
    }

    async fn changes(&mut self, res: Resource<OpenDatabase>) -> wasmtime::Result<u64> {
        Ok(self.connection(&res)?.changes)
    }
}

type Access<T> = Accessor<T, ViewOf<Sqlite>>;

/// The columns, the stream of rows and the future of the outcome of `execute-async`.
type Streamed = (Vec<String>, StreamReader<RowResult>, FutureReader<Result<(), Error>>);

impl<T> HostConnectionWithStore<T> for ViewOf<Sqlite> {
    async fn open_async(accessor: &Access<T>, database: String) -> wasmtime::Result<Result<Resource<OpenDatabase>, Error>> {
        accessor.with(|mut access| access.get().open_database(&database)).map(|r| r.map_err(open_error))
    }

    async fn execute_async(
        accessor: &Access<T>,
        res: Resource<OpenDatabase>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        let db = accessor.with(|mut access| access.get().database(&res))?;
        let params = parameters.into_iter().map(to_sql).collect();
        let out = db.execute(statement, params).await;
        accessor.with(|mut access| {
            access.get().record(&res, &out)?;
            let out = match out {
                Ok(out) => out,
                Err(e) => return Ok(Err(execute_error(e))),
            };
            let rows: Vec<RowResult> = out.rows.into_iter().map(from_row).collect();
            let rows = StreamReader::new(&mut access, rows)?;
            let done = FutureReader::new(&mut access, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((out.columns, rows, done)))
        })
    }

    async fn last_insert_rowid_async(accessor: &Access<T>, res: Resource<OpenDatabase>) -> wasmtime::Result<i64> {
        accessor.with(|mut access| Ok(access.get().connection(&res)?.last_insert_rowid))
    }

    async fn changes_async(accessor: &Access<T>, res: Resource<OpenDatabase>) -> wasmtime::Result<u64> {
        accessor.with(|mut access| Ok(access.get().connection(&res)?.changes))
    }
}

super::value_conversions!(bindings::spin::sqlite::sqlite);
