//! One queue served by one component, and the life of one message in it: hold
//! its lease, run the handler, delete it or leave it, or hand it back at once
//! (visibility 0) when its handler was cut off.

use std::sync::Arc;

use aws_sdk_sqs::types::Message as SqsMessage;
use aws_sdk_sqs::Client;
use spin_engine::trigger::{is_deadline, one_line, Shutdown};
use tokio::sync::Semaphore;

use crate::aws_error::describe;
use spin_engine::trigger::TriggerEntry;

use crate::config::SqsTriggerConfig;
use crate::executor::{MessageAction, SqsExecutor};
use crate::lease::Lease;
use crate::message::{display_id, to_guest};

/// A queue, the client that reaches it, and the component that handles it.
pub(crate) struct Queue {
    /// The trigger's id and validated settings.
    pub trigger: TriggerEntry<SqsTriggerConfig>,
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
    /// after the visibility timeout; a handler cut off at its deadline or by `abort`
    /// (shutdown) hands it back at once.
    pub(crate) async fn process(&self, msg: SqsMessage, timeout_secs: u32, abort: &Shutdown) {
        let id = display_id(&msg);
        let url = &self.trigger.config.queue_url;
        let lease = Lease::hold(&self.client, url, msg.receipt_handle(), id, timeout_secs);
        let guest_msg = to_guest(&msg);
        let outcome = tokio::select! {
            outcome = self.executor.handle(&guest_msg) => Some(outcome),
            _ = abort.cancelled() => None,
        };
        if let Some(lease) = lease {
            lease.finish();
        }
        let Some(outcome) = outcome else {
            tracing::warn!("trigger `{}`: message {id}: its handler was stopped at shutdown", self.trigger.id);
            self.release(&msg).await;
            return;
        };
        match outcome {
            Ok(MessageAction::Delete) => self.delete(&msg).await,
            Ok(MessageAction::Leave) => tracing::debug!("message {id}: the handler left it on the queue"),
            Err(e) => {
                // One line at error level; the wasm backtrace, if any, at debug.
                tracing::error!(
                    "trigger `{}`: component `{}` failed on message {id}; it stays on the queue: {}",
                    self.trigger.id,
                    self.executor.component_id(),
                    one_line(&e)
                );
                tracing::debug!("message {id}: {e:?}");
                if is_deadline(&e) {
                    self.release(&msg).await;
                }
            }
        }
    }

    /// Makes a message whose handler was cut off visible again at once
    /// (ChangeMessageVisibility 0), so it is not held for the rest of its
    /// visibility timeout; a failure is logged (it then reappears later).
    async fn release(&self, msg: &SqsMessage) {
        let id = display_id(msg);
        let Some(receipt) = msg.receipt_handle() else { return };
        let released = self
            .client
            .change_message_visibility()
            .queue_url(&self.trigger.config.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await;
        match released {
            Ok(_) => tracing::debug!("message {id}: handed back to the queue"),
            Err(e) => tracing::warn!(
                "message {id}: cannot hand it back ({}); it reappears after its visibility timeout",
                describe(&e)
            ),
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
            self.client.delete_message().queue_url(&self.trigger.config.queue_url).receipt_handle(receipt).send().await;
        match deleted {
            Ok(_) => tracing::debug!("message {id}: deleted"),
            Err(e) => tracing::error!("message {id}: delete failed, it will be delivered again: {}", describe(&e)),
        }
    }
}
