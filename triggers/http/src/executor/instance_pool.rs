//! The instances of one WASI 0.3 component, reused across requests as Spin 4
//! does: wasmtime-wasi-http's `ProxyHandler` runs each instance as a worker
//! and asks the policy here when it may take another request, when a request
//! has run out of time, and when an idle or overdue instance must go. A
//! guest's component-model backpressure is honoured by the worker itself, and a
//! trap retires the instance (later requests get a fresh one).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, Proxy, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::WasiHttpView;

use spin_engine::host::HostState;
use spin_engine::telemetry::TraceContext;

use super::Guest;
use crate::InstanceReuse;

/// Makes the instances of one component for the `ProxyHandler`.
pub(crate) struct InstancePool {
    /// The component's pre-instantiated `wasi:http/handler@0.3.0` export.
    pub(crate) guest: Guest<ServicePre<HostState>>,
    /// How long and how widely an instance is reused.
    pub(crate) reuse: InstanceReuse,
    /// The longest a request may run (the upper end of a range), for the
    /// worker-level check of overdue requests.
    pub(crate) request_timeout: Option<Duration>,
}

impl HandlerState for InstancePool {
    type StoreData = HostState;
    type WorkerExpiration = Expiry;
    type WorkerState = Policy;

    async fn instantiate(&self) -> wasmtime::Result<Instance<HostState, Expiry, Policy>> {
        // No per-store deadline: the instance outlives one request, so requests
        // expire through `Policy::on_request_start` and `Expiry`; a guest that
        // computes without pause past the request timeout traps its instance.
        let bound = self.guest.current();
        let mut store = bound.new_reusable_store(self.request_timeout).map_err(wasmtime::Error::from_anyhow)?;
        let service = bound.pre().instantiate_async(&mut store).await?;
        store.data_mut().instantiated();
        let request_timeout = self.request_timeout.unwrap_or(Duration::MAX);
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: <HostState as WasiHttpView>::http,
            expiration: Expiry {
                idle_timeout: self.reuse.idle_timeout.sample(),
                request_timeout,
                timer: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: Policy {
                component: self.guest.id.clone(),
                max_requests: self.reuse.max_requests.sample(),
                max_concurrent: self.reuse.max_concurrent.sample(),
            },
        })
    }
}

/// One instance's limits on the requests it takes.
pub(crate) struct Policy {
    component: std::sync::Arc<str>,
    max_requests: usize,
    max_concurrent: usize,
}

impl WorkerState for Policy {
    type StoreData = HostState;
    /// The request's deadline, if it has one, and its trace, if it is traced.
    type RequestData = (Option<Instant>, Option<TraceContext>);

    fn should_accept_request(&self, concurrent: usize, served: usize) -> ShouldAccept {
        if served >= self.max_requests {
            ShouldAccept::Never
        } else if concurrent >= self.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    /// The returned future ends the request at its deadline; it is dropped
    /// once the guest has answered, which also ends the request's stay in the
    /// instance's traces.
    fn on_request_start(
        &self,
        store: StoreContextMut<'_, HostState>,
        (deadline, trace): Self::RequestData,
        _: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        let serving = trace.zip(store.data().instance_traces()).map(|(trace, traces)| traces.enter(trace));
        Box::pin(async move {
            let _serving = serving;
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        })
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        match result {
            Ok(()) => {}
            // wasmtime-wasi-http gives this error for a worker whose future was
            // dropped before it ended: a panic, or the serving thread's runtime
            // shutting down with the instance still idle in it (a normal stop).
            // Only the first unwinds.
            Err(e) if !std::thread::panicking() && e.to_string() == WORKER_DROPPED => {
                tracing::debug!("component `{}`: instance dropped as its thread stopped", self.component);
            }
            Err(e) => tracing::error!("component `{}`: instance retired: {e:?}", self.component),
        }
        drop(store);
    }
}

/// wasmtime-wasi-http's error for a worker dropped before it ended.
const WORKER_DROPPED: &str = "worker panicked";

/// When an instance is dropped: idle past its idle timeout, or with requests
/// (or work after its responses) running past the request timeout.
pub(crate) struct Expiry {
    idle_timeout: Duration,
    request_timeout: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiry {
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>, status: WorkerStatus, since: Instant) -> Poll<()> {
        let limit = match status {
            WorkerStatus::Idle => self.idle_timeout,
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.request_timeout,
        };
        let Some(at) = since.checked_add(limit) else {
            return Poll::Pending;
        };
        let at = tokio::time::Instant::from_std(at);
        if self.timer.deadline() != at {
            self.timer.as_mut().reset(at);
        }
        self.timer.as_mut().poll(cx)
    }
}
