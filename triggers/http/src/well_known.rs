//! `/.well-known/spin/health` and `/.well-known/spin/info`, answered before routing.

use bytes::Bytes;
use http::{Response, StatusCode};

use spin_engine::locked::LockedApp;

/// The reserved path prefix.
pub(crate) const PREFIX: &str = "/.well-known/spin/";

/// The pre-rendered `info` body, computed once at start-up.
pub(crate) fn info_body(app: &LockedApp) -> Bytes {
    let mut info = serde_json::Map::new();
    info.insert("name".into(), app.name().unwrap_or_default().into());
    if let Some(v) = app.version() {
        info.insert("version".into(), v.into());
    }
    if let Some(d) = app.metadata.get("oci_image_digest") {
        info.insert("oci_image_digest".into(), d.clone());
    }
    serde_json::to_string_pretty(&info).unwrap_or_default().into()
}

/// Answers a request under [`PREFIX`].
pub(crate) fn respond(path: &str, info: &Bytes) -> Response<Bytes> {
    let (status, ctype, body) = match path.strip_prefix(PREFIX) {
        Some("health") => (StatusCode::OK, "text/plain", Bytes::from_static(b"OK")),
        Some("info") => (StatusCode::OK, "application/json", info.clone()),
        _ => (StatusCode::NOT_FOUND, "text/plain", Bytes::new()),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    if status == StatusCode::OK {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(ctype));
    }
    resp
}
