//! `wasi:http/outgoing-handler` of the 2023-10-18 pre-release: 0.2's handler
//! (so the same `allowed_outbound_hosts` hooks and in-process routes), with the
//! pre-release's millisecond timeouts record turned into 0.2's options resource.

use std::time::Duration;

use wasmtime::component::Resource;
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler as latest;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions as HostRequestOptions, WasiHttpCtxView};

use super::bindings::wasi::http::outgoing_handler::{Error, Host, RequestOptions};

impl Host for WasiHttpCtxView<'_> {
    fn handle(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        options: Option<RequestOptions>,
    ) -> wasmtime::Result<Result<Resource<HostFutureIncomingResponse>, Error>> {
        let options = match options {
            Some(options) => Some(self.table.push(host_options(options))?),
            None => None,
        };
        let lent = options.as_ref().map(|o| Resource::new_borrow(o.rep()));
        let sent = latest::Host::handle(self, request, lent);
        if let Some(options) = options {
            self.table.delete(options)?;
        }
        match sent {
            Ok(future) => Ok(Ok(future)),
            Err(err) => Ok(Err(Error::from(err.downcast()?))),
        }
    }
}

/// The pre-release's timeouts (milliseconds) as 0.2's request options.
fn host_options(options: RequestOptions) -> HostRequestOptions {
    let ms = |t: Option<u32>| t.map(|ms| Duration::from_millis(ms.into()));
    HostRequestOptions {
        connect_timeout: ms(options.connect_timeout_ms),
        first_byte_timeout: ms(options.first_byte_timeout_ms),
        between_bytes_timeout: ms(options.between_bytes_timeout_ms),
    }
}
