//! HTTP middleware built with the Rust SDK of Spin 4.1 (`spin-sdk` 7, feature
//! `http-middleware`): exports `wasi:http/handler@0.3.0` and imports the same
//! interface as the next handler of the chain, which `spin_sdk::http::next` calls.
//!
//! On the way in it reads `x-mw-depth` (absent: 0), forwards the request with
//! `x-mw-depth: <depth + 1>`, and on the way out appends its depth to the
//! response header `x-mw-trail` (so two middlewares answer `1,0`: the inner one
//! unwinds first). When the request carries `x-mw-env: NAME`, it consumes that
//! header (the next handler does not see it), reads the environment variable
//! NAME and answers it as `x-mw-env-<depth>` (`unset` when it has none): that
//! call goes through `wasi:cli/environment`, which a middleware only reaches
//! with `inherit_configuration`.

use spin_sdk::http::{HeaderName, HeaderValue, IntoResponse, Request};
use spin_sdk::http_service;

#[http_service]
async fn handle(mut req: Request) -> impl IntoResponse {
    let depth: u32 = header(&req, "x-mw-depth").and_then(|d| d.parse().ok()).unwrap_or(0);
    let env = header(&req, "x-mw-env").map(|name| std::env::var(name).unwrap_or_else(|_| "unset".into()));
    req.headers_mut().remove("x-mw-env");
    req.headers_mut().insert("x-mw-depth", HeaderValue::from(depth + 1));
    let mut resp = match spin_sdk::http::next(req).await {
        Ok(resp) => resp,
        Err(e) => return Err(format!("middleware {depth}: next failed: {e:?}")),
    };
    let trail = match resp.headers().get("x-mw-trail").and_then(|v| v.to_str().ok()) {
        Some(inner) => format!("{inner},{depth}"),
        None => depth.to_string(),
    };
    let headers = resp.headers_mut();
    headers.insert("x-mw-trail", HeaderValue::try_from(trail).unwrap());
    if let Some(value) = env {
        let name = HeaderName::try_from(format!("x-mw-env-{depth}")).unwrap();
        headers.insert(name, HeaderValue::try_from(value).unwrap());
    }
    Ok(resp)
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}
