//! Calling a component's Redis handler, one fresh instance per message: Spin
//! 2/3's `fermyon:spin/inbound-redis`, or Spin 4's async
//! `spin:redis/inbound-redis@3.0.0`.

use std::sync::Arc;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{pick_export, BindError, Binding, EventBounds, Export};

mod v2 {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-v1",
        world: "fermyon:spin/redis-trigger",
        exports: { default: async },
    });
}

mod v3 {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-v3",
        world: "css:host-v3/redis-trigger",
    });
}

/// The Spin 2/3 handler export.
pub(crate) const INBOUND_REDIS: Export = Export::Interface("fermyon:spin/inbound-redis");
/// The Spin 4 (async) handler export.
pub(crate) const INBOUND_REDIS_V3: Export = Export::Interface("spin:redis/inbound-redis@3.0.0");

/// The component's handler export, pre-instantiated.
enum Handler {
    V2(Binding<v2::RedisTriggerPre<HostState>>),
    V3(Binding<v3::RedisTriggerPre<HostState>>),
}

/// A component bound to its Redis handler export.
pub(crate) struct RedisExecutor {
    component: Arc<PreparedComponent>,
    handler: Handler,
    bounds: EventBounds,
}

impl RedisExecutor {
    /// Binds `component`'s one Redis handler export, each call run within
    /// `bounds`; the error names the component and what it exports instead.
    pub(crate) fn new(component: Arc<PreparedComponent>, bounds: EventBounds) -> Result<Self, BindError> {
        let handler = match pick_export(&component, &[INBOUND_REDIS, INBOUND_REDIS_V3])? {
            0 => Handler::V2(Binding::new(&component, INBOUND_REDIS, |pre| v2::RedisTriggerPre::new(pre.clone()))?),
            _ => Handler::V3(Binding::new(&component, INBOUND_REDIS_V3, |pre| v3::RedisTriggerPre::new(pre.clone()))?),
        };
        Ok(Self { component, handler, bounds })
    }

    /// The component id.
    pub(crate) fn id(&self) -> &str {
        self.component.id()
    }

    /// Handles one message in a fresh instance within the event deadline; a trap,
    /// an `error` result or the deadline is an `Err`.
    #[allow(clippy::ptr_arg)] // the 2.0 binding takes `&Vec<u8>`: no copy for it
    pub(crate) async fn handle(&self, payload: &Vec<u8>) -> anyhow::Result<()> {
        self.bounds
            .run(|deadline| async move {
                match &self.handler {
                    Handler::V2(binding) => {
                        let bound = binding.current();
                        let mut store = bound.new_store(&[], deadline)?;
                        let guest = bound.pre().instantiate_async(&mut store).await?;
                        store.data_mut().instantiated();
                        let result =
                            guest.fermyon_spin_inbound_redis().call_handle_message(&mut store, payload).await?;
                        result.map_err(|e| anyhow::anyhow!("the handler returned {e:?}"))
                    }
                    Handler::V3(binding) => {
                        let bound = binding.current();
                        let mut store = bound.new_store(&[], deadline)?;
                        let guest = bound.pre().instantiate_async(&mut store).await?;
                        store.data_mut().instantiated();
                        let payload = payload.clone();
                        let result = store
                            .run_concurrent(async move |accessor| {
                                guest.spin_redis_inbound_redis().call_handle_message(accessor, payload).await
                            })
                            .await??;
                        result.map_err(|e| anyhow::anyhow!("the handler returned {e:?}"))
                    }
                }
            })
            .await
    }
}
