//! Spin variables through spin-sdk 7 (`spin:variables/variables@3.0.0`, async).
//!
//! * `/missing`: 200 `error=<name of the error case>:<message>` from
//!   `variables::get("not_declared")` (or `unexpected=<value>` if it resolved).
//! * any other path: 200 `greeting=<v>;token=<v>;message=<v>`; a variable that
//!   fails to resolve is rendered as `<ERR:<error>>`.

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::variables::{self, Error};
use spin_sdk::http_service;

fn error(e: &Error) -> String {
    match e {
        Error::InvalidName(m) => format!("invalid-name:{m}"),
        Error::Undefined(m) => format!("undefined:{m}"),
        Error::Provider(m) => format!("provider:{m}"),
        Error::Other(m) => format!("other:{m}"),
    }
}

async fn get(name: &str) -> String {
    match variables::get(name).await {
        Ok(v) => v,
        Err(e) => format!("<ERR:{}>", error(&e)),
    }
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let body = if req.uri().path() == "/missing" {
        match variables::get("not_declared").await {
            Ok(v) => format!("unexpected={v}"),
            Err(e) => format!("error={}", error(&e)),
        }
    } else {
        format!("greeting={};token={};message={}", get("greeting").await, get("token").await, get("message").await)
    };
    (StatusCode::OK, body)
}
