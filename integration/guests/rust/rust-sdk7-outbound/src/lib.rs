//! Outbound HTTP from a WASI 0.3 guest (Rust `spin-sdk` 7, `wasi:http/client@0.3.0`),
//! answering like `rust-outbound` so the same checks apply:
//!
//! - `?url=<target>`: GETs the target; 200 `status=<its status>;body=<its body>`;
//! - a failed send: 502 `error=<Debug of the interface's error code>`, e.g.
//!   `error=ErrorCode::HttpRequestDenied` for a host not in `allowed_outbound_hosts`;
//! - no `url`: 400.

use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let query = req.uri().query().unwrap_or_default();
    let Some(url) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "url").map(|(_, v)| v.into_owned())
    else {
        return (StatusCode::BAD_REQUEST, "missing url query parameter".to_string());
    };
    match spin_sdk::http::get(&url).await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.into_body().bytes().await {
                Ok(body) => (StatusCode::OK, format!("status={status};body={}", String::from_utf8_lossy(&body))),
                Err(e) => (StatusCode::BAD_GATEWAY, format!("error={e:?}")),
            }
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("error={e:?}")),
    }
}
