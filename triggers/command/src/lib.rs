//! Spin command trigger: runs wasi:cli/run once and maps the exit code.

use std::sync::Arc;

use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, TriggerPlugin};

/// The `command` trigger plugin.
pub struct CommandTrigger {
    guest_args: Vec<String>,
}

impl CommandTrigger {
    /// A plugin that passes `guest_args` after the component id as argv.
    pub fn new(guest_args: Vec<String>) -> Self {
        Self { guest_args }
    }
}

impl TriggerPlugin for CommandTrigger {
    fn trigger_type(&self) -> &'static str {
        "command"
    }

    fn prepare(&self, _app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let _ = &self.guest_args;
        anyhow::bail!("the command trigger is not implemented yet")
    }
}
