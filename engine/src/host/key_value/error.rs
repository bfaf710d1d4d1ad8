//! Why a key-value store operation failed, whichever backend holds the store.

/// Why a store operation failed; its message becomes the guest's `other`/`io` error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyValueError {
    /// The store's server could not be reached (connecting to Redis failed).
    #[error("{0}")]
    Unreachable(String),
    /// The SQLite database failed the operation.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The Redis server failed the operation.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    /// DynamoDB failed the operation (or the value was not what it should be).
    #[error("{0}")]
    Dynamo(String),
}

/// Result of a store operation.
pub(crate) type KvResult<T> = Result<T, KeyValueError>;
