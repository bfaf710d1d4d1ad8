//! Spin cron trigger: seconds-first cron schedules, fermyon:spin-cron@2.0.0.

use std::sync::Arc;

use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, TriggerPlugin};

/// The `cron` trigger plugin.
#[derive(Default)]
pub struct CronTrigger;

impl TriggerPlugin for CronTrigger {
    fn trigger_type(&self) -> &'static str {
        "cron"
    }

    fn prepare(&self, _app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        anyhow::bail!("the cron trigger is not implemented yet")
    }
}
