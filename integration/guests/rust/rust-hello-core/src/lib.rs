//! Same hello as `rust-hello`, but built for wasm32-wasip1: the output is a
//! core module with embedded component-type metadata that the runtime must
//! componentize (wit-component + the wasi_snapshot_preview1 reactor adapter).
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("Hello, Fermyon")
        .build())
}
