//! Calls a component's `handle-message` export (the unversioned
//! `spin:mqtt-trigger` world) for one message, in a fresh instance.

use std::sync::Arc;

use anyhow::Context as _;
use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{BindError, Binding, EventBounds, Export};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-mqtt-trigger",
        world: "spin:mqtt-trigger/spin-mqtt",
        exports: { default: async },
    });
}

use bindings::spin::mqtt_trigger::spin_mqtt_types::{Error, Metadata};

/// The handler export.
pub(crate) const EXPORT: Export = Export::Func { name: "handle-message", world: "spin:mqtt-trigger" };

/// A component bound to the MQTT handler export.
pub(crate) struct MqttExecutor {
    binding: Binding<bindings::SpinMqttPre<HostState>>,
    bounds: EventBounds,
}

impl MqttExecutor {
    /// Binds the component's `handle-message` export, each call run within
    /// `bounds`; the error names the component and what it exports instead.
    pub(crate) fn new(component: Arc<PreparedComponent>, bounds: EventBounds) -> Result<Self, BindError> {
        let binding = Binding::new(&component, EXPORT, |pre| bindings::SpinMqttPre::new(pre.clone()))?;
        Ok(Self { binding, bounds })
    }

    /// The component id.
    pub(crate) fn component_id(&self) -> &str {
        self.binding.component().id()
    }

    /// Runs the handler for one message in a fresh instance, within the event
    /// deadline. A guest error, a trap or the deadline comes back as an error.
    pub(crate) async fn execute(&self, topic: &str, payload: &[u8]) -> anyhow::Result<()> {
        self.bounds
            .run(|deadline| async move {
                let bound = self.binding.current();
                let mut store = bound.new_store(&[], deadline)?;
                let guest = bound
                    .pre()
                    .instantiate_async(&mut store)
                    .await
                    .map_err(anyhow::Error::from)
                    .context("instantiating the component")?;
                store.data_mut().instantiated();
                let metadata = Metadata { topic: topic.to_string() };
                let payload = payload.to_vec();
                match guest.call_handle_message(&mut store, &payload, &metadata).await.map_err(anyhow::Error::from)? {
                    Ok(()) => Ok(()),
                    Err(Error::Other(msg)) => anyhow::bail!("the handler returned an error: {msg}"),
                }
            })
            .await
    }
}
