//! Service chaining and self requests between WASI 0.3 guests (Rust `spin-sdk`
//! 7). One wasm plays two parts, told apart by the `ROLE` variable its
//! component sets in spin.toml:
//!
//! - `frontend`: GETs every `url=` of its query in turn (for example
//!   `http://backend.spin.internal/x` and `http://self/back/y`) and answers one
//!   line per URL: `<url> -> <status> <body>`, or `<url> -> error=<error code>`.
//! - `backend`: answers `backend` followed by the `spin-*` headers it got, one
//!   `name: value` line each (sorted), so the caller sees how it was routed.

use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    match std::env::var("ROLE").as_deref() {
        Ok("frontend") => frontend(&req).await,
        _ => backend(&req),
    }
}

async fn frontend(req: &Request) -> String {
    let query = req.uri().query().unwrap_or_default();
    let mut lines = Vec::new();
    for (_, url) in form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k == "url") {
        let line = match spin_sdk::http::get(url.as_ref()).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.into_body().bytes().await {
                    Ok(body) => format!("{url} -> {status} {}", String::from_utf8_lossy(&body).replace('\n', " | ")),
                    Err(e) => format!("{url} -> error={e:?}"),
                }
            }
            Err(e) => format!("{url} -> error={e:?}"),
        };
        lines.push(line);
    }
    lines.join("\n")
}

fn backend(req: &Request) -> String {
    let mut headers: Vec<String> = req
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("spin-") || name.as_str() == "host")
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("<binary>")))
        .collect();
    headers.sort();
    format!("backend\n{}", headers.join("\n"))
}
