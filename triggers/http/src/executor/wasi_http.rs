//! `wasi:http/incoming-handler@0.2.x`: a fresh instance per request, the response
//! streamed back as soon as the guest sets it.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::WasiHttpView as _;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::BindError;

use crate::body::BoxError;
use crate::executor::{answer_from_guest, Answer, Guest, GuestRequest, WASI_HTTP};

/// Executor for wasi-http components.
pub(crate) struct WasiHttpExecutor(Guest<ProxyPre<HostState>>);

impl WasiHttpExecutor {
    /// Binds the component's `incoming-handler` export.
    pub(crate) fn new(component: Arc<PreparedComponent>) -> Result<Self, BindError> {
        Guest::bind(&component, WASI_HTTP, |pre| ProxyPre::new(pre.clone())).map(Self)
    }

    /// Handles one request (see [`answer_from_guest`]): the response is
    /// answered as soon as the guest sets its `response-outparam`.
    pub(crate) async fn execute(&self, GuestRequest { req, deadline, slot }: GuestRequest) -> Answer {
        let bound = self.0.current();
        let mut store = bound.new_store(&[], deadline)?;
        let (out_tx, out_rx) = tokio::sync::oneshot::channel();
        let scheme = wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http;
        let req = store.data_mut().http().new_incoming_request(scheme, req)?;
        let out = store.data_mut().http().new_response_outparam(out_tx)?;
        let proxy = bound.pre().instantiate_async(&mut store).await?;
        answer_from_guest(&self.0, deadline, slot, |answer| async move {
            let call = proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out);
            tokio::pin!(call);
            let mut out_rx = out_rx;
            let mut answer = Some(answer);
            loop {
                tokio::select! {
                    biased;
                    set = &mut out_rx, if answer.is_some() => {
                        let tx = answer.take();
                        if let (Some(tx), Ok(set)) = (tx, set) {
                            let _ = tx.send(outparam_answer(set));
                        }
                    }
                    result = &mut call => {
                        // The guest may have set its response in the same poll it returned.
                        if let (Some(tx), Ok(set)) = (answer.take(), out_rx.try_recv()) {
                            let _ = tx.send(outparam_answer(set));
                        }
                        return result;
                    }
                }
            }
        })
        .await
    }
}

/// What the guest set as its `response-outparam`, as the request side's answer.
fn outparam_answer(
    set: Result<
        http::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>,
        wasmtime_wasi_http::p2::bindings::http::types::ErrorCode,
    >,
) -> Answer {
    match set {
        Ok(resp) => Ok(resp.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync())),
        Err(code) => Err(anyhow::anyhow!("the guest answered with error {code:?}")),
    }
}
