//! Calling a component's `handle-queue-message` export (`fermyon:spin-sqs@2.0.0`),
//! one fresh instance per message.

use std::sync::Arc;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{BindError, Binding, EventBounds, Export};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../engine/wit/spin-sqs",
        world: "fermyon:spin-sqs/spin-sqs",
        exports: { default: async },
    });
}

pub(crate) use bindings::fermyon::spin_sqs::sqs_types::{
    Error as GuestError, Message, MessageAction, MessageAttribute, MessageAttributeValue,
};

/// The function a queue-handling component exports.
pub(crate) const EXPORT: Export = Export::Func { name: "handle-queue-message", world: "fermyon:spin-sqs@2.0.0" };

/// A component bound to the SQS handler ABI.
pub(crate) struct SqsExecutor {
    binding: Binding<bindings::SpinSqsPre<HostState>>,
    bounds: EventBounds,
}

impl SqsExecutor {
    /// Binds the component's `handle-queue-message` export, each call run within
    /// `bounds`; the error names the component and what it exports instead.
    pub(crate) fn new(component: Arc<PreparedComponent>, bounds: EventBounds) -> Result<Self, BindError> {
        let binding = Binding::new(&component, EXPORT, |pre| bindings::SpinSqsPre::new(pre.clone()))?;
        Ok(Self { binding, bounds })
    }

    /// The component id.
    pub(crate) fn component_id(&self) -> &str {
        self.binding.component().id()
    }

    /// Runs the handler for one message in a fresh instance, within the event
    /// deadline. A guest `error`, a trap and a deadline
    /// ([`spin_engine::trigger::DeadlineExceeded`]) all come back as `Err`.
    pub(crate) async fn handle(&self, message: &Message) -> anyhow::Result<MessageAction> {
        self.bounds
            .run(|deadline| async move {
                let bound = self.binding.current();
                let mut store = bound.new_store(&[], deadline)?;
                let guest = bound.pre().instantiate_async(&mut store).await?;
                store.data_mut().instantiated();
                match guest.call_handle_queue_message(&mut store, message).await? {
                    Ok(action) => Ok(action),
                    Err(GuestError::Other(reason)) => anyhow::bail!("the handler returned an error: {reason}"),
                }
            })
            .await
    }
}
