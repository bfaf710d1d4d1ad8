//! Calling a component's `fermyon:spin/inbound-redis` export, one fresh instance per message.

use std::sync::Arc;
use std::time::Duration;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{bind_export, run_event, BindError, Export};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-v1",
        world: "fermyon:spin/redis-trigger",
        exports: { default: async },
    });
}

/// The export every Redis component must have.
pub(crate) const INBOUND_REDIS: Export = Export::Interface("fermyon:spin/inbound-redis");

/// A component bound to its Redis handler export.
pub(crate) struct RedisExecutor {
    component: Arc<PreparedComponent>,
    pre: bindings::RedisTriggerPre<HostState>,
    timeout: Option<Duration>,
}

impl RedisExecutor {
    /// Binds `component`'s `inbound-redis` export, each call bounded by `timeout`;
    /// the error names the component and what it exports instead.
    pub(crate) fn new(component: Arc<PreparedComponent>, timeout: Option<Duration>) -> Result<Self, BindError> {
        let pre = bind_export(&component, INBOUND_REDIS, |c| bindings::RedisTriggerPre::new(c.instance_pre().clone()))?;
        Ok(Self { component, pre, timeout })
    }

    /// The component id.
    pub(crate) fn id(&self) -> &str {
        self.component.id()
    }

    /// Handles one message in a fresh instance within the event deadline; a trap,
    /// an `error` result or the deadline is an `Err`.
    #[allow(clippy::ptr_arg)] // the generated binding takes `&Vec<u8>`
    pub(crate) async fn handle(&self, payload: &Vec<u8>) -> anyhow::Result<()> {
        run_event(self.timeout, |deadline| async move {
            let mut store = self.component.new_store(&[], deadline)?;
            let guest = self.pre.instantiate_async(&mut store).await?;
            guest
                .fermyon_spin_inbound_redis()
                .call_handle_message(&mut store, payload)
                .await?
                .map_err(|e| anyhow::anyhow!("the handler returned {e:?}"))
        })
        .await
    }
}
