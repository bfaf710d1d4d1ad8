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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::InstanceTemplate;

    #[tokio::test]
    async fn the_2_0_gate_budget_and_commands_serve_3_0() {
        let server = crate::host::test_redis::TestRedis::start();
        let template = InstanceTemplate::for_tests(&["redis://127.0.0.1:*"], 1);
        template
            .run_async::<OutboundRedis, _>(async |accessor| {
                type Data = ViewOf<OutboundRedis>;
                let unix = Data::open(accessor, "redis+unix:///tmp/redis.sock".into()).await.unwrap();
                assert!(matches!(unix, Err(Error::Other(ref m)) if m.contains("redis+unix")), "{unix:?}");
                let denied = Data::open(accessor, "redis://10.1.2.3:6379".into()).await.unwrap();
                assert!(matches!(denied, Err(Error::InvalidAddress)), "{denied:?}");
                let conn = Data::open(accessor, server.url()).await.unwrap().ok().unwrap();
                let full = Data::open(accessor, server.url()).await.unwrap();
                assert!(matches!(full, Err(Error::TooManyConnections)), "{full:?}");
                let c = || Resource::<RedisConnection>::new_borrow(conn.rep());
                Data::set(accessor, c(), "k".into(), b"v".to_vec()).await.unwrap().unwrap();
                assert_eq!(Data::get(accessor, c(), "k".into()).await.unwrap().unwrap().as_deref(), Some(&b"v"[..]));
                assert_eq!(Data::incr(accessor, c(), "n".into()).await.unwrap().unwrap(), 1);
                let args = vec![RedisParameter::Binary(b"k".to_vec())];
                let reply = Data::execute(accessor, c(), "GET".into(), args).await.unwrap().unwrap();
                assert!(matches!(reply.as_slice(), [RedisResult::Binary(v)] if v == b"v"), "{reply:?}");
                let wrong = Data::incr(accessor, c(), "k".into()).await.unwrap();
                assert!(matches!(wrong, Err(Error::Other(_))), "{wrong:?}");
            })
            .await;
    }
}
