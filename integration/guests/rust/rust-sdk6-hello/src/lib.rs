//! The Rust SDK of Spin 4.0 (`spin-sdk` 6), built on WASI 0.3's last release
//! candidate (`wasi:http/handler@0.3.0-rc-2026-03-15`) and Spin 4's async
//! interfaces:
//!
//! * `GET /counter/<key>`: adds one to the number at `<key>` in the `default`
//!   key-value store (`spin:key-value@3.0.0`) and answers 200 with it.
//! * any other path: 200 `Hello from spin-sdk 6 at <path>`.

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::key_value::{Error, Store};

async fn count(key: &str) -> Result<String, Error> {
    let store = Store::open_default().await?;
    let now = match store.get(key).await? {
        Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
        None => 0,
    };
    store.set(key, (now + 1).to_string()).await?;
    Ok((now + 1).to_string())
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
    match path.strip_prefix("/counter/") {
        Some(key) => match count(key).await {
            Ok(n) => (StatusCode::OK, n),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error={e:?}")),
        },
        None => (StatusCode::OK, format!("Hello from spin-sdk 6 at {path}")),
    }
}
