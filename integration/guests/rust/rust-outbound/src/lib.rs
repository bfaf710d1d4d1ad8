//! Outbound HTTP with the SDK's async `spin_sdk::http::send`.
//!
//! Reads the target from the query `url=<target>` (percent-decoded) and GETs it.
//! * success: 200 `status=<upstream status>;body=<upstream body>`
//! * send error: 502 `error=<Debug of spin_sdk::http::SendError>`,
//!   e.g. `error=Http(ErrorCode::HttpRequestDenied)` for a host that is not
//!   in `allowed_outbound_hosts`.
//! * no `url` in the query: 400 `missing url query parameter`.
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let Some(url) = form_urlencoded::parse(req.query().as_bytes())
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned())
    else {
        return Ok(text(400, "missing url query parameter".to_string()));
    };

    let outbound = Request::builder().method(Method::Get).uri(url).build();
    match spin_sdk::http::send::<_, Response>(outbound).await {
        Ok(resp) => Ok(text(
            200,
            format!(
                "status={};body={}",
                resp.status(),
                String::from_utf8_lossy(resp.body())
            ),
        )),
        Err(e) => Ok(text(502, format!("error={e:?}"))),
    }
}

fn text(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body)
        .build()
}
