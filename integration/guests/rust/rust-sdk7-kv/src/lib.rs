//! Key-value stores through spin-sdk 7 (`spin:key-value/key-value@3.0.0`, async),
//! on the `default` store:
//!
//! * `GET /counter/<key>`: adds one to the number at `<key>` (0 when missing)
//!   and answers 200 with the new count.
//! * `GET /keys/<prefix>`: 200, the keys starting with `<prefix>`, sorted, one
//!   per line (read from `get-keys`' stream).
//! * `DELETE /counter/<key>`: 200 `deleted;exists=<bool after>`.
//! * `GET /open/<label>`: 200 `opened`, or 200 `error=<name of the error case>`.
//!
//! Store errors answer 500 `error=<name of the error case>`.

use spin_sdk::http::{IntoResponse, Method, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::key_value::{Error, Store};

fn error(e: &Error) -> String {
    match e {
        Error::StoreTableFull => "error=store-table-full".into(),
        Error::NoSuchStore => "error=no-such-store".into(),
        Error::AccessDenied => "error=access-denied".into(),
        Error::Other(m) => format!("error=other:{m}"),
    }
}

async fn count(store: &Store, key: &str) -> Result<String, Error> {
    let now = match store.get(key).await? {
        Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
        None => 0,
    };
    store.set(key, (now + 1).to_string()).await?;
    Ok((now + 1).to_string())
}

async fn keys(store: &Store, prefix: &str) -> Result<String, Error> {
    let mut keys: Vec<String> =
        store.get_keys().await.collect().await?.into_iter().filter(|k| k.starts_with(prefix)).collect();
    keys.sort();
    Ok(keys.join("\n"))
}

async fn delete(store: &Store, key: &str) -> Result<String, Error> {
    store.delete(key).await?;
    Ok(format!("deleted;exists={}", store.exists(key).await?))
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
    if let Some(label) = path.strip_prefix("/open/") {
        let body = match Store::open(label).await {
            Ok(_) => "opened".to_string(),
            Err(e) => error(&e),
        };
        return (StatusCode::OK, body);
    }
    let store = match Store::open_default().await {
        Ok(s) => s,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, error(&e)),
    };
    let result = match (req.method(), path.as_str()) {
        (&Method::GET, p) if p.starts_with("/counter/") => count(&store, &p["/counter/".len()..]).await,
        (&Method::DELETE, p) if p.starts_with("/counter/") => delete(&store, &p["/counter/".len()..]).await,
        (&Method::GET, p) if p.starts_with("/keys/") => keys(&store, &p["/keys/".len()..]).await,
        _ => return (StatusCode::NOT_FOUND, "no such route".to_string()),
    };
    match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, error(&e)),
    }
}
