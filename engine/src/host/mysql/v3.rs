//! `spin:mysql/mysql@3.0.0` (Spin 4): every function async, on an accessor, so
//! the instance's other tasks run while the server works; `query` streams its
//! rows.

use wasmtime::component::{Accessor, FutureReader, Linker, Resource, StreamReader};

use super::bindings::spin::mysql::mysql::{Column, Error, Host, HostConnection, HostConnectionWithStore, ParameterValue, Row};
use super::{bindings, client, values, MysqlConnection, OutboundMysql, View};
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::channel_stream::streamed_rows;

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<OutboundMysql>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::mysql::mysql::add_to_linker::<T, ViewOf<OutboundMysql>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    async fn drop(&mut self, res: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

type Access<T> = Accessor<T, ViewOf<OutboundMysql>>;

/// The columns, rows and outcome of `query`.
type Streamed = (Vec<Column>, StreamReader<Row>, FutureReader<Result<(), Error>>);

/// The connection `res` (a cheap handle on it), looked up through the accessor.
fn connection<T>(accessor: &Access<T>, res: &Resource<MysqlConnection>) -> wasmtime::Result<MysqlConnection> {
    accessor.with(|mut access| access.get().connection(res))
}

impl<T> HostConnectionWithStore<T> for ViewOf<OutboundMysql> {
    async fn open(accessor: &Access<T>, address: String) -> wasmtime::Result<Result<Resource<MysqlConnection>, Error>> {
        let (opening, pools) = accessor.with(|mut access| {
            let state = access.get().state;
            (client::prepare(&state.gate, &address), state.pools.clone())
        });
        let conn = match opening {
            Ok(opening) => opening.connect(&pools).await,
            Err(e) => Err(e),
        };
        match conn {
            Ok(conn) => accessor.with(|mut access| Ok(Ok(access.get().table.push(conn)?))),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn query(
        accessor: &Access<T>,
        res: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        let conn = connection(accessor, &res)?;
        let params = params.into_iter().map(values::parameter).collect();
        let (columns, rows, outcome) = match conn.query(statement, params).await {
            Ok(streamed) => streamed,
            Err(e) => return Ok(Err(e)),
        };
        let (rows, outcome) = accessor.with(|access| streamed_rows(access, rows, outcome))?;
        Ok(Ok((columns, rows, outcome)))
    }

    async fn execute(
        accessor: &Access<T>,
        res: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let conn = connection(accessor, &res)?;
        let params = params.into_iter().map(values::parameter).collect();
        Ok(conn.execute(statement, params).await)
    }
}
