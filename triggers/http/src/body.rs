//! The response body type every handler returns.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};

/// Errors a streamed body can end with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, streamable response body.
pub(crate) type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A request body as the executors take it: a client's, or one a guest sent
/// to the app itself (service chaining).
pub(crate) type RequestBody = wasmtime_wasi_http::WasiBody;

/// A client's request body as a [`RequestBody`].
pub(crate) fn from_client(body: hyper::body::Incoming) -> RequestBody {
    body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync()
}

/// A response body as a [`RequestBody`]-typed body for a guest that sent the
/// request to the app itself.
pub(crate) fn to_guest(body: Body) -> RequestBody {
    body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string()))).boxed_unsync()
}

/// A body holding `bytes`.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// An empty body.
pub(crate) fn empty() -> Body {
    full(Bytes::new())
}

/// A bodiless response with `status`.
pub(crate) fn status_only(status: http::StatusCode) -> http::Response<Body> {
    let mut r = http::Response::new(empty());
    *r.status_mut() = status;
    r
}

/// A guest's response body as a [`Body`], keeping `held` (the request's
/// concurrency permit) until the body has been read to its end or dropped: one
/// layer, so the permit costs no extra boxing per response.
pub(crate) fn holding<T: Send + Unpin + 'static>(body: RequestBody, held: T) -> Body {
    Holding { body, _held: held }.boxed_unsync()
}

struct Holding<T> {
    body: RequestBody,
    _held: T,
}

impl<T: Unpin> http_body::Body for Holding<T> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        std::pin::Pin::new(&mut this.body).poll_frame(cx).map_err(|e| Box::new(e) as BoxError)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A response body that cancels the guest task still writing it when the
/// client goes away first (the body is dropped before its end).
pub(crate) struct CancelOnDrop {
    inner: Body,
    guest: Option<tokio::task::AbortHandle>,
}

impl CancelOnDrop {
    /// Wraps `inner`, written by the task behind `guest`.
    pub(crate) fn wrap(inner: Body, guest: tokio::task::AbortHandle) -> Body {
        Self { inner, guest: Some(guest) }.boxed_unsync()
    }
}

impl http_body::Body for CancelOnDrop {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(None) = polled {
            // Read to the end: the guest may finish whatever it does after its response.
            self.guest = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(guest) = self.guest.take() {
            guest.abort();
        }
    }
}
