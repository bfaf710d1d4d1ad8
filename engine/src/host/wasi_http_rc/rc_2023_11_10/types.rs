//! Each function of the pre-release's `wasi:http/types` calls wasmtime's 0.2
//! function of the same name; only `request-options` (names) and
//! `future-trailers.get` (shape) do more than convert the enums. Those the
//! 2023-10-18 pre-release has too are written once, in `delegations`.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, IoError};
use wasmtime_wasi_http::p2::bindings::http::types as latest;
use wasmtime_wasi_http::p2::body::{HostFutureTrailers, HostIncomingBody, HostOutgoingBody};
use wasmtime_wasi_http::p2::types::{
    HostFutureIncomingResponse, HostIncomingRequest, HostIncomingResponse, HostOutgoingRequest, HostOutgoingResponse,
    HostResponseOutparam,
};
use wasmtime_wasi_http::p2::{HeaderError, HttpError};
use wasmtime_wasi_http::{FieldMap, RequestOptions, WasiHttpCtxView};

use super::super::delegations;
use super::bindings::wasi::http::types as rc;
use rc::{Duration, ErrorCode, Method, Scheme, StatusCode};

type HeaderResult<T> = Result<T, HeaderError>;
type HttpResult<T> = Result<T, HttpError>;

impl rc::Host for WasiHttpCtxView<'_> {
    fn convert_error_code(&mut self, err: HttpError) -> wasmtime::Result<ErrorCode> {
        err.downcast().map(ErrorCode::from)
    }

    fn convert_header_error(&mut self, err: HeaderError) -> wasmtime::Result<rc::HeaderError> {
        err.downcast().map(rc::HeaderError::from)
    }

    fn http_error_code(&mut self, err: Resource<IoError>) -> wasmtime::Result<Option<ErrorCode>> {
        Ok(latest::Host::http_error_code(self, err)?.map(ErrorCode::from))
    }
}

delegations::fields!(rc::HostFields {
    fn new(&mut self) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostFields::new(self)
    }

    fn from_list(&mut self, entries: Vec<(String, Vec<u8>)>) -> HeaderResult<Resource<FieldMap>> {
        latest::HostFields::from_list(self, entries)
    }

    fn set(&mut self, fields: Resource<FieldMap>, name: String, value: Vec<Vec<u8>>) -> HeaderResult<()> {
        latest::HostFields::set(self, fields, name, value)
    }

    fn delete(&mut self, fields: Resource<FieldMap>, name: String) -> HeaderResult<()> {
        latest::HostFields::delete(self, fields, name)
    }

    fn append(&mut self, fields: Resource<FieldMap>, name: String, value: Vec<u8>) -> HeaderResult<()> {
        latest::HostFields::append(self, fields, name, value)
    }
});

delegations::incoming_request!(rc::HostIncomingRequest);

