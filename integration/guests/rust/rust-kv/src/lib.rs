//! Key-value stores through `spin_sdk::key_value` (`fermyon:spin/key-value@2.0.0`).
//!
//! * `GET /kv/<key>`: 200 with the value, or 404.
//! * `PUT /kv/<key>`: stores the request body; 200 `stored`.
//! * `DELETE /kv/<key>`: 200 `deleted`.
//! * `GET /exists/<key>`: 200 `true` or `false`.
//! * `GET /keys`: 200 with the sorted keys, one per line.
//! * `GET /open/<label>`: 200 `opened`, or 200 `error=<Debug of the error>`.
//!
//! The same store through `wasi:keyvalue@0.2.0-draft2` (the SDK's bindings):
//!
//! * `POST /wasi/counter/<key>?by=<n>`: 200 with the value after `increment`.
//! * `GET /wasi/cas/<key>`: a compare-and-swap that loses a race (the key is set
//!   between `cas.new` and `swap`), then one that wins; 200
//!   `failed current=<value of the fresh cas>;won value=<value after>`.
//! * `GET /wasi/batch/<prefix>`: `set-many` of `<prefix>a=1`, `<prefix>b=2`, then
//!   `get-many` of those and `<prefix>c`, then `delete-many`; 200
//!   `<key>=<value or none>,...;left=<keys with the prefix after delete-many>`.
//!
//! And one route about instances rather than stores:
//!
//! * `GET /statics`: bumps a zero-initialised static and swaps a static that
//!   starts as `0x5eed`; 200 `bss=<count after bump> data=<swapped-out value>`.
//!   A fresh instance per request answers `bss=1 data=24301` every time.
//!
//! Store errors answer 500 with the error's Debug text. `?store=<label>` picks
//! another store than `default`.
use std::sync::atomic::{AtomicU64, Ordering};

use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::store as wasi_store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch};

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

/// The `/wasi/...` routes, on bucket `label`.
fn wasi_keyvalue(label: &str, path: &str, query: &str) -> Result<Response, wasi_store::Error> {
    let bucket = wasi_store::open(label)?;
    let text_of = |v: Option<Vec<u8>>| v.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or("none".into());
    if let Some(key) = path.strip_prefix("/wasi/counter/") {
        let by = query.strip_prefix("by=").and_then(|n| n.parse().ok()).unwrap_or(1);
        return Ok(text(200, atomics::increment(&bucket, key, by)?.to_string()));
    }
    if let Some(key) = path.strip_prefix("/wasi/cas/") {
        bucket.set(key, b"start")?;
        let stale = atomics::Cas::new(&bucket, key)?;
        bucket.set(key, b"changed")?;
        let failed = match atomics::swap(stale, b"lost") {
            Err(atomics::CasError::CasFailed(fresh)) => {
                let current = text_of(fresh.current()?);
                atomics::swap(fresh, b"won").map_err(|e| match e {
                    atomics::CasError::StoreError(e) => e,
                    atomics::CasError::CasFailed(_) => wasi_store::Error::Other("second swap lost".into()),
                })?;
                format!("failed current={current}")
            }
            Err(atomics::CasError::StoreError(e)) => return Err(e),
            Ok(()) => "swapped a stale value".into(),
        };
        return Ok(text(200, format!("{failed};won value={}", text_of(bucket.get(key)?))));
    }
    if let Some(prefix) = path.strip_prefix("/wasi/batch/") {
        let (a, b, c) = (format!("{prefix}a"), format!("{prefix}b"), format!("{prefix}c"));
        batch::set_many(&bucket, &[(a.clone(), b"1".to_vec()), (b.clone(), b"2".to_vec())])?;
        let got = batch::get_many(&bucket, &[a.clone(), b.clone(), c])?;
        batch::delete_many(&bucket, &[a, b])?;
        let got: Vec<String> = got.into_iter().map(|(k, v)| format!("{k}={}", text_of(v))).collect();
        let mut left: Vec<String> =
            bucket.list_keys(None)?.keys.into_iter().filter(|k| k.starts_with(prefix)).collect();
        left.sort();
        return Ok(text(200, format!("{};left={}", got.join(","), left.join(","))));
    }
    Ok(text(404, "no such route"))
}

static BSS: AtomicU64 = AtomicU64::new(0);
static DATA: AtomicU64 = AtomicU64::new(0x5eed);

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
    if path == "/statics" {
        let bss = BSS.fetch_add(1, Ordering::SeqCst) + 1;
        let data = DATA.swap(7, Ordering::SeqCst);
        return Ok(text(200, format!("bss={bss} data={data}")));
    }
    if path.starts_with("/wasi/") {
        let label = req.query().split('&').find_map(|p| p.strip_prefix("store=")).unwrap_or("default");
        let query = req.query().split('&').find(|p| p.starts_with("by=")).unwrap_or("");
        return Ok(wasi_keyvalue(label, &path, query).unwrap_or_else(|e| text(500, format!("{e:?}"))));
    }
    if let Some(label) = path.strip_prefix("/open/") {
        return Ok(match Store::open(label) {
            Ok(_) => text(200, "opened"),
            Err(e) => text(200, format!("error={e:?}")),
        });
    }
    let label = req.query().strip_prefix("store=").unwrap_or("default").to_string();
    let store = match Store::open(&label) {
        Ok(s) => s,
        Err(e) => return Ok(text(500, format!("open {label}: {e:?}"))),
    };
    let result = match (req.method(), path.as_str()) {
        (Method::Get, "/keys") => store.get_keys().map(|mut keys| {
            keys.sort();
            text(200, keys.join("\n"))
        }),
        (Method::Get, p) if p.starts_with("/exists/") => {
            store.exists(&p["/exists/".len()..]).map(|found| text(200, found.to_string()))
        }
        (Method::Get, p) if p.starts_with("/kv/") => store.get(&p[4..]).map(|value| match value {
            Some(v) => Response::builder().status(200).body(v).build(),
            None => text(404, "no such key"),
        }),
        (Method::Put, p) if p.starts_with("/kv/") => store.set(&p[4..], req.body()).map(|_| text(200, "stored")),
        (Method::Delete, p) if p.starts_with("/kv/") => store.delete(&p[4..]).map(|_| text(200, "deleted")),
        _ => return Ok(text(404, "no such route")),
    };
    Ok(result.unwrap_or_else(|e| text(500, format!("{e:?}"))))
}
