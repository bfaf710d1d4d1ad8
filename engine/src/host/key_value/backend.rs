//! One configured key-value store and the backend that holds its data: SQLite
//! (Spin's `spin` type: a file, or memory), Redis, or a DynamoDB table
//! (`dynamo.rs`).

use std::path::Path;

use redis::aio::ConnectionManager;
use redis::AsyncCommands as _;
use rusqlite::{params, OptionalExtension as _};
use tokio::sync::OnceCell;

use super::dynamo::DynamoStore;
use super::error::{KeyValueError, KvResult};
use crate::host::sqlite::connection::SharedConnection;

/// A store's data, shared by every instance that opens it.
pub(crate) enum KeyValueStore {
    /// Spin's default store type: rows of the `spin_key_value` table.
    Sqlite(SqliteStore),
    /// Keys and values of a Redis database.
    Redis(RedisStore),
    /// Items of a DynamoDB table.
    Dynamo(DynamoStore),
}

impl KeyValueStore {
    /// The value at `key`, if any.
    pub(crate) async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        match self {
            Self::Sqlite(s) => s.get(key).await,
            Self::Redis(r) => r.get(key).await,
            Self::Dynamo(d) => d.get(key).await,
        }
    }

    /// Stores `value` at `key`.
    pub(crate) async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        match self {
            Self::Sqlite(s) => s.set(key, value).await,
            Self::Redis(r) => r.set(key, value).await,
            Self::Dynamo(d) => d.set(key, value).await,
        }
    }

    /// Removes `key` (no error when missing).
    pub(crate) async fn delete(&self, key: &str) -> KvResult<()> {
        match self {
            Self::Sqlite(s) => s.delete(key).await,
            Self::Redis(r) => r.delete(key).await,
            Self::Dynamo(d) => d.delete(key).await,
        }
    }

    /// Whether `key` holds a value.
    pub(crate) async fn exists(&self, key: &str) -> KvResult<bool> {
        match self {
            Self::Sqlite(s) => s.exists(key).await,
            Self::Redis(r) => r.exists(key).await,
            Self::Dynamo(d) => d.exists(key).await,
        }
    }

    /// Every key.
    pub(crate) async fn keys(&self) -> KvResult<Vec<String>> {
        match self {
            Self::Sqlite(s) => s.keys().await,
            Self::Redis(r) => r.keys().await,
            Self::Dynamo(d) => d.keys().await,
        }
    }

    /// Adds `delta` to the number at `key` (0 when missing) and returns the sum.
    /// SQLite keeps the number as 8 little-endian bytes, Redis as `INCRBY` does.
    pub(crate) async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        match self {
            Self::Sqlite(s) => s.increment(key, delta).await,
            Self::Redis(r) => r.increment(key, delta).await,
            Self::Dynamo(d) => d.increment(key, delta).await,
        }
    }

    /// Stores `value` at `key` if the key still holds `expected` (`None`: no
    /// value); returns whether it did.
    pub(crate) async fn swap_if(&self, key: &str, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvResult<bool> {
        match self {
            Self::Sqlite(s) => s.swap_if(key, expected, value).await,
            Self::Redis(r) => r.swap_if(key, expected, value).await,
            Self::Dynamo(d) => d.swap_if(key, expected, value).await,
        }
    }

}

impl crate::host::labelled::DataPlace for KeyValueStore {
    fn describe(&self) -> String {
        match self {
            Self::Sqlite(s) => s.conn.describe(),
            Self::Redis(r) => format!("redis {}", r.display_url),
            Self::Dynamo(d) => d.describe(),
        }
    }
}

/// A SQLite-backed store: every store in one database file keeps its rows
/// under its own name in `spin_key_value(store, key, value)`.
pub(crate) struct SqliteStore {
    conn: SharedConnection,
    name: String,
}

impl SqliteStore {
    /// Opens (creating) the database at `path`, or an in-memory one, for store `name`.
    pub(crate) fn open(path: Option<&Path>, name: &str) -> anyhow::Result<Self> {
        let conn = SharedConnection::open(path)?;
        let store = Self { conn, name: name.to_string() };
        store
            .conn
            .run_now(|c| {
                c.execute_batch(
                    "CREATE TABLE IF NOT EXISTS spin_key_value (
                    store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
                )
            })
            .map_err(|e| anyhow::anyhow!("cannot prepare the key-value table: {e}"))?;
        Ok(store)
    }

