//! One queue served by one component, and the life of one message in it: hold
//! its lease, run the handler, delete it or leave it.

use std::sync::Arc;

use aws_sdk_sqs::types::Message as SqsMessage;
use aws_sdk_sqs::Client;
use tokio::sync::Semaphore;

use crate::aws_error::describe;
use crate::config::QueueTrigger;
use crate::executor::{MessageAction, SqsExecutor};
use crate::lease::Lease;
use crate::message::{display_id, to_guest};

/// A queue, the client that reaches it, and the component that handles it.
pub struct Queue {
    /// The trigger's validated settings.
    pub trigger: QueueTrigger,
    /// The SQS client (shared by all queues).
    pub client: Client,
    /// The handling component.
    pub executor: Arc<SqsExecutor>,
    /// Slots for handlers running at once (shared by all queues); a message is
    /// received only when a slot is free for it.
    pub limiter: Arc<Semaphore>,
}

impl Queue {
    /// Handles one received message in a fresh instance while renewing its lease.
    /// `delete` deletes it; `leave`, a guest error or a trap leave it to reappear
    /// after the visibility timeout.
    pub async fn process(&self, msg: SqsMessage, timeout_secs: u32) {
        let id = display_id(&msg);
        let url = &self.trigger.queue_url;
        let lease = Lease::hold(&self.client, url, msg.receipt_handle(), id, timeout_secs);
        let outcome = self.executor.handle(&to_guest(&msg)).await;
        drop(lease);
        match outcome {
            Ok(MessageAction::Delete) => self.delete(&msg).await,
            Ok(MessageAction::Leave) => tracing::debug!("message {id}: the handler left it on the queue"),
            Err(e) => {
                // One line at error level; the wasm backtrace, if any, at debug.
                tracing::error!(
                    "trigger `{}`: component `{}` failed on message {id}; it stays on the queue: {}",
                    self.trigger.trigger_id,
                    self.executor.component_id(),
                    e.root_cause()
                );
                tracing::debug!("message {id}: {e:?}");
            }
        }
    }

    /// Deletes a handled message; a failure is logged (the message then reappears
    /// and is handled again, never lost).
    async fn delete(&self, msg: &SqsMessage) {
        let id = display_id(msg);
        let Some(receipt) = msg.receipt_handle() else {
            tracing::warn!("message {id}: no receipt handle, cannot delete it");
            return;
        };
        let deleted =
            self.client.delete_message().queue_url(&self.trigger.queue_url).receipt_handle(receipt).send().await;
        match deleted {
            Ok(_) => tracing::debug!("message {id}: deleted"),
            Err(e) => tracing::error!("message {id}: delete failed, it will be delivered again: {}", describe(&e)),
        }
    }
}
