//! `fermyon:spin/redis@2.0.0` on the capability's view, and the steps
//! `spin:redis/redis@3.0.0` (`v3.rs`) shares with it: `connection.open` checks
//! the address against the component's allowed hosts (its URL scheme, default
//! port 6379) and answers `invalid-address` when it is not allowed. Only TCP
//! addresses (`redis://`, `rediss://`) are accepted; a Unix socket address is
//! refused before anything is opened. Open connections live in the instance's
//! resource table, count against the instance's outbound connection budget, and
//! close with it.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisError, Value};
use wasmtime::component::{Linker, Resource};

use super::OutboundRedis;
use crate::host::capability::{CapabilityView, HasCapability, ViewOf};
use crate::host::outbound::{
    BlockedNetworks, ConnectionKind, ConnectionPermit, ConnectionSlot, Destination, OutboundGate,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-redis@2.0.0",
        imports: { default: async | trappable },
        with: { "fermyon:spin/redis.connection": super::RedisConnection },
    });
}

pub(super) use bindings::fermyon::spin::redis::{Error, RedisParameter, RedisResult};

/// How long `open` may take to reach the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The interface name of the Spin 1 Redis types, which hold no functions.
pub(super) const V1_REDIS_TYPES: &str = "fermyon:spin/redis-types";

/// One open connection of a guest (the `connection` resource).
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct RedisConnection {
    conn: MultiplexedConnection,
    _slot: ConnectionPermit,
}

/// Refuses a Redis address that is not TCP (`redis://` or `rediss://`), such as a
/// Unix socket (`redis+unix://`, `unix://`); shared with the Redis key-value stores.
pub(crate) fn check_tcp_scheme(address: &str) -> Result<(), String> {
    let scheme = address.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("redis" | "rediss") => Ok(()),
        Some(other) => Err(format!("redis address scheme `{other}` is not supported; use redis:// or rediss://")),
        None => Err("redis address is not a redis:// or rediss:// URL".into()),
    }
}

/// Adds the outbound redis interface to `linker`, plus the function-less
/// `fermyon:spin/redis-types` that Spin 1 Redis handlers import.
pub(super) fn add_to_linker<T: HasCapability<OutboundRedis>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::redis::add_to_linker::<T, ViewOf<OutboundRedis>>(linker, T::capability)?;
    linker.instance(V1_REDIS_TYPES)?;
    Ok(())
}

/// Maps a client error to the guest's error type.
fn guest_error(e: RedisError) -> Error {
    match e.kind() {
        redis::ErrorKind::TypeError => Error::TypeError,
        _ => Error::Other(e.to_string()),
    }
}

/// The reply of `execute`, flattened into the guest's result list.
pub(super) struct Flattened(pub(super) Vec<RedisResult>);

impl FromRedisValue for Flattened {
    fn from_redis_value(v: &Value) -> redis::RedisResult<Self> {
        let mut out = Vec::new();
        flatten(v, &mut out)?;
        Ok(Self(out))
    }
}

fn flatten(v: &Value, out: &mut Vec<RedisResult>) -> redis::RedisResult<()> {
    match v {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(i) => out.push(RedisResult::Int64(*i)),
        Value::BulkString(b) => out.push(RedisResult::Binary(b.clone())),
        Value::SimpleString(s) => out.push(RedisResult::Status(s.clone())),
        Value::Okay => out.push(RedisResult::Status("OK".into())),
        Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(*b))),
        Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => out.push(RedisResult::Binary(text.clone().into_bytes())),
        Value::BigNumber(n) => out.push(RedisResult::Binary(n.to_string().into_bytes())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        Value::Attribute { data, .. } => flatten(data, out)?,
        Value::ServerError(e) => return Err(e.clone().into()),
        Value::Map(_) | Value::Push { .. } => {
            return Err((redis::ErrorKind::TypeError, "a map or push reply cannot be returned to the guest").into())
        }
    }
    Ok(())
}

/// The instance's view of the capability.
pub(super) type View<'a> = CapabilityView<'a, OutboundRedis>;

impl View<'_> {
    /// A handle on the connection `res` (multiplexed, so a clone shares the socket).
    pub(super) fn redis(&self, res: &Resource<RedisConnection>) -> wasmtime::Result<MultiplexedConnection> {
        Ok(self.table.get(res)?.conn.clone())
    }

    /// Runs `cmd` on connection `res` and converts the reply.
    async fn redis_query<T: FromRedisValue>(
        &mut self,
        res: &Resource<RedisConnection>,
        cmd: redis::Cmd,
    ) -> wasmtime::Result<Result<T, Error>> {
        Ok(run(self.redis(res)?, &cmd).await)
    }
}

