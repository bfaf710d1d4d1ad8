//! Spin's SQS trigger as a plugin of the engine: each `[[trigger.sqs]]` polls its
//! queue, hands every message to a fresh instance of its component
//! (`fermyon:spin-sqs@2.0.0`), renews the message's lease while the handler runs,
//! and deletes the message when the handler says `delete`.
//!
//! AWS settings come from the standard variables of the container's (or the
//! CLI's) environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`,
//! `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ENDPOINT_URL[_SQS]`).

pub mod aws_error;
pub mod aws_settings;
pub mod config;
pub mod executor;
pub mod lease;
pub mod message;
pub mod poll;
pub mod queue;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, Shutdown, TriggerPlugin};
use tokio::sync::Semaphore;

use crate::config::QueueTrigger;
use crate::executor::SqsExecutor;

/// How long in-flight handlers may run after a shutdown request by default.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(25);

/// The `sqs` trigger plugin.
pub struct SqsTrigger {
    drain: Duration,
    env: BTreeMap<String, String>,
}

impl SqsTrigger {
    /// A plugin reading its AWS settings from `env`.
    pub fn new(env: BTreeMap<String, String>) -> Self {
        Self { drain: DEFAULT_DRAIN, env }
    }

    /// The same, with `drain` for in-flight handlers at shutdown.
    pub fn with_drain(mut self, drain: Duration) -> Self {
        self.drain = drain;
        self
    }
}

impl TriggerPlugin for SqsTrigger {
    fn trigger_type(&self) -> &'static str {
        "sqs"
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let mut queues = Vec::new();
        for t in app.locked().triggers.iter().filter(|t| t.trigger_type == "sqs") {
            let trigger = QueueTrigger::parse(&t.id, &t.trigger_config)?;
            let fail = |e: anyhow::Error| anyhow::anyhow!("trigger `{}` (sqs): field `component`: {e}", t.id);
            let component = app.component(&trigger.component).map_err(fail)?;
            let executor = SqsExecutor::new(component, app.limits().event_timeout).map_err(fail)?;
            queues.push((trigger, Arc::new(executor)));
        }
        // Handlers running at once, across every queue of the app.
        let limiter = app.limits().event_slots();
        Ok(Box::new(PreparedSqs { queues, drain: self.drain, limiter, env: self.env.clone() }))
    }
}

/// Validated queues with their bound components, ready to poll.
struct PreparedSqs {
    queues: Vec<(QueueTrigger, Arc<SqsExecutor>)>,
    drain: Duration,
    limiter: Arc<Semaphore>,
    env: BTreeMap<String, String>,
}

impl PreparedTrigger for PreparedSqs {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let aws = aws_settings::load(&self.env).await;
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
                    tokio::spawn(poll::poll(queue, shutdown.clone(), self.drain))
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
