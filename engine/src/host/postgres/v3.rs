//! `spin:postgres/postgres@3.0.0`: every open fails (see `mod.rs`).

use wasmtime::component::Resource;

use super::bindings::spin::postgres3_0_0::postgres::{Error, Host, HostConnection, ParameterValue, RowSet};
use super::{refusal, NoConnection, View};

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<NoConnection>, Error>> {
        Ok(Err(Error::ConnectionFailed(refusal(self.state, &address))))
    }

    async fn query(
        &mut self,
        _: Resource<NoConnection>,
        _: String,
        _: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        Ok(Err(Error::ConnectionFailed("no connection found".into())))
    }

    async fn execute(
        &mut self,
        _: Resource<NoConnection>,
        _: String,
        _: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        Ok(Err(Error::ConnectionFailed("no connection found".into())))
    }

    async fn drop(&mut self, res: Resource<NoConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}
