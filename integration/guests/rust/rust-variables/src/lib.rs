//! Spin variables.
//!
//! * `/missing`: 200 `error=<Debug of the error>` from
//!   `variables::get("not_declared")` (or `unexpected=<value>` if it resolved).
//! * any other path: 200 `greeting=<v>;token=<v>;message=<v>`; a variable that
//!   fails to resolve is rendered as `<ERR:<Debug of the error>>`.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::{http_component, variables};

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let body = if req.path() == "/missing" {
        match variables::get("not_declared") {
            Ok(v) => format!("unexpected={v}"),
            Err(e) => format!("error={e:?}"),
        }
    } else {
        let get = |name: &str| match variables::get(name) {
            Ok(v) => v,
            Err(e) => format!("<ERR:{e:?}>"),
        };
        format!(
            "greeting={};token={};message={}",
            get("greeting"),
            get("token"),
            get("message")
        )
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(body)
        .build())
}
