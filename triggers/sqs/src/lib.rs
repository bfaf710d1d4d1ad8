//! Spin SQS trigger: queue polling with lease renewal, fermyon:spin-sqs@2.0.0.

use std::sync::Arc;

use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, TriggerPlugin};

/// The `sqs` trigger plugin.
#[derive(Default)]
pub struct SqsTrigger;

impl TriggerPlugin for SqsTrigger {
    fn trigger_type(&self) -> &'static str {
        "sqs"
    }

    fn prepare(&self, _app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        anyhow::bail!("the sqs trigger is not implemented yet")
    }
}
