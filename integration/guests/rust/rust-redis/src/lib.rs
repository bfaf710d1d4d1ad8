//! A Redis trigger handler (`fermyon:spin/inbound-redis`).
//!
//! For every message on the subscribed channel it opens an outbound Redis
//! connection to the component variable `redis_address`, stores the payload at
//! `rust-redis:last` and increments `rust-redis:count`. It prints
//! `rust-redis: handled <n> bytes` on success; any failure is returned as an error
//! (which the SDK prints to stderr).
use anyhow::Context as _;
use spin_sdk::redis::Connection;
use spin_sdk::{redis_component, variables};

#[redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    let address = variables::get("redis_address").context("reading variable redis_address")?;
    let conn = Connection::open(&address).map_err(|e| anyhow::anyhow!("opening {address}: {e:?}"))?;
    conn.set("rust-redis:last", &message)
        .map_err(|e| anyhow::anyhow!("SET rust-redis:last: {e:?}"))?;
    conn.incr("rust-redis:count")
        .map_err(|e| anyhow::anyhow!("INCR rust-redis:count: {e:?}"))?;
    println!("rust-redis: handled {} bytes", message.len());
    Ok(())
}
