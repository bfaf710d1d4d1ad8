//! Key-value stores through `spin_sdk::key_value` (`fermyon:spin/key-value@2.0.0`).
//!
//! * `GET /kv/<key>`: 200 with the value, or 404.
//! * `PUT /kv/<key>`: stores the request body; 200 `stored`.
//! * `DELETE /kv/<key>`: 200 `deleted`.
//! * `GET /exists/<key>`: 200 `true` or `false`.
//! * `GET /keys`: 200 with the sorted keys, one per line.
//! * `GET /open/<label>`: 200 `opened`, or 200 `error=<Debug of the error>`.
//!
//! Store errors answer 500 with the error's Debug text. `?store=<label>` picks
//! another store than `default`.
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
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
