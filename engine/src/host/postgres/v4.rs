//! `spin:postgres/postgres@4.2.0`: every open and build fails (see `mod.rs`).

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::postgres4_2_0::postgres::{
    Column, Error, Host, HostConnection, HostConnectionBuilder, HostConnectionBuilderWithStore,
    HostConnectionWithStore, ParameterValue, Row, RowSet,
};
use super::{refusal, Builder, NoConnection, OutboundPostgres, View};
use crate::host::capability::ViewOf;

type Access<T> = Accessor<T, ViewOf<OutboundPostgres>>;

/// What a query on a connection that cannot exist answers.
fn no_connection() -> Error {
    Error::ConnectionFailed("no connection found".into())
}

/// The refusal of opening `address`, as the interface's error.
fn refused<T>(accessor: &Access<T>, address: &str) -> Error {
    Error::ConnectionFailed(accessor.with(|mut access| refusal(access.get().state, address)))
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    super::refused_connection_ops!();
}

impl HostConnectionBuilder for View<'_> {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<Builder>> {
        Ok(self.table.push(Builder(address))?)
    }

    async fn set_ca_root(&mut self, _: Resource<Builder>, _: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(Ok(()))
    }

    async fn build(&mut self, res: Resource<Builder>) -> wasmtime::Result<Result<Resource<NoConnection>, Error>> {
        let address = self.table.get(&res)?.0.clone();
        self.open(address).await
    }

    async fn drop(&mut self, res: Resource<Builder>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

impl<T> HostConnectionBuilderWithStore<T> for ViewOf<OutboundPostgres> {
    async fn build_async(
        accessor: &Access<T>,
        res: Resource<Builder>,
    ) -> wasmtime::Result<Result<Resource<NoConnection>, Error>> {
        let address = accessor.with(|mut access| Ok::<_, wasmtime::Error>(access.get().table.get(&res)?.0.clone()))?;
        Ok(Err(refused(accessor, &address)))
    }
}

/// The columns, rows and outcome of `query-async`.
type Streamed = (Vec<Column>, StreamReader<Row>, FutureReader<Result<(), Error>>);

impl<T> HostConnectionWithStore<T> for ViewOf<OutboundPostgres> {
    async fn open_async(accessor: &Access<T>, address: String) -> wasmtime::Result<Result<Resource<NoConnection>, Error>> {
        Ok(Err(refused(accessor, &address)))
    }

    async fn query_async(
        _: &Access<T>,
        _: Resource<NoConnection>,
        _: String,
        _: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        Ok(Err(no_connection()))
    }

    async fn execute_async(
        _: &Access<T>,
        _: Resource<NoConnection>,
        _: String,
        _: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        Ok(Err(no_connection()))
    }
}
