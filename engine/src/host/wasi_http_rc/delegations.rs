//! The `wasi:http/types` functions both pre-releases have with one shape, as
//! macros that implement a version's generated trait by calling 0.2's
//! function. Type names (`Method`, `Scheme`, the error type given) resolve
//! where a macro is used, to that version's own; the enums convert with the
//! `From` impls of `same_cases!`. A trait whose other functions differ takes
//! them in braces after its name.

/// `incoming-request`, whole.
macro_rules! incoming_request {
    ($trait:path) => {
        impl $trait for WasiHttpCtxView<'_> {
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
    };
}

/// `incoming-response`, whole.
macro_rules! incoming_response {
    ($trait:path) => {
        impl $trait for WasiHttpCtxView<'_> {
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
    };
}

/// `incoming-body`, whole.
macro_rules! incoming_body {
    ($trait:path) => {
        impl $trait for WasiHttpCtxView<'_> {
            fn stream(
                &mut self,
                body: Resource<HostIncomingBody>,
            ) -> wasmtime::Result<Result<Resource<DynInputStream>, ()>> {
                latest::HostIncomingBody::stream(self, body)
            }

            fn finish(&mut self, body: Resource<HostIncomingBody>) -> wasmtime::Result<Resource<HostFutureTrailers>> {
                latest::HostIncomingBody::finish(self, body)
            }

            fn drop(&mut self, body: Resource<HostIncomingBody>) -> wasmtime::Result<()> {
                latest::HostIncomingBody::drop(self, body)
            }
        }
    };
}

/// `response-outparam`, whole; `$error` is the version's error type.
macro_rules! response_outparam {
    ($trait:path, $error:ty) => {
        impl $trait for WasiHttpCtxView<'_> {
            fn set(
                &mut self,
                param: Resource<HostResponseOutparam>,
                response: Result<Resource<HostOutgoingResponse>, $error>,
            ) -> wasmtime::Result<()> {
                latest::HostResponseOutparam::set(self, param, response.map_err(Into::into))
            }

            fn drop(&mut self, param: Resource<HostResponseOutparam>) -> wasmtime::Result<()> {
                latest::HostResponseOutparam::drop(self, param)
            }
        }
    };
}

/// `future-incoming-response`, whole; `$error` is the version's error type.
macro_rules! future_incoming_response {
    ($trait:path, $error:ty) => {
        impl $trait for WasiHttpCtxView<'_> {
            #[allow(clippy::type_complexity, reason = "the WIT's own result shape")]
            fn get(
                &mut self,
                response: Resource<HostFutureIncomingResponse>,
            ) -> wasmtime::Result<Option<Result<Result<Resource<HostIncomingResponse>, $error>, ()>>> {
                let ready = latest::HostFutureIncomingResponse::get(self, response)?;
                Ok(ready.map(|taken| taken.map(|outcome| outcome.map_err(Into::into))))
            }

            fn subscribe(
                &mut self,
                response: Resource<HostFutureIncomingResponse>,
            ) -> wasmtime::Result<Resource<DynPollable>> {
                latest::HostFutureIncomingResponse::subscribe(self, response)
            }

            fn drop(&mut self, response: Resource<HostFutureIncomingResponse>) -> wasmtime::Result<()> {
                latest::HostFutureIncomingResponse::drop(self, response)
            }
        }
    };
}

/// `fields`: `get`, `entries`, `clone` and `drop`, and the version's own.
macro_rules! fields {
    ($trait:path { $($own:tt)* }) => {
        impl $trait for WasiHttpCtxView<'_> {
            fn get(&mut self, fields: Resource<FieldMap>, name: String) -> wasmtime::Result<Vec<Vec<u8>>> {
                latest::HostFields::get(self, fields, name)
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

            $($own)*
        }
    };
}

/// `future-trailers`: `subscribe` and `drop`, and the version's own `get`.
macro_rules! future_trailers {
    ($trait:path { $($own:tt)* }) => {
        impl $trait for WasiHttpCtxView<'_> {
            fn subscribe(&mut self, trailers: Resource<HostFutureTrailers>) -> wasmtime::Result<Resource<DynPollable>> {
                latest::HostFutureTrailers::subscribe(self, trailers)
            }

            fn drop(&mut self, trailers: Resource<HostFutureTrailers>) -> wasmtime::Result<()> {
                latest::HostFutureTrailers::drop(self, trailers)
            }

            $($own)*
        }
    };
}

/// `outgoing-body`: `write` and `drop`, and the version's own `finish`.
macro_rules! outgoing_body {
    ($trait:path { $($own:tt)* }) => {
        impl $trait for WasiHttpCtxView<'_> {
            fn write(
                &mut self,
                body: Resource<HostOutgoingBody>,
            ) -> wasmtime::Result<Result<Resource<DynOutputStream>, ()>> {
                latest::HostOutgoingBody::write(self, body)
            }

            fn drop(&mut self, body: Resource<HostOutgoingBody>) -> wasmtime::Result<()> {
                latest::HostOutgoingBody::drop(self, body)
            }

            $($own)*
        }
    };
}

pub(super) use {
    fields, future_incoming_response, future_trailers, incoming_body, incoming_request, incoming_response,
    outgoing_body, response_outparam,
};
