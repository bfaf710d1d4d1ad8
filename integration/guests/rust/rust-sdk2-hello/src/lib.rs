//! The Rust SDK of Spin 2.x (`spin-sdk` 2.2), whose `#[http_component]` speaks
//! the WASI HTTP pre-release `0.2.0-rc-2023-10-18`:
//!
//! * `GET <any path>?url=<target>`: GETs the target; 200
//!   `status=<upstream status>;body=<upstream body>`, or 502 `error=<SendError>`.
//! * `GET /counter/<key>`: adds one to the number at `<key>` in the `default`
//!   key-value store (`fermyon:spin/key-value@2.0.0`) and answers 200 with it.
//! * `POST` anywhere: 200 with the request body, and `x-echo-length` its size.
//! * anything else: 200 `Hello from spin-sdk 2 at <path> route=<spin-component-route>`.
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

#[http_component]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
    if let Some(key) = path.strip_prefix("/counter/") {
        let store = Store::open_default()?;
        let now = store
            .get(key)?
            .and_then(|bytes| String::from_utf8_lossy(&bytes).parse::<u64>().ok())
            .unwrap_or(0);
        store.set(key, (now + 1).to_string().as_bytes())?;
        return Ok(text(200, (now + 1).to_string()));
    }
    let url = form_urlencoded::parse(req.query().as_bytes())
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned());
    if let Some(url) = url {
        let outbound = Request::builder().method(Method::Get).uri(url).build();
        return Ok(match spin_sdk::http::send::<_, Response>(outbound).await {
            Ok(resp) => text(
                200,
                format!("status={};body={}", resp.status(), String::from_utf8_lossy(resp.body())),
            ),
            Err(e) => text(502, format!("error={e:?}")),
        });
    }
    if *req.method() == Method::Post {
        let body = req.body().to_vec();
        return Ok(Response::builder()
            .status(200)
            .header("x-echo-length", body.len().to_string())
            .body(body)
            .build());
    }
    let route = req
        .header("spin-component-route")
        .and_then(|v| v.as_str())
        .unwrap_or("-")
        .to_string();
    Ok(text(200, format!("Hello from spin-sdk 2 at {path} route={route}")))
}

fn text(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body)
        .build()
}
