//! Guest ABIs an HTTP component can export, and picking the one it has.

mod instance_pool;
mod spin_inbound;
mod wagi;
mod wasi_http;
mod wasi_http_p3;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use spin_engine::host::{HostState, Rc20231018ProxyPre};
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{pick_export, BindError, BindFn, Binding, Bound, Export};

use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::body::{Body, RequestBody};
use crate::InstanceReuse;

pub(crate) use spin_inbound::SpinInboundExecutor;
pub(crate) use wagi::WagiExecutor;
pub(crate) use wasi_http::WasiHttpExecutor;
pub(crate) use wasi_http_p3::WasiHttp3Executor;

/// A per-request call into one component, through whichever ABI it exports.
pub(crate) enum Executor {
    /// `wasi:http/incoming-handler@0.2.x`.
    WasiHttp(WasiHttpExecutor<ProxyPre<HostState>>),
    /// `wasi:http/incoming-handler@0.2.0-rc-2023-10-18` (Spin 2.0-era SDKs).
    WasiHttpRc(WasiHttpExecutor<Rc20231018ProxyPre<HostState>>),
    /// `fermyon:spin/inbound-http` (Spin 1 ABI).
    SpinInbound(SpinInboundExecutor),
    /// `wasi:http/handler@0.3.0` (WASI 0.3).
    WasiHttp3(WasiHttp3Executor),
    /// A WASI command run as a CGI program (`executor = { type = "wagi" }`).
    Wagi(WagiExecutor),
}

/// `wasi:http/incoming-handler@0.2.x` (pre-releases are refused by name).
pub(crate) const WASI_HTTP: Export = Export::Release("wasi:http/incoming-handler@0.2");
/// `wasi:http/incoming-handler@0.2.0-rc-2023-10-18`, the pre-release Rust
/// `spin-sdk` 2.1 and 2.2 export.
pub(crate) const WASI_HTTP_RC_2023_10_18: Export = Export::Interface("wasi:http/incoming-handler@0.2.0-rc-2023-10-18");
/// `fermyon:spin/inbound-http`, the Spin 1 ABI.
pub(crate) const SPIN_INBOUND: Export = Export::Interface("fermyon:spin/inbound-http");
/// `wasi:http/handler@0.3.0`, WASI 0.3's handler.
pub(crate) const WASI_HTTP_03: Export = Export::Interface("wasi:http/handler@0.3.0");

impl Executor {
    /// Binds the executor of the one handler export the component has; errors
    /// (naming the component and its exports) when it has none or several.
    /// WASI 0.3 instances are reused as `reuse` says; `request_timeout` is the
    /// longest any request may run. With `wagi_argv` (the trigger's `wagi`
    /// executor), the component runs as a CGI program with that argv template.
    pub(crate) fn for_component(
        component: &Arc<PreparedComponent>,
        reuse: &InstanceReuse,
        request_timeout: Option<Duration>,
        wagi_argv: Option<&str>,
    ) -> Result<Self, BindError> {
        let component = component.clone();
        if let Some(argv) = wagi_argv {
            return Ok(Self::Wagi(WagiExecutor::new(component, argv)?));
        }
        match pick_export(&component, &[WASI_HTTP, SPIN_INBOUND, WASI_HTTP_03, WASI_HTTP_RC_2023_10_18])? {
            0 => Ok(Self::WasiHttp(WasiHttpExecutor::new(component)?)),
            1 => Ok(Self::SpinInbound(SpinInboundExecutor::new(component)?)),
            2 => Ok(Self::WasiHttp3(WasiHttp3Executor::new(component, *reuse, request_timeout)?)),
            _ => Ok(Self::WasiHttpRc(WasiHttpExecutor::new(component)?)),
        }
    }

    /// Calls the guest for one request; `slot` is held while its instance lives.
    pub(crate) async fn execute(
        &self,
        req: http::Request<RequestBody>,
        deadline: Option<Instant>,
        slot: OwnedSemaphorePermit,
        max_buffered_body: u64,
    ) -> anyhow::Result<http::Response<Body>> {
        match self {
            Self::WasiHttp(e) => e.execute(GuestRequest { req, deadline, slot }).await,
            Self::WasiHttpRc(e) => e.execute(GuestRequest { req, deadline, slot }).await,
            Self::WasiHttp3(e) => e.execute(GuestRequest { req, deadline, slot }).await,
            Self::SpinInbound(e) => {
                let _slot = slot;
                e.execute(req, deadline, max_buffered_body).await
            }
            Self::Wagi(e) => {
                let _slot = slot;
                e.execute(req, deadline, max_buffered_body).await
            }
        }
    }
}

