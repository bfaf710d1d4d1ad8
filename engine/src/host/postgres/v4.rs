//! `spin:postgres/postgres@4.2.0` (serving 4.0 and 4.1 imports too): the sync
//! functions on the instance's view, the async ones (`*-async`, 4.2) on an
//! accessor, so the instance's other tasks run while the server works.

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::postgres4_2_0::postgres::{
    Column, Error, Host, HostConnection, HostConnectionBuilder, HostConnectionBuilderWithStore,
    HostConnectionWithStore, ParameterValue, Row, RowSet,
};
use super::client::parse_roots;
use super::{Builder, OutboundPostgres, PgConnection, View};
use crate::host::capability::ViewOf;
use crate::host::channel_stream::streamed_rows;

type Access<T> = Accessor<T, ViewOf<OutboundPostgres>>;

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        self.open_into_table(&address, None).await
    }

    async fn query(
        &mut self,
        res: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        Ok(self.connection(&res)?.query(&statement, params).await)
    }

    async fn execute(
        &mut self,
        res: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        Ok(self.connection(&res)?.execute(&statement, params).await)
    }

    async fn drop(&mut self, res: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

impl HostConnectionBuilder for View<'_> {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<Builder>> {
        Ok(self.table.push(Builder { address, ca_root: None })?)
    }

    async fn set_ca_root(&mut self, res: Resource<Builder>, certificate: String) -> wasmtime::Result<Result<(), Error>> {
        if let Err(e) = parse_roots(&certificate) {
            return Ok(Err(e));
        }
        self.table.get_mut(&res)?.ca_root = Some(certificate);
        Ok(Ok(()))
    }

    async fn build(&mut self, res: Resource<Builder>) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        let Builder { address, ca_root } = self.table.get(&res)?;
        let (address, ca_root) = (address.clone(), ca_root.clone());
        self.open_into_table(&address, ca_root).await
    }

    async fn drop(&mut self, res: Resource<Builder>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

/// Opens `address` (trusting `ca_root` too) without holding the store, then
/// puts the connection into the instance's table.
async fn open_async<T>(
    accessor: &Access<T>,
    address: String,
    ca_root: Option<String>,
) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
    let opening = accessor.with(|mut access| super::client::prepare(&access.get().state.gate, &address, ca_root));
    let pools = accessor.with(|mut access| access.get().state.pools.clone());
    let conn = match opening {
        Ok(opening) => opening.connect(&pools).await,
        Err(e) => Err(e),
    };
    match conn {
        Ok(conn) => accessor.with(|mut access| Ok(Ok(access.get().table.push(conn)?))),
        Err(e) => Ok(Err(e)),
    }
}

/// The connection `res` (a cheap handle on it), looked up through the accessor.
fn connection<T>(accessor: &Access<T>, res: &Resource<PgConnection>) -> wasmtime::Result<PgConnection> {
    accessor.with(|mut access| access.get().connection(res))
}

impl<T> HostConnectionBuilderWithStore<T> for ViewOf<OutboundPostgres> {
    async fn build_async(
        accessor: &Access<T>,
        res: Resource<Builder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        let (address, ca_root) = accessor.with(|mut access| {
            let builder = access.get().table.get(&res)?;
            Ok::<_, wasmtime::Error>((builder.address.clone(), builder.ca_root.clone()))
        })?;
        open_async(accessor, address, ca_root).await
    }
}

/// The columns, rows and outcome of `query-async`.
type Streamed = (Vec<Column>, StreamReader<Row>, FutureReader<Result<(), Error>>);

impl<T> HostConnectionWithStore<T> for ViewOf<OutboundPostgres> {
    async fn open_async(accessor: &Access<T>, address: String) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        open_async(accessor, address, None).await
    }

    async fn query_async(
        accessor: &Access<T>,
        res: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        let conn = connection(accessor, &res)?;
        let (columns, rows, outcome) = match conn.query_stream(&statement, params).await {
            Ok(streamed) => streamed,
            Err(e) => return Ok(Err(e)),
        };
        let (rows, outcome) = accessor.with(|access| streamed_rows(access, rows, outcome))?;
        Ok(Ok((columns, rows, outcome)))
    }

    async fn execute_async(
        accessor: &Access<T>,
        res: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let conn = connection(accessor, &res)?;
        Ok(conn.execute(&statement, params).await)
    }
}
