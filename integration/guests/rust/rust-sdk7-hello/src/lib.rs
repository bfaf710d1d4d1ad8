//! Hello world of the Rust SDK of Spin 4.1 (`spin-sdk` 7): a WASI 0.3 HTTP
//! handler (`wasi:http/handler@0.3.0`). Answers `Hello from spin-sdk 7` and the
//! path it saw, so routing through the host can be checked.

use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::http_service;

#[http_service]
async fn hello(req: Request) -> impl IntoResponse {
    format!("Hello from spin-sdk 7 at {}", req.uri().path())
}