/// A component bound to one HTTP export (see [`Binding`]), and its id for the
/// guest task's error log.
pub(crate) struct Guest<P> {
    binding: Binding<P>,
    id: Arc<str>,
}

impl<P> Guest<P> {
    /// Binds `export` of `component` with `bind`.
    pub(crate) fn bind(component: &Arc<PreparedComponent>, export: Export, bind: BindFn<P>) -> Result<Self, BindError> {
        Ok(Self { binding: Binding::new(component, export, bind)?, id: component.id().into() })
    }

    /// The export over the component's current code, for one request or instance.
    pub(crate) fn current(&self) -> Arc<Bound<P>> {
        self.binding.current()
    }
}

/// One request for a guest: the request, its deadline, and its place among the
/// concurrent instances.
pub(crate) struct GuestRequest {
    /// The client's request.
    pub(crate) req: http::Request<RequestBody>,
    /// When the guest is cut off (host calls included).
    pub(crate) deadline: Option<Instant>,
    /// Held while the guest's instance lives.
    pub(crate) slot: OwnedSemaphorePermit,
}

/// What a guest task hands the request side: the response, or why there is none.
pub(crate) type Answer = anyhow::Result<http::Response<Body>>;

/// Runs one guest call in a task of its own that holds `slot` (its place among
/// the concurrent instances) until `call` ends, `deadline` passes (host calls
/// included), or the client goes away. `call` gets the sender for its answer and
/// sends it as soon as the guest has one; the response's body then cancels the
/// guest if the client drops it early. Without an answer, the task's own outcome
/// says why.
pub(crate) async fn answer_from_guest<P, Call>(
    guest: &Guest<P>,
    deadline: Option<Instant>,
    slot: OwnedSemaphorePermit,
    call: impl FnOnce(tokio::sync::oneshot::Sender<Answer>) -> Call,
) -> Answer
where
    Call: std::future::Future<Output = wasmtime::Result<()>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let call = call(tx);
    let id = guest.id.clone();
    let mut guest = AbortOnDrop::new(spin_engine::telemetry::spawn_in_current_trace(async move {
        let _slot = slot;
        let result = within(deadline, call).await;
        if let Err(e) = &result {
            tracing::error!("component `{id}`: {e:?}");
        }
        result
    }));
    match within(deadline, async { Ok(rx.await) }).await? {
        Ok(Ok(resp)) => {
            let abort = guest.disarm();
            Ok(resp.map(|b| crate::body::CancelOnDrop::wrap(b, abort)))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => match guest.task().await {
            Ok(Ok(())) => anyhow::bail!("the guest returned without setting a response"),
            Ok(Err(e)) => Err(e.into()),
            Err(e) => anyhow::bail!("guest task failed: {e}"),
        },
    }
}

/// The whole request body, read within `deadline`, for executors that hand
/// it to the guest at once; `Err` holds the 413 response for a body over
/// `max_body` bytes.
pub(crate) async fn whole_body(
    body: RequestBody,
    deadline: Option<Instant>,
    max_body: u64,
) -> anyhow::Result<Result<bytes::Bytes, http::Response<Body>>> {
    use http_body_util::{BodyExt as _, LengthLimitError, Limited};
    let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
    match within(deadline, async { Ok(Limited::new(body, limit).collect().await) }).await? {
        Ok(collected) => Ok(Ok(collected.to_bytes())),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Ok(Err(crate::body::status_only(http::StatusCode::PAYLOAD_TOO_LARGE)))
        }
        Err(e) => anyhow::bail!("reading the request body: {e}"),
    }
}

/// Runs `work` until `deadline`: past it the work is dropped (which cancels any
/// host call it waits in: a sleep, an outbound request, a database) and the
/// result is the deadline error.
pub(crate) async fn within<T>(
    deadline: Option<Instant>,
    work: impl std::future::Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    match deadline {
        None => work.await,
        Some(at) => tokio::time::timeout_at(at.into(), work)
            .await
            .unwrap_or_else(|_| Err(wasmtime::Error::msg("the guest exceeded its execution deadline"))),
    }
}

/// Aborts the task when dropped: a request whose client went away stops its guest.
pub(crate) struct AbortOnDrop<T>(Option<tokio::task::JoinHandle<T>>);

impl<T> AbortOnDrop<T> {
    pub(crate) fn new(task: tokio::task::JoinHandle<T>) -> Self {
        Self(Some(task))
    }

    /// The task, to await it.
    pub(crate) fn task(&mut self) -> &mut tokio::task::JoinHandle<T> {
        self.0.as_mut().expect("the task is present until disarmed")
    }

    /// Stops guarding: the caller takes over cancelling through the handle.
    pub(crate) fn disarm(mut self) -> tokio::task::AbortHandle {
        self.0.take().expect("the task is present until disarmed").abort_handle()
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}
