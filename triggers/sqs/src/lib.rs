//! Spin's SQS trigger as a plugin of the engine: each `[[trigger.sqs]]` polls its
//! queue, hands every message to a fresh instance of its component
//! (`fermyon:spin-sqs@2.0.0`), renews the message's lease while the handler runs,
//! and deletes the message when the handler says `delete`.
//!
//! AWS settings come from the host as [`AwsSettings`] (the shim reads them from
//! the standard `AWS_*` variables of the container's or the CLI's environment).

mod aws_error;
mod aws_settings;
mod config;
mod executor;
mod lease;
mod message;
mod poll;
mod queue;

use std::sync::Arc;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{
    trigger_entries, Drain, PreparedTrigger, Shutdown, TriggerConfig as _, TriggerEntry, TriggerPlugin,
};
use tokio::sync::Semaphore;

pub use crate::aws_settings::{AwsSettings, StaticCredentials, WebIdentity};
use crate::config::SqsTriggerConfig;
use crate::executor::SqsExecutor;

/// Settings of the SQS trigger that come from the host, not the manifest.
#[derive(Clone, Debug, Default)]
pub struct SqsOptions {
    /// How the client reaches AWS.
    pub aws: AwsSettings,
    /// How long in-flight handlers may run after a shutdown request.
    pub drain: Drain,
}

/// The `sqs` trigger plugin.
pub struct SqsTrigger {
    options: SqsOptions,
}

impl SqsTrigger {
    /// A plugin with the given host options.
    pub fn new(options: SqsOptions) -> Self {
        Self { options }
    }
}

impl TriggerPlugin for SqsTrigger {
    fn trigger_type(&self) -> &'static str {
        SqsTriggerConfig::TYPE
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let mut queues = Vec::new();
        for entry in trigger_entries::<SqsTriggerConfig>(app.locked())? {
            let component = entry.component(app)?.clone();
            let bounds = app.event_bounds("sqs", component.id());
            let executor = SqsExecutor::new(component, bounds).map_err(|e| entry.error(e))?;
            queues.push((entry, Arc::new(executor)));
        }
        // Handlers running at once, across every queue of the app.
        let limiter = app.limits().event_slots();
        Ok(Box::new(PreparedSqs { queues, limiter, options: self.options.clone() }))
    }
}

/// Validated queues with their bound components, ready to poll.
struct PreparedSqs {
    queues: Vec<(TriggerEntry<SqsTriggerConfig>, Arc<SqsExecutor>)>,
    limiter: Arc<Semaphore>,
    options: SqsOptions,
}

impl PreparedTrigger for PreparedSqs {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let aws = aws_settings::load(&self.options.aws).await;
            if aws.region().is_none() {
                anyhow::bail!(
                    "the sqs trigger needs an AWS region: set AWS_REGION or AWS_DEFAULT_REGION (or a profile's region)"
                );
            }
            let client = aws_sdk_sqs::Client::new(&aws);
            let loops: Vec<_> = self
                .queues
                .into_iter()
                .map(|(trigger, executor)| {
                    let limiter = self.limiter.clone();
                    let queue = Arc::new(queue::Queue { trigger, client: client.clone(), executor, limiter });
                    tokio::spawn(poll::poll(queue, shutdown.clone(), self.options.drain))
                })
                .collect();
            // The loops end only on shutdown; one that fails otherwise stops the rest.
            if let Err(e) = futures::future::try_join_all(loops).await {
                shutdown.cancel();
                anyhow::bail!("an SQS receive loop failed: {e}");
            }
            Ok(0)
        })
    }
}