impl rc::HostOutgoingRequest for WasiHttpCtxView<'_> {
    fn new(&mut self, headers: Resource<FieldMap>) -> wasmtime::Result<Resource<HostOutgoingRequest>> {
        latest::HostOutgoingRequest::new(self, headers)
    }

    fn body(
        &mut self,
        request: Resource<HostOutgoingRequest>,
    ) -> wasmtime::Result<Result<Resource<HostOutgoingBody>, ()>> {
        latest::HostOutgoingRequest::body(self, request)
    }

    fn method(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<Method> {
        latest::HostOutgoingRequest::method(self, request).map(Method::from)
    }

    fn set_method(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        method: Method,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostOutgoingRequest::set_method(self, request, method.into())
    }

    fn path_with_query(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<Option<String>> {
        latest::HostOutgoingRequest::path_with_query(self, request)
    }

    fn set_path_with_query(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        path_with_query: Option<String>,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostOutgoingRequest::set_path_with_query(self, request, path_with_query)
    }

    fn scheme(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<Option<Scheme>> {
        Ok(latest::HostOutgoingRequest::scheme(self, request)?.map(Scheme::from))
    }

    fn set_scheme(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        scheme: Option<Scheme>,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostOutgoingRequest::set_scheme(self, request, scheme.map(Into::into))
    }

    fn authority(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<Option<String>> {
        latest::HostOutgoingRequest::authority(self, request)
    }

    fn set_authority(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        authority: Option<String>,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostOutgoingRequest::set_authority(self, request, authority)
    }

    fn headers(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostOutgoingRequest::headers(self, request)
    }

    fn drop(&mut self, request: Resource<HostOutgoingRequest>) -> wasmtime::Result<()> {
        latest::HostOutgoingRequest::drop(self, request)
    }
}

/// The pre-release's `request-options`: 0.2's, with `-ms` in its names (the
/// values are nanoseconds in both, despite the name).
impl rc::HostRequestOptions for WasiHttpCtxView<'_> {
    fn new(&mut self) -> wasmtime::Result<Resource<RequestOptions>> {
        latest::HostRequestOptions::new(self)
    }

    fn connect_timeout_ms(&mut self, options: Resource<RequestOptions>) -> wasmtime::Result<Option<Duration>> {
        latest::HostRequestOptions::connect_timeout(self, options)
    }

    fn set_connect_timeout_ms(
        &mut self,
        options: Resource<RequestOptions>,
        ms: Option<Duration>,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostRequestOptions::set_connect_timeout(self, options, ms)
    }

    fn first_byte_timeout_ms(&mut self, options: Resource<RequestOptions>) -> wasmtime::Result<Option<Duration>> {
        latest::HostRequestOptions::first_byte_timeout(self, options)
    }

    fn set_first_byte_timeout_ms(
        &mut self,
        options: Resource<RequestOptions>,
        ms: Option<Duration>,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostRequestOptions::set_first_byte_timeout(self, options, ms)
    }

    fn between_bytes_timeout_ms(&mut self, options: Resource<RequestOptions>) -> wasmtime::Result<Option<Duration>> {
        latest::HostRequestOptions::between_bytes_timeout(self, options)
    }

    fn set_between_bytes_timeout_ms(
        &mut self,
        options: Resource<RequestOptions>,
        ms: Option<Duration>,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostRequestOptions::set_between_bytes_timeout(self, options, ms)
    }

    fn drop(&mut self, options: Resource<RequestOptions>) -> wasmtime::Result<()> {
        latest::HostRequestOptions::drop(self, options)
    }
}

delegations::response_outparam!(rc::HostResponseOutparam, ErrorCode);

delegations::incoming_response!(rc::HostIncomingResponse);

delegations::incoming_body!(rc::HostIncomingBody);

delegations::future_trailers!(rc::HostFutureTrailers {
    /// 0.2's `get` tells a second call apart (`err`); the pre-release has no
    /// such case, so a second call traps, as wasmtime of that time did.
    #[allow(clippy::type_complexity, reason = "the WIT's own result shape")]
    fn get(
        &mut self,
        trailers: Resource<HostFutureTrailers>,
    ) -> wasmtime::Result<Option<Result<Option<Resource<FieldMap>>, ErrorCode>>> {
        match latest::HostFutureTrailers::get(self, trailers)? {
            None => Ok(None),
            Some(Ok(outcome)) => Ok(Some(outcome.map_err(ErrorCode::from))),
            Some(Err(())) => wasmtime::bail!("future-trailers.get: the trailers were already taken"),
        }
    }
});

impl rc::HostOutgoingResponse for WasiHttpCtxView<'_> {
    fn new(&mut self, headers: Resource<FieldMap>) -> wasmtime::Result<Resource<HostOutgoingResponse>> {
        latest::HostOutgoingResponse::new(self, headers)
    }

    fn status_code(&mut self, response: Resource<HostOutgoingResponse>) -> wasmtime::Result<StatusCode> {
        latest::HostOutgoingResponse::status_code(self, response)
    }

    fn set_status_code(
        &mut self,
        response: Resource<HostOutgoingResponse>,
        status: StatusCode,
    ) -> wasmtime::Result<Result<(), ()>> {
        latest::HostOutgoingResponse::set_status_code(self, response, status)
    }

    fn headers(&mut self, response: Resource<HostOutgoingResponse>) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostOutgoingResponse::headers(self, response)
    }

    fn body(
        &mut self,
        response: Resource<HostOutgoingResponse>,
    ) -> wasmtime::Result<Result<Resource<HostOutgoingBody>, ()>> {
        latest::HostOutgoingResponse::body(self, response)
    }

    fn drop(&mut self, response: Resource<HostOutgoingResponse>) -> wasmtime::Result<()> {
        latest::HostOutgoingResponse::drop(self, response)
    }
}

delegations::outgoing_body!(rc::HostOutgoingBody {
    fn finish(&mut self, body: Resource<HostOutgoingBody>, trailers: Option<Resource<FieldMap>>) -> HttpResult<()> {
        latest::HostOutgoingBody::finish(self, body, trailers)
    }
});

delegations::future_incoming_response!(rc::HostFutureIncomingResponse, ErrorCode);