/// A connection the gate has allowed and the budget has room for, not yet made.
pub(super) struct Pending {
    client: redis::Client,
    slot: ConnectionSlot,
    blocked: Arc<BlockedNetworks>,
}

/// The checks of `open`, in Spin's order: a TCP address, allowed by the
/// component's outbound hosts, a valid client URL, a free connection slot.
pub(super) fn prepare(gate: &OutboundGate, address: &str) -> Result<Pending, Error> {
    check_tcp_scheme(address).map_err(Error::Other)?;
    let dest = Destination::parse(address).ok_or(Error::InvalidAddress)?;
    if !gate.permits(&dest) {
        return Err(Error::InvalidAddress);
    }
    let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
    let slot = gate.open_slot(ConnectionKind::Redis).ok_or(Error::TooManyConnections)?;
    Ok(Pending { client, slot, blocked: gate.blocked_networks().clone() })
}

impl Pending {
    /// Connects (within [`CONNECT_TIMEOUT`]) once the app-wide caps have room.
    pub(super) async fn connect(self) -> Result<RedisConnection, Error> {
        let slot = self.slot.admit().await.ok_or(Error::TooManyConnections)?;
        let client = if self.blocked.is_empty() { self.client } else { vetted(self.client, &self.blocked).await? };
        let config = AsyncConnectionConfig::new().set_connection_timeout(CONNECT_TIMEOUT);
        let conn = client.get_multiplexed_async_connection_with_config(&config).await.map_err(guest_error)?;
        Ok(RedisConnection { conn, _slot: slot })
    }
}

/// `client` once its host is known to resolve outside `blocked`: a plain TCP
/// client is pointed at the checked address; TLS keeps the name it verifies.
async fn vetted(client: redis::Client, blocked: &BlockedNetworks) -> Result<redis::Client, Error> {
    let mut info = client.get_connection_info().clone();
    let refused = |r: crate::host::outbound::Refusal| Error::Other(r.to_string());
    match &info.addr {
        redis::ConnectionAddr::Tcp(host, port) => {
            let addr = blocked.vet(host, *port).await.map_err(refused)?[0];
            info.addr = redis::ConnectionAddr::Tcp(addr.ip().to_string(), addr.port());
            redis::Client::open(info).map_err(|_| Error::InvalidAddress)
        }
        redis::ConnectionAddr::TcpTls { host, port, .. } => {
            blocked.vet(host, *port).await.map_err(refused)?;
            Ok(client)
        }
        _ => Err(Error::InvalidAddress),
    }
}

/// Runs `cmd` on `conn` and converts the reply.
pub(super) async fn run<T: FromRedisValue>(mut conn: MultiplexedConnection, cmd: &redis::Cmd) -> Result<T, Error> {
    cmd.query_async::<T>(&mut conn).await.map_err(guest_error)
}

/// The commands behind the interface's methods (both versions).
pub(super) fn publish(channel: String, payload: Vec<u8>) -> redis::Cmd {
    redis::cmd("PUBLISH").arg(channel).arg(payload).to_owned()
}

pub(super) fn get(key: String) -> redis::Cmd {
    redis::cmd("GET").arg(key).to_owned()
}

pub(super) fn set(key: String, value: Vec<u8>) -> redis::Cmd {
    redis::cmd("SET").arg(key).arg(value).to_owned()
}

pub(super) fn incr(key: String) -> redis::Cmd {
    redis::cmd("INCR").arg(key).to_owned()
}

pub(super) fn del(keys: Vec<String>) -> redis::Cmd {
    redis::cmd("DEL").arg(keys).to_owned()
}

pub(super) fn sadd(key: String, values: Vec<String>) -> redis::Cmd {
    redis::cmd("SADD").arg(key).arg(values).to_owned()
}

pub(super) fn smembers(key: String) -> redis::Cmd {
    redis::cmd("SMEMBERS").arg(key).to_owned()
}

pub(super) fn srem(key: String, values: Vec<String>) -> redis::Cmd {
    redis::cmd("SREM").arg(key).arg(values).to_owned()
}

/// `command` with `arguments`, for `execute`.
pub(super) fn execute(command: &str, arguments: Vec<RedisParameter>) -> redis::Cmd {
    let mut cmd = redis::cmd(command);
    for arg in arguments {
        match arg {
            RedisParameter::Int64(i) => cmd.arg(i),
            RedisParameter::Binary(b) => cmd.arg(b),
        };
    }
    cmd
}

impl bindings::fermyon::spin::redis::Host for View<'_> {}

