//! `wasi:http/types` of the 2023-10-18 pre-release, over wasmtime's 0.2
//! implementation.
//!
//! What differs from 0.2: constructors take every part at once and borrow their
//! headers (so the headers are copied), header operations cannot fail (a header
//! 0.2 refuses traps), trailers are always present once ready (an empty set when
//! the peer sent none), and errors are four strings instead of `error-code`.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable};
use wasmtime_wasi_http::p2::bindings::http::types as latest;
use wasmtime_wasi_http::p2::body::{HostFutureTrailers, HostIncomingBody, HostOutgoingBody};
use wasmtime_wasi_http::p2::types::{
    HostFutureIncomingResponse, HostIncomingRequest, HostIncomingResponse, HostOutgoingRequest, HostOutgoingResponse,
    HostResponseOutparam,
};
use wasmtime_wasi_http::p2::{HeaderError, HttpError};
use wasmtime_wasi_http::{FieldMap, WasiHttpCtxView};

use super::super::delegations;
use super::bindings::wasi::http::types::{
    Error, Host, HostFields, HostFutureIncomingResponse as RcFutureIncomingResponse,
    HostFutureTrailers as RcFutureTrailers, HostIncomingBody as RcIncomingBody,
    HostIncomingRequest as RcIncomingRequest, HostIncomingResponse as RcIncomingResponse,
    HostOutgoingBody as RcOutgoingBody, HostOutgoingRequest as RcOutgoingRequest,
    HostOutgoingResponse as RcOutgoingResponse, HostResponseOutparam as RcResponseOutparam, Method, Scheme, StatusCode,
};

impl Host for WasiHttpCtxView<'_> {}

delegations::fields!(HostFields {
    fn new(&mut self, entries: Vec<(String, Vec<u8>)>) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostFields::from_list(self, entries).map_err(header_trap)
    }

    fn set(&mut self, fields: Resource<FieldMap>, name: String, value: Vec<Vec<u8>>) -> wasmtime::Result<()> {
        latest::HostFields::set(self, fields, name, value).map_err(header_trap)
    }

    fn delete(&mut self, fields: Resource<FieldMap>, name: String) -> wasmtime::Result<()> {
        latest::HostFields::delete(self, fields, name).map_err(header_trap)
    }

    fn append(&mut self, fields: Resource<FieldMap>, name: String, value: Vec<u8>) -> wasmtime::Result<()> {
        latest::HostFields::append(self, fields, name, value).map_err(header_trap)
    }
});

delegations::incoming_request!(RcIncomingRequest);

impl RcOutgoingRequest for WasiHttpCtxView<'_> {
    fn new(
        &mut self,
        method: Method,
        path_with_query: Option<String>,
        scheme: Option<Scheme>,
        authority: Option<String>,
        headers: Resource<FieldMap>,
    ) -> wasmtime::Result<Resource<HostOutgoingRequest>> {
        let headers = latest::HostFields::clone(self, headers)?;
        let request = latest::HostOutgoingRequest::new(self, headers)?;
        let borrowed = || Resource::new_borrow(request.rep());
        let set = [
            ("method", latest::HostOutgoingRequest::set_method(self, borrowed(), method.into())?),
            ("path", latest::HostOutgoingRequest::set_path_with_query(self, borrowed(), path_with_query)?),
            ("scheme", latest::HostOutgoingRequest::set_scheme(self, borrowed(), scheme.map(Into::into))?),
            ("authority", latest::HostOutgoingRequest::set_authority(self, borrowed(), authority)?),
        ];
        if let Some((part, _)) = set.iter().find(|(_, outcome)| outcome.is_err()) {
            latest::HostOutgoingRequest::drop(self, request)?;
            wasmtime::bail!("outgoing-request: invalid {part}");
        }
        Ok(request)
    }

    fn write(
        &mut self,
        request: Resource<HostOutgoingRequest>,
    ) -> wasmtime::Result<Result<Resource<HostOutgoingBody>, ()>> {
        latest::HostOutgoingRequest::body(self, request)
    }

    fn drop(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<()> {
        latest::HostOutgoingRequest::drop(self, request)
    }
}

delegations::response_outparam!(RcResponseOutparam, Error);

delegations::incoming_response!(RcIncomingResponse);

delegations::incoming_body!(RcIncomingBody);

