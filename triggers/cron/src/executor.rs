//! Calls a component's `handle-cron-event` export (`fermyon:spin-cron@2.0.0`,
//! world `spin-cron`) in a fresh instance per tick.

use std::sync::Arc;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{one_line, BindError, Binding, EventBounds, Export};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-cron",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}

use bindings::fermyon::spin_cron::cron_types::{Error as GuestError, Metadata};

/// The export every cron component must have.
pub(crate) const EXPORT: Export = Export::Func { name: "handle-cron-event", world: "fermyon:spin-cron@2.0.0" };

/// A component bound to its `handle-cron-event` export.
pub(crate) struct CronExecutor {
    binding: Binding<bindings::SpinCronPre<HostState>>,
    bounds: EventBounds,
}

impl CronExecutor {
    /// Binds the export, each call run within `bounds`; fails (naming the
    /// component) when it is missing or has another signature.
    pub(crate) fn new(component: Arc<PreparedComponent>, bounds: EventBounds) -> Result<Self, BindError> {
        let binding = Binding::new(&component, EXPORT, |pre| bindings::SpinCronPre::new(pre.clone()))?;
        Ok(Self { binding, bounds })
    }

    /// The component id.
    pub(crate) fn id(&self) -> &str {
        self.binding.component().id()
    }

    /// Calls the guest once for the tick at `timestamp` (Unix seconds), within the
    /// event deadline. A guest error, a trap or the deadline is returned as one line.
    pub(crate) async fn call(&self, timestamp: u64) -> Result<(), String> {
        let result = self
            .bounds
            .run(|deadline| async move {
                let bound = self.binding.current();
                let mut store = bound.new_store(&[], deadline)?;
                let guest = bound.pre().instantiate_async(&mut store).await?;
                store.data_mut().instantiated();
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