    /// Runs `f` with the connection and this store's name.
    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> KvResult<T> {
        let name = self.name.clone();
        Ok(self.conn.run(move |c| f(c, &name)).await?)
    }

    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        let key = key.to_string();
        self.with_conn(move |c, store| read(c, store, &key)).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.with_conn(move |c, store| write(c, store, &key, &value)).await
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        let key = key.to_string();
        self.with_conn(move |c, store| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })
        .await
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        Ok(self.get(key).await?.is_some())
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        let key = key.to_string();
        self.with_conn(move |c, store| {
            let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate)?;
            let current = read(&tx, store, &key)?;
            let number = match current.as_deref() {
                None => 0,
                Some(bytes) => i64::from_le_bytes(bytes.try_into().map_err(|_| not_a_number(&key))?),
            };
            let sum = number.checked_add(delta).ok_or_else(|| not_a_number(&key))?;
            write(&tx, store, &key, &sum.to_le_bytes())?;
            tx.commit()?;
            Ok(sum)
        })
        .await
    }

    async fn swap_if(&self, key: &str, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvResult<bool> {
        let key = key.to_string();
        self.with_conn(move |c, store| {
            let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate)?;
            if read(&tx, store, &key)? != expected {
                return Ok(false);
            }
            write(&tx, store, &key, &value)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn keys(&self) -> KvResult<Vec<String>> {
        self.with_conn(|c, store| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
        .await
    }
}

fn read(c: &rusqlite::Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
        .query_row(params![store, key], |row| row.get(0))
        .optional()
}

fn write(c: &rusqlite::Connection, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![store, key, value])
    .map(drop)
}

fn not_a_number(key: &str) -> rusqlite::Error {
    let message = format!("the value at `{key}` is not a counter (8 bytes written by increment) or would overflow");
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH), Some(message))
}

/// Compares a key's value with an expected one (`ARGV[1]` = 1 when a value is
/// expected, `ARGV[2]` it) and sets `ARGV[3]` only when they match.
const REDIS_SWAP_IF: &str = r#"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
"#;

/// Keys one `SCAN` step asks the server for.
const SCAN_COUNT: usize = 1_000;

/// A Redis-backed store. Connects on first use and reconnects after an outage;
/// while the server is unreachable, operations fail with the client's error.
/// Listing keys walks them with `SCAN`, never `KEYS`, so a large database is not
/// blocked while a guest lists it.
pub(crate) struct RedisStore {
    url: String,
    display_url: String,
    conn: OnceCell<ConnectionManager>,
}

impl RedisStore {
    /// A store on the Redis server at `url` (validated now, connected later);
    /// only TCP addresses (`redis://`, `rediss://`) are accepted.
    pub(crate) fn new(url: &str) -> anyhow::Result<Self> {
        crate::host::redis::check_tcp_scheme(url).map_err(anyhow::Error::msg)?;
        let info: redis::ConnectionInfo =
            redis::IntoConnectionInfo::into_connection_info(url).map_err(|e| anyhow::anyhow!("invalid url: {e}"))?;
        let display_url = format!("{}", info.addr);
        Ok(Self { url: url.to_string(), display_url, conn: OnceCell::new() })
    }

    async fn conn(&self) -> KvResult<ConnectionManager> {
        self.conn
            .get_or_try_init(|| async {
                let client = redis::Client::open(self.url.as_str())?;
                ConnectionManager::new(client)
                    .await
                    .map_err(|e| KeyValueError::Unreachable(format!("cannot reach {}: {e}", self.display_url)))
            })
            .await
            .cloned()
    }

    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.conn().await?.get(key).await.map_err(KeyValueError::from)
    }

    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.conn().await?.set(key, value).await.map_err(KeyValueError::from)
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.conn().await?.del(key).await.map_err(KeyValueError::from)
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        self.conn().await?.exists(key).await.map_err(KeyValueError::from)
    }

    async fn keys(&self) -> KvResult<Vec<String>> {
        let mut conn = self.conn().await?;
        let mut keys = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) =
                redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(SCAN_COUNT).query_async(&mut conn).await?;
            // SCAN may return a key twice while the server rehashes.
            keys.extend(batch.into_iter().filter(|k| seen.insert(k.clone())));
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.conn().await?.incr(key, delta).await.map_err(KeyValueError::from)
    }

    async fn swap_if(&self, key: &str, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvResult<bool> {
        let mut conn = self.conn().await?;
        let swapped: i64 = redis::Script::new(REDIS_SWAP_IF)
            .key(key)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or_default())
            .arg(value)
            .invoke_async(&mut conn)
            .await?;
        Ok(swapped == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_redis::TestRedis;

    #[tokio::test]
    async fn redis_keys_are_listed_with_scan() {
        // Without KEYS on the server the listing can only work through SCAN.
        let server = TestRedis::start_with(&["--rename-command", "KEYS", ""]);
        let store = RedisStore::new(&server.url()).unwrap();
        let mut expected: Vec<String> = (0..2_500).map(|i| format!("key-{i}")).collect();
        let mut conn = store.conn().await.unwrap();
        let mut pipe = redis::pipe();
        for k in &expected {
            pipe.set(k, b"v".as_slice()).ignore();
        }
        pipe.query_async::<()>(&mut conn).await.unwrap();
        let mut keys = store.keys().await.unwrap();
        keys.sort();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn redis_stores_refuse_unix_sockets() {
        for url in ["redis+unix:///run/redis.sock", "unix:///run/redis.sock"] {
            let e = RedisStore::new(url).err().unwrap().to_string();
            assert!(e.contains("not supported") && e.contains("redis://"), "{url}: {e}");
        }
        assert!(RedisStore::new("redis://127.0.0.1:6379/2").is_ok());
    }
}