impl bindings::fermyon::spin::redis::HostConnection for View<'_> {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        match prepare(self.state, &address) {
            Ok(pending) => match pending.connect().await {
                Ok(conn) => Ok(Ok(self.table.push(conn)?)),
                Err(e) => Ok(Err(e)),
            },
            Err(e) => Ok(Err(e)),
        }
    }

    async fn publish(
        &mut self,
        res: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.redis_query(&res, publish(channel, payload)).await
    }

    async fn get(
        &mut self,
        res: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        self.redis_query(&res, get(key)).await
    }

    async fn set(
        &mut self,
        res: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.redis_query(&res, set(key, value)).await
    }

    async fn incr(&mut self, res: Resource<RedisConnection>, key: String) -> wasmtime::Result<Result<i64, Error>> {
        self.redis_query(&res, incr(key)).await
    }

    async fn del(&mut self, res: Resource<RedisConnection>, keys: Vec<String>) -> wasmtime::Result<Result<u32, Error>> {
        self.redis_query(&res, del(keys)).await
    }

    async fn sadd(
        &mut self,
        res: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        self.redis_query(&res, sadd(key, values)).await
    }

    async fn smembers(
        &mut self,
        res: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        self.redis_query(&res, smembers(key)).await
    }

    async fn srem(
        &mut self,
        res: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        self.redis_query(&res, srem(key, values)).await
    }

    async fn execute(
        &mut self,
        res: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        Ok(self.redis_query::<Flattened>(&res, execute(&command, arguments)).await?.map(|f| f.0))
    }

    async fn drop(&mut self, res: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_plain_client_is_pinned_to_the_address_checked_against_blocked_networks() {
        let blocked = |entries: &str| {
                BlockedNetworks::from_entries(&serde_json::from_str::<Vec<String>>(entries).unwrap()).unwrap()
        };
        let client = || redis::Client::open("redis://localhost:6379").unwrap();
        assert!(matches!(vetted(client(), &blocked(r#"["127.0.0.0/8"]"#)).await, Err(Error::Other(e)) if e.contains("blocked network")));
        let pinned = vetted(client(), &blocked(r#"["10.0.0.0/8"]"#)).await.ok().unwrap();
        let addr = pinned.get_connection_info().addr.to_string();
        assert!(addr == "127.0.0.1:6379" || addr == "::1:6379", "{addr}");
    }

    #[test]
    fn execute_replies_flatten_like_spin() {
        let reply = Value::Array(vec![
            Value::Okay,
            Value::Int(3),
            Value::Nil,
            Value::Array(vec![Value::BulkString(b"x".to_vec()), Value::SimpleString("PONG".into())]),
        ]);
        let Flattened(out) = Flattened::from_redis_value(&reply).unwrap();
        assert!(matches!(out[0], RedisResult::Status(ref s) if s == "OK"));
        assert!(matches!(out[1], RedisResult::Int64(3)));
        assert!(matches!(out[2], RedisResult::Nil));
        assert!(matches!(out[3], RedisResult::Binary(ref b) if b == b"x"));
        assert!(matches!(out[4], RedisResult::Status(ref s) if s == "PONG"));
        assert!(Flattened::from_redis_value(&Value::Map(vec![])).is_err());
    }

    #[test]
    fn only_tcp_addresses_are_accepted() {
        assert!(check_tcp_scheme("redis://127.0.0.1:6379").is_ok());
        assert!(check_tcp_scheme("REDISS://cache.example.com").is_ok());
        for address in ["redis+unix:///run/redis.sock", "unix:///run/redis.sock", "valkey://h", "127.0.0.1:6379"] {
            let e = check_tcp_scheme(address).unwrap_err();
            assert!(e.contains("redis://"), "{address}: {e}");
        }
    }

    #[tokio::test]
    async fn unix_sockets_are_refused_and_connections_are_capped() {
        use bindings::fermyon::spin::redis::HostConnection as _;
        let server = crate::host::test_redis::TestRedis::start();
        let mut host = crate::host::InstanceTemplate::for_tests(&["*://*:*"], 2).instantiate_state(&[], None, None).unwrap();
        let mut state = HasCapability::<OutboundRedis>::capability(&mut host);

        let unix = state.open("redis+unix://localhost/tmp/redis.sock".into()).await.unwrap();
        assert!(matches!(unix, Err(Error::Other(ref e)) if e.contains("redis+unix")));

        let a = state.open(server.url()).await.unwrap().ok().unwrap();
        let _b = state.open(server.url()).await.unwrap().ok().unwrap();
        assert!(matches!(state.open(server.url()).await.unwrap(), Err(Error::TooManyConnections)));
        bindings::fermyon::spin::redis::HostConnection::drop(&mut state, a).await.unwrap();
        let c = state.open(server.url()).await.unwrap().ok().unwrap();
        state.set(c, "k".into(), b"v".to_vec()).await.unwrap().ok().unwrap();
    }
}
