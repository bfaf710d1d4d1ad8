//! Calling a component's `handle-queue-message` export (`fermyon:spin-sqs@2.0.0`),
//! one fresh instance per message.

use std::sync::Arc;
use std::time::Duration;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{bind_export, run_event, BindError, Export};

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
    component: Arc<PreparedComponent>,
    pre: bindings::SpinSqsPre<HostState>,
    timeout: Option<Duration>,
}

impl SqsExecutor {
    /// Binds the component's `handle-queue-message` export, each call bounded by
    /// `timeout`; the error names the component and what it exports instead.
    pub(crate) fn new(component: Arc<PreparedComponent>, timeout: Option<Duration>) -> Result<Self, BindError> {
        let pre = bind_export(&component, EXPORT, |c| bindings::SpinSqsPre::new(c.instance_pre().clone()))?;
        Ok(Self { component, pre, timeout })
    }

    /// The component id.
    pub(crate) fn component_id(&self) -> &str {
        self.component.id()
    }

    /// Runs the handler for one message in a fresh instance, within the event
    /// deadline. A guest `error`, a trap and a deadline
    /// ([`spin_engine::trigger::DeadlineExceeded`]) all come back as `Err`.
    pub(crate) async fn handle(&self, message: &Message) -> anyhow::Result<MessageAction> {
        run_event(self.timeout, |deadline| async move {
            let mut store = self.component.new_store(&[], deadline)?;
            let guest = self.pre.instantiate_async(&mut store).await?;
            match guest.call_handle_queue_message(&mut store, message).await? {
                Ok(action) => Ok(action),
                Err(GuestError::Other(reason)) => anyhow::bail!("the handler returned an error: {reason}"),
            }
        })
        .await
    }
}
