//! Request echo. Every component of the app uses this same wasm; it learns
//! which component it is from the `COMPONENT` environment variable set in
//! spin.toml.
//!
//! * any component except `slow`: 200, `application/json` body
//!   `{"component", "method", "path", "query", "headers", "body"}` where
//!   `headers` maps every request header name (lowercased) to its value
//!   (repeated headers joined with ", ") and `body` is the request body as a
//!   (lossy UTF-8) string.
//! * `files` / `globbed`: 200 with the contents of the guest file named by the
//!   query `path=` (read through the WASI preopens), or 404 `error=<io error>`;
//!   a `PUT` writes the body to that file instead: 200 `written`, or 403
//!   `error=<io error>` (files are read-only unless transient writes are allowed).
//! * `slow`: sleeps for `ms` milliseconds from the query (default 2000) with
//!   `std::thread::sleep` (a host wait on a wasi:clocks pollable, not wasm
//!   execution), then 200 `slept` (text/plain).
//! * any component, query `hostile=busy`: spins forever in wasm.
//! * any component, query `hostile=grow`: allocates and touches 8 MiB blocks
//!   until allocation fails (a memory bomb), then traps.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let component = std::env::var("COMPONENT").unwrap_or_else(|_| "unknown".to_string());

    match query_param(req.query(), "hostile") {
        Some("busy") => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Some("grow") => {
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut block = vec![0u8; 8 << 20];
                for i in (0..block.len()).step_by(4096) {
                    block[i] = 1;
                }
                blocks.push(std::hint::black_box(block));
            }
        }
        _ => {}
    }

    if component == "files" || component == "globbed" {
        let path = query_param(req.query(), "path").unwrap_or("/");
        if req.method() == &spin_sdk::http::Method::Put {
            return Ok(match std::fs::write(path, req.body()) {
                Ok(()) => Response::builder().status(200).header("content-type", "text/plain").body("written").build(),
                Err(e) => Response::builder().status(403).header("content-type", "text/plain").body(format!("error={e}")).build(),
            });
        }
        return Ok(match std::fs::read(path) {
            Ok(bytes) => Response::builder().status(200).header("content-type", "text/plain").body(bytes).build(),
            Err(e) => Response::builder().status(404).header("content-type", "text/plain").body(format!("error={e}")).build(),
        });
    }

    if component == "slow" {
        let ms = query_param(req.query(), "ms")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(2000);
        std::thread::sleep(std::time::Duration::from_millis(ms));
        return Ok(Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body("slept")
            .build());
    }

    let mut headers = serde_json::Map::new();
    for (name, value) in req.headers() {
        let name = name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(&name) {
            Some(serde_json::Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name, serde_json::Value::String(value));
            }
        }
    }

    let body = serde_json::json!({
        "component": component,
        "method": req.method().to_string(),
        "path": req.path(),
        "query": req.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(req.body()),
    });

    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body)?)
        .build())
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then_some(v)
    })
}
