//! `wasi:http/incoming-handler@0.2.x`, and its 2023-10-18 pre-release: a fresh
//! instance per request, the response streamed back as soon as the guest sets it.
//! Both versions take the same host request and response objects, so one
//! executor serves them through [`IncomingHandler`].

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt as _;
use wasmtime::component::{InstancePre, Resource};
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};
use wasmtime_wasi_http::WasiHttpView as _;

use spin_engine::host::{HostState, Rc20231018ProxyPre};
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{BindError, Export};

use crate::body::BoxError;
use crate::executor::{answer_from_guest, Answer, Guest, GuestRequest, WASI_HTTP, WASI_HTTP_RC_2023_10_18};

/// The generated bindings of one version of the `incoming-handler` export.
pub(crate) trait IncomingHandler: Sized + Send + Sync + 'static {
    /// The export these bindings call.
    const EXPORT: Export;
    /// An instance of the component.
    type Instance: Send + 'static;
    /// Binds the export of a pre-instantiated component.
    fn bind(pre: &InstancePre<HostState>) -> wasmtime::Result<Self>;
    /// A fresh instance in `store`.
    fn instantiate(
        &self,
        store: &mut Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<Self::Instance>> + Send;
    /// Calls the guest's `handle` with a request and its response slot.
    fn handle(
        instance: &Self::Instance,
        store: &mut Store<HostState>,
        req: Resource<HostIncomingRequest>,
        out: Resource<HostResponseOutparam>,
    ) -> impl Future<Output = wasmtime::Result<()>> + Send;
}

/// Implements [`IncomingHandler`] for one version's generated bindings (their
/// `*Pre` and instance types share method names, not a trait).
macro_rules! incoming_handler {
    ($pre:ty, $instance:ty, $export:expr) => {
        impl IncomingHandler for $pre {
            const EXPORT: Export = $export;
            type Instance = $instance;

            fn bind(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
                Self::new(pre.clone())
            }

            async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Self::Instance> {
                let instance = self.instantiate_async(&mut *store).await?;
                store.data_mut().instantiated();
                Ok(instance)
            }

            async fn handle(
                instance: &Self::Instance,
                store: &mut Store<HostState>,
                req: Resource<HostIncomingRequest>,
                out: Resource<HostResponseOutparam>,
            ) -> wasmtime::Result<()> {
                instance.wasi_http_incoming_handler().call_handle(store, req, out).await
            }
        }
    };
}

incoming_handler!(ProxyPre<HostState>, wasmtime_wasi_http::p2::bindings::Proxy, WASI_HTTP);
incoming_handler!(Rc20231018ProxyPre<HostState>, spin_engine::host::Rc20231018Proxy, WASI_HTTP_RC_2023_10_18);

/// Executor for wasi-http components of the handler version `H`.
pub(crate) struct WasiHttpExecutor<H>(Guest<H>);

impl<H: IncomingHandler> WasiHttpExecutor<H> {
    /// Binds the component's `incoming-handler` export.
    pub(crate) fn new(component: Arc<PreparedComponent>) -> Result<Self, BindError> {
        Guest::bind(&component, H::EXPORT, H::bind).map(Self)
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
        let instance = bound.pre().instantiate(&mut store).await?;
        answer_from_guest(&self.0, deadline, slot, |answer| async move {
            let call = H::handle(&instance, &mut store, req, out);
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
