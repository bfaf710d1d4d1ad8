//! Each function of the pre-release's `wasi:http/types` calls wasmtime's 0.2
//! function of the same name; only `request-options` (names) and
//! `future-trailers.get` (shape) do more than convert the enums.

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

impl rc::HostFields for WasiHttpCtxView<'_> {
    fn new(&mut self) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostFields::new(self)
    }

    fn from_list(&mut self, entries: Vec<(String, Vec<u8>)>) -> HeaderResult<Resource<FieldMap>> {
        latest::HostFields::from_list(self, entries)
    }

    fn get(&mut self, fields: Resource<FieldMap>, name: String) -> wasmtime::Result<Vec<Vec<u8>>> {
        latest::HostFields::get(self, fields, name)
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

    fn entries(&mut self, fields: Resource<FieldMap>) -> wasmtime::Result<Vec<(String, Vec<u8>)>> {
        latest::HostFields::entries(self, fields)
    }

    fn clone(&mut self, fields: Resource<FieldMap>) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostFields::clone(self, fields)
    }

    fn drop(&mut self, fields: Resource<FieldMap>) -> wasmtime::Result<()> {
        latest::HostFields::drop(self, fields)
    }
}

impl rc::HostIncomingRequest for WasiHttpCtxView<'_> {
    fn method(&mut self, request: Resource<HostIncomingRequest>) -> wasmtime::Result<Method> {
        latest::HostIncomingRequest::method(self, request).map(Method::from)
    }

    fn path_with_query(&mut self, request: Resource<HostIncomingRequest>) -> wasmtime::Result<Option<String>> {
        latest::HostIncomingRequest::path_with_query(self, request)
    }

    fn scheme(&mut self, request: Resource<HostIncomingRequest>) -> wasmtime::Result<Option<Scheme>> {
        Ok(latest::HostIncomingRequest::scheme(self, request)?.map(Scheme::from))
    }

    fn authority(&mut self, request: Resource<HostIncomingRequest>) -> wasmtime::Result<Option<String>> {
        latest::HostIncomingRequest::authority(self, request)
    }

    fn headers(&mut self, request: Resource<HostIncomingRequest>) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostIncomingRequest::headers(self, request)
    }

    fn consume(
        &mut self,
        request: Resource<HostIncomingRequest>,
    ) -> wasmtime::Result<Result<Resource<HostIncomingBody>, ()>> {
        latest::HostIncomingRequest::consume(self, request)
    }

    fn drop(&mut self, request: Resource<HostIncomingRequest>) -> wasmtime::Result<()> {
        latest::HostIncomingRequest::drop(self, request)
    }
}

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

impl rc::HostResponseOutparam for WasiHttpCtxView<'_> {
    fn set(
        &mut self,
        param: Resource<HostResponseOutparam>,
        response: Result<Resource<HostOutgoingResponse>, ErrorCode>,
    ) -> wasmtime::Result<()> {
        latest::HostResponseOutparam::set(self, param, response.map_err(Into::into))
    }

    fn drop(&mut self, param: Resource<HostResponseOutparam>) -> wasmtime::Result<()> {
        latest::HostResponseOutparam::drop(self, param)
    }
}

impl rc::HostIncomingResponse for WasiHttpCtxView<'_> {
    fn status(&mut self, response: Resource<HostIncomingResponse>) -> wasmtime::Result<StatusCode> {
        latest::HostIncomingResponse::status(self, response)
    }

    fn headers(&mut self, response: Resource<HostIncomingResponse>) -> wasmtime::Result<Resource<FieldMap>> {
        latest::HostIncomingResponse::headers(self, response)
    }

    fn consume(
        &mut self,
        response: Resource<HostIncomingResponse>,
    ) -> wasmtime::Result<Result<Resource<HostIncomingBody>, ()>> {
        latest::HostIncomingResponse::consume(self, response)
    }

    fn drop(&mut self, response: Resource<HostIncomingResponse>) -> wasmtime::Result<()> {
        latest::HostIncomingResponse::drop(self, response)
    }
}

impl rc::HostIncomingBody for WasiHttpCtxView<'_> {
    fn stream(&mut self, body: Resource<HostIncomingBody>) -> wasmtime::Result<Result<Resource<DynInputStream>, ()>> {
        latest::HostIncomingBody::stream(self, body)
    }

    fn finish(&mut self, body: Resource<HostIncomingBody>) -> wasmtime::Result<Resource<HostFutureTrailers>> {
        latest::HostIncomingBody::finish(self, body)
    }

    fn drop(&mut self, body: Resource<HostIncomingBody>) -> wasmtime::Result<()> {
        latest::HostIncomingBody::drop(self, body)
    }
}

impl rc::HostFutureTrailers for WasiHttpCtxView<'_> {
    fn subscribe(&mut self, trailers: Resource<HostFutureTrailers>) -> wasmtime::Result<Resource<DynPollable>> {
        latest::HostFutureTrailers::subscribe(self, trailers)
    }

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

    fn drop(&mut self, trailers: Resource<HostFutureTrailers>) -> wasmtime::Result<()> {
        latest::HostFutureTrailers::drop(self, trailers)
    }
}

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

impl rc::HostOutgoingBody for WasiHttpCtxView<'_> {
    fn write(&mut self, body: Resource<HostOutgoingBody>) -> wasmtime::Result<Result<Resource<DynOutputStream>, ()>> {
        latest::HostOutgoingBody::write(self, body)
    }

    fn finish(&mut self, body: Resource<HostOutgoingBody>, trailers: Option<Resource<FieldMap>>) -> HttpResult<()> {
        latest::HostOutgoingBody::finish(self, body, trailers)
    }

    fn drop(&mut self, body: Resource<HostOutgoingBody>) -> wasmtime::Result<()> {
        latest::HostOutgoingBody::drop(self, body)
    }
}

impl rc::HostFutureIncomingResponse for WasiHttpCtxView<'_> {
    fn subscribe(&mut self, response: Resource<HostFutureIncomingResponse>) -> wasmtime::Result<Resource<DynPollable>> {
        latest::HostFutureIncomingResponse::subscribe(self, response)
    }

    #[allow(clippy::type_complexity, reason = "the WIT's own result shape")]
    fn get(
        &mut self,
        response: Resource<HostFutureIncomingResponse>,
    ) -> wasmtime::Result<Option<Result<Result<Resource<HostIncomingResponse>, ErrorCode>, ()>>> {
        let ready = latest::HostFutureIncomingResponse::get(self, response)?;
        Ok(ready.map(|taken| taken.map(|outcome| outcome.map_err(ErrorCode::from))))
    }

    fn drop(&mut self, response: Resource<HostFutureIncomingResponse>) -> wasmtime::Result<()> {
        latest::HostFutureIncomingResponse::drop(self, response)
    }
}
