//! Calls a component's `handle-cron-event` export (`fermyon:spin-cron@2.0.0`,
//! world `spin-cron`) in a fresh instance per tick.

use std::sync::Arc;
use std::time::Duration;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::run_event;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-cron",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}

use bindings::fermyon::spin_cron::cron_types::{Error as GuestError, Metadata};

/// A component bound to its `handle-cron-event` export.
pub struct CronExecutor {
    component: Arc<PreparedComponent>,
    pre: bindings::SpinCronPre<HostState>,
    timeout: Option<Duration>,
}

impl CronExecutor {
    /// Binds the export, each call bounded by `timeout`; fails (naming the
    /// component) when it is missing or has another signature.
    pub fn new(component: Arc<PreparedComponent>, timeout: Option<Duration>) -> anyhow::Result<Self> {
        let pre = bindings::SpinCronPre::new(component.instance_pre().clone()).map_err(|e| {
            anyhow::anyhow!(
                "component `{}` is not a cron component: it must export `handle-cron-event: func(metadata) -> result<_, error>` of fermyon:spin-cron@2.0.0 ({}; it exports {})",
                component.id(),
                e.to_string().lines().next().unwrap_or_default(),
                component.describe_exports()
            )
        })?;
        Ok(Self { component, pre, timeout })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        self.component.id()
    }

    /// Calls the guest once for the tick at `timestamp` (Unix seconds), within the
    /// event deadline. A guest error, a trap or the deadline is returned as one line.
    pub async fn call(&self, timestamp: u64) -> Result<(), String> {
        let result = run_event(self.timeout, |deadline| async move {
            let mut store = self.component.new_store(&[], deadline)?;
            let guest = self.pre.instantiate_async(&mut store).await?;
            let metadata = Metadata { timestamp };
            anyhow::Ok(guest.call_handle_cron_event(&mut store, metadata).await?)
        })
        .await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(GuestError::Other(msg))) => Err(format!("the handler returned an error: {msg}")),
            Err(e) => Err(one_line(&e)),
        }
    }
}

/// The error chain without wasm backtraces, each cause cut to its first line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .filter(|s| !s.starts_with("error while executing at wasm backtrace"))
        .filter_map(|s| s.lines().next().map(|l| l.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}
