//! A Spin 4 Redis trigger handler (Rust `spin-sdk` 7, `#[redis_subscriber]`,
//! async `spin:redis/inbound-redis@3.0.0`) that does what `rust-redis` does
//! with the async `spin:redis/redis@3.0.0` and `spin:variables@3.0.0`: stores
//! each message at `rust-sdk7-redis:last`, increments `rust-sdk7-redis:count`
//! and prints `rust-sdk7-redis: handled <n> bytes`.

use anyhow::Context as _;
use bytes::Bytes;
use spin_sdk::redis::Connection;
use spin_sdk::{redis_subscriber, variables};

#[redis_subscriber]
async fn on_message(message: Bytes) -> anyhow::Result<()> {
    let address = variables::get("redis_address").await.context("reading variable redis_address")?;
    let conn = Connection::open(&address).await.map_err(|e| anyhow::anyhow!("opening {address}: {e:?}"))?;
    conn.set("rust-sdk7-redis:last", &message)
        .await
        .map_err(|e| anyhow::anyhow!("SET rust-sdk7-redis:last: {e:?}"))?;
    conn.incr("rust-sdk7-redis:count")
        .await
        .map_err(|e| anyhow::anyhow!("INCR rust-sdk7-redis:count: {e:?}"))?;
    println!("rust-sdk7-redis: handled {} bytes", message.len());
    Ok(())
}