delegations::future_trailers!(RcFutureTrailers {
    fn get(
        &mut self,
        trailers: Resource<HostFutureTrailers>,
    ) -> wasmtime::Result<Option<Result<Resource<FieldMap>, Error>>> {
        Ok(match latest::HostFutureTrailers::get(self, trailers)? {
            None => None,
            Some(Err(())) => Some(Err(Error::UnexpectedError("the trailers were already taken".into()))),
            Some(Ok(Ok(Some(fields)))) => Some(Ok(fields)),
            Some(Ok(Ok(None))) => Some(Ok(latest::HostFields::new(self)?)),
            Some(Ok(Err(code))) => Some(Err(code.into())),
        })
    }
});

impl RcOutgoingResponse for WasiHttpCtxView<'_> {
    fn new(
        &mut self,
        status: StatusCode,
        headers: Resource<FieldMap>,
    ) -> wasmtime::Result<Resource<HostOutgoingResponse>> {
        let headers = latest::HostFields::clone(self, headers)?;
        let response = latest::HostOutgoingResponse::new(self, headers)?;
        if latest::HostOutgoingResponse::set_status_code(self, Resource::new_borrow(response.rep()), status)?.is_err() {
            latest::HostOutgoingResponse::drop(self, response)?;
            wasmtime::bail!("outgoing-response: invalid status code {status}");
        }
        Ok(response)
    }

    fn write(
        &mut self,
        response: Resource<HostOutgoingResponse>,
    ) -> wasmtime::Result<Result<Resource<HostOutgoingBody>, ()>> {
        latest::HostOutgoingResponse::body(self, response)
    }

    fn drop(&mut self, response: Resource<HostOutgoingResponse>) -> wasmtime::Result<()> {
        latest::HostOutgoingResponse::drop(self, response)
    }
}

delegations::outgoing_body!(RcOutgoingBody {
    fn finish(
        &mut self,
        body: Resource<HostOutgoingBody>,
        trailers: Option<Resource<FieldMap>>,
    ) -> wasmtime::Result<()> {
        latest::HostOutgoingBody::finish(self, body, trailers).map_err(http_trap)
    }
});

delegations::future_incoming_response!(RcFutureIncomingResponse, Error);

/// A header 0.2 refuses, as the trap the pre-release (whose header calls
/// cannot fail) gives instead.
fn header_trap(err: HeaderError) -> wasmtime::Error {
    match err.downcast() {
        Ok(refused) => wasmtime::Error::msg(format!("header refused: {refused:?}")),
        Err(trap) => trap,
    }
}

/// A 0.2 `error-code` where the pre-release has no error to return, as a trap.
fn http_trap(err: HttpError) -> wasmtime::Error {
    match err.downcast() {
        Ok(code) => wasmtime::Error::msg(format!("HTTP error: {code:?}")),
        Err(trap) => trap,
    }
}

/// 0.2's `error-code` as one of the pre-release's four errors: the name of the
/// code (and its details) as its text.
impl From<latest::ErrorCode> for Error {
    fn from(code: latest::ErrorCode) -> Self {
        use latest::ErrorCode as C;
        let text = format!("{code:?}");
        match code {
            C::HttpRequestUriInvalid => Error::InvalidUrl(text),
            C::ConnectionTimeout | C::ConnectionReadTimeout | C::ConnectionWriteTimeout | C::HttpResponseTimeout => {
                Error::TimeoutError(text)
            }
            C::HttpProtocolError
            | C::HttpResponseIncomplete
            | C::HttpResponseHeaderSectionSize(_)
            | C::HttpResponseHeaderSize(_)
            | C::HttpResponseBodySize(_)
            | C::HttpResponseTrailerSectionSize(_)
            | C::HttpResponseTrailerSize(_)
            | C::HttpResponseTransferCoding(_)
            | C::HttpResponseContentCoding(_) => Error::ProtocolError(text),
            _ => Error::UnexpectedError(text),
        }
    }
}

/// The guest's error for its response, as 0.2's `error-code`.
impl From<Error> for latest::ErrorCode {
    fn from(err: Error) -> Self {
        let text = match err {
            Error::InvalidUrl(t) | Error::TimeoutError(t) | Error::ProtocolError(t) | Error::UnexpectedError(t) => t,
        };
        latest::ErrorCode::InternalError(Some(text))
    }
}

super::super::same_methods_and_schemes!(super::bindings::wasi::http::types);
