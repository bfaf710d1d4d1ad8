//! `spin:redis/redis@3.0.0` (Spin 4, async): the same gate, budget, commands
//! and errors as `fermyon:spin/redis@2.0.0`, whose steps it runs; its types are
//! 2.0's name for name, converted at the edge.

use wasmtime::component::{Accessor, Linker, Resource};

use super::connection::{self, Flattened, RedisConnection};
use super::OutboundRedis;
use crate::host::capability::{HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/redis",
        imports: { default: async | trappable },
        with: { "spin:redis/redis.connection": crate::host::redis::connection::RedisConnection },
    });
}

use bindings::spin::redis::redis::{Error, Host, HostConnection, HostConnectionWithStore, RedisParameter, RedisResult};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<OutboundRedis>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::redis::redis::add_to_linker::<T, ViewOf<OutboundRedis>>(linker, T::capability)?;
    Ok(())
}

type Access<T> = Accessor<T, ViewOf<OutboundRedis>>;

fn error(e: connection::Error) -> Error {
    match e {
        connection::Error::InvalidAddress => Error::InvalidAddress,
        connection::Error::TooManyConnections => Error::TooManyConnections,
        connection::Error::TypeError => Error::TypeError,
        connection::Error::Other(m) => Error::Other(m),
    }
}

fn parameter(p: RedisParameter) -> connection::RedisParameter {
    match p {
        RedisParameter::Int64(i) => connection::RedisParameter::Int64(i),
        RedisParameter::Binary(b) => connection::RedisParameter::Binary(b),
    }
}

fn reply(r: connection::RedisResult) -> RedisResult {
    match r {
        connection::RedisResult::Nil => RedisResult::Nil,
        connection::RedisResult::Status(s) => RedisResult::Status(s),
        connection::RedisResult::Int64(i) => RedisResult::Int64(i),
        connection::RedisResult::Binary(b) => RedisResult::Binary(b),
    }
}

/// Runs `cmd` on connection `res`; the accessor is not held while the server answers.
async fn query<T, R: redis::FromRedisValue>(
    accessor: &Access<T>,
    res: &Resource<RedisConnection>,
    cmd: redis::Cmd,
) -> wasmtime::Result<Result<R, Error>> {
    let conn = accessor.with(|mut access| access.get().redis(res))?;
    Ok(connection::run(conn, &cmd).await.map_err(error))
}

impl Host for connection::View<'_> {}

impl HostConnection for connection::View<'_> {
    async fn drop(&mut self, res: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

impl<T> HostConnectionWithStore<T> for ViewOf<OutboundRedis> {
    async fn open(accessor: &Access<T>, address: String) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        let pending = accessor.with(|mut access| connection::prepare(access.get().state, &address));
        let conn = match pending {
            Ok(pending) => pending.connect().await,
            Err(e) => Err(e),
        };
        match conn {
            Ok(conn) => Ok(Ok(accessor.with(|mut access| access.get().table.push(conn))?)),
            Err(e) => Ok(Err(error(e))),
        }
    }

    async fn publish(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        query(accessor, &res, connection::publish(channel, payload)).await
    }

    async fn get(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        query(accessor, &res, connection::get(key)).await
    }

    async fn set(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        query(accessor, &res, connection::set(key, value)).await
    }

    async fn incr(accessor: &Access<T>, res: Resource<RedisConnection>, key: String) -> wasmtime::Result<Result<i64, Error>> {
        query(accessor, &res, connection::incr(key)).await
    }

    async fn del(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        query(accessor, &res, connection::del(keys)).await
    }

    async fn sadd(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        query(accessor, &res, connection::sadd(key, values)).await
    }

    async fn smembers(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        query(accessor, &res, connection::smembers(key)).await
    }

    async fn srem(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        query(accessor, &res, connection::srem(key, values)).await
    }

    async fn execute(
        accessor: &Access<T>,
        res: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let cmd = connection::execute(&command, arguments.into_iter().map(parameter).collect());
        let flattened = query::<T, Flattened>(accessor, &res, cmd).await?;
        Ok(flattened.map(|f| f.0.into_iter().map(reply).collect()))
    }
}
