//! The response body type every handler returns.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};

/// Errors a streamed body can end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, streamable response body.
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// A bodiless response with `status`.
pub fn status_only(status: http::StatusCode) -> http::Response<Body> {
    let mut r = http::Response::new(empty());
    *r.status_mut() = status;
    r
}
