//! One configured key-value store and the backend that holds its data: SQLite
//! (Spin's `spin` type: a file, or memory) or Redis.

use std::path::Path;

use redis::aio::ConnectionManager;
use redis::AsyncCommands as _;
use rusqlite::{params, OptionalExtension as _};
use tokio::sync::OnceCell;

use crate::host::sqlite::connection::SharedConnection;

/// Result of a store operation; the message becomes the guest's `other`/`io` error.
pub type KvResult<T> = Result<T, String>;

/// A store's data, shared by every instance that opens it.
pub enum KeyValueStore {
    /// Spin's default store type: rows of the `spin_key_value` table.
    Sqlite(SqliteStore),
    /// Keys and values of a Redis database.
    Redis(RedisStore),
}

impl KeyValueStore {
    /// The value at `key`, if any.
    pub async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        match self {
            Self::Sqlite(s) => s.get(key).await,
            Self::Redis(r) => r.get(key).await,
        }
    }

    /// Stores `value` at `key`.
    pub async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        match self {
            Self::Sqlite(s) => s.set(key, value).await,
            Self::Redis(r) => r.set(key, value).await,
        }
    }

    /// Removes `key` (no error when missing).
    pub async fn delete(&self, key: &str) -> KvResult<()> {
        match self {
            Self::Sqlite(s) => s.delete(key).await,
            Self::Redis(r) => r.delete(key).await,
        }
    }

    /// Whether `key` holds a value.
    pub async fn exists(&self, key: &str) -> KvResult<bool> {
        match self {
            Self::Sqlite(s) => s.exists(key).await,
            Self::Redis(r) => r.exists(key).await,
        }
    }

    /// Every key.
    pub async fn keys(&self) -> KvResult<Vec<String>> {
        match self {
            Self::Sqlite(s) => s.keys().await,
            Self::Redis(r) => r.keys().await,
        }
    }

    /// Where the data lives, for start-up messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(s) => s.conn.describe(),
            Self::Redis(r) => format!("redis {}", r.display_url),
        }
    }
}

/// A SQLite-backed store: every store in one database file keeps its rows
/// under its own name in `spin_key_value(store, key, value)`.
pub struct SqliteStore {
    conn: SharedConnection,
    name: String,
}

impl SqliteStore {
    /// Opens (creating) the database at `path`, or an in-memory one, for store `name`.
    pub fn open(path: Option<&Path>, name: &str) -> anyhow::Result<Self> {
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
        self.conn.run(move |c| f(c, &name)).await.map_err(|e| e.to_string())
    }

    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        let key = key.to_string();
        self.with_conn(move |c, store| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
        .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.with_conn(move |c, store| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])
            .map(drop)
        })
        .await
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

    async fn keys(&self) -> KvResult<Vec<String>> {
        self.with_conn(|c, store| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
        .await
    }
}

/// A Redis-backed store. Connects on first use and reconnects after an outage;
/// while the server is unreachable, operations fail with the client's error.
pub struct RedisStore {
    url: String,
    display_url: String,
    conn: OnceCell<ConnectionManager>,
}

impl RedisStore {
    /// A store on the Redis server at `url` (validated now, connected later).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let info: redis::ConnectionInfo =
            redis::IntoConnectionInfo::into_connection_info(url).map_err(|e| anyhow::anyhow!("invalid url: {e}"))?;
        let display_url = format!("{}", info.addr);
        Ok(Self { url: url.to_string(), display_url, conn: OnceCell::new() })
    }

    async fn conn(&self) -> KvResult<ConnectionManager> {
        self.conn
            .get_or_try_init(|| async {
                let client = redis::Client::open(self.url.as_str()).map_err(|e| e.to_string())?;
                ConnectionManager::new(client).await.map_err(|e| format!("cannot reach {}: {e}", self.display_url))
            })
            .await
            .cloned()
    }

    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.conn().await?.get(key).await.map_err(|e| e.to_string())
    }

    async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.conn().await?.set(key, value).await.map_err(|e| e.to_string())
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.conn().await?.del(key).await.map_err(|e| e.to_string())
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        self.conn().await?.exists(key).await.map_err(|e| e.to_string())
    }

    async fn keys(&self) -> KvResult<Vec<String>> {
        self.conn().await?.keys("*").await.map_err(|e| e.to_string())
    }
}
