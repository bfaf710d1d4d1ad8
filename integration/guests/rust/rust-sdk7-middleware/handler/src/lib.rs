//! The handler the `rust-sdk7-middleware` guest wraps (`spin-sdk` 7,
//! `wasi:http/handler@0.3.0`): answers `handler at <path> depth=<x-mw-depth>`
//! (`depth=-` when no middleware ran) and `GREETING=<its environment's GREETING>`.

use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let depth = req.headers().get("x-mw-depth").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "unset".into());
    format!("handler at {} depth={depth} GREETING={greeting}", req.uri().path())
}
