//! Spin command trigger: runs a component's `wasi:cli/run` export once, with the
//! guest arguments as argv, and makes its result the process exit status.

mod config;
mod exit_status;
mod runner;

// The parsers, for the fuzz targets (integration/fuzz).
pub use config::CommandTriggerConfig;

use std::io::Write as _;
use std::sync::Arc;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{trigger_entries, PreparedTrigger, Shutdown, TriggerConfig as _, TriggerPlugin};

use crate::exit_status::{Outcome, TERMINATED};
use crate::runner::CommandRunner;

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
        CommandTriggerConfig::TYPE
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let entries = trigger_entries::<CommandTriggerConfig>(app.locked())?;
        if let [first, ignored @ ..] = entries.as_slice() {
            if !ignored.is_empty() {
                let ignored: Vec<&str> = ignored.iter().map(|e| e.id.as_str()).collect();
                tracing::warn!("only the first command trigger (`{}`) runs; ignoring {}", first.id, ignored.join(", "));
            }
        }
        let runner = match entries.first() {
            Some(entry) => {
                let component = entry.component(app)?.clone();
                Some(CommandRunner::new(component, &self.guest_args).map_err(|e| entry.error(e))?)
            }
            None => None,
        };
        Ok(Box::new(PreparedCommand { runner }))
    }
}

struct PreparedCommand {
    runner: Option<CommandRunner>,
}

impl PreparedTrigger for PreparedCommand {
    /// Runs the guest once. Its result is the exit status (see
    /// [`exit_status::outcome`]); a trap is an error naming the component.
    ///
    /// On shutdown (SIGTERM) while the guest runs, the guest is stopped at its next
    /// yield point and the status is [`TERMINATED`] (143 = 128 + SIGTERM), what a
    /// native container process reports when SIGTERM ends it. A Kubernetes Job
    /// therefore counts an interrupted run as failed (and retries it under its
    /// `backoffLimit`) instead of as completed work, and `spin up` reports the same
    /// 128 + signal for a terminated trigger.
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let Some(runner) = self.runner else {
                eprintln!("No components found for command trigger, exiting");
                return Ok(0);
            };
            tracing::debug!("running component `{}` with argv {:?}", runner.id(), runner.argv());
            let outcome = tokio::select! {
                outcome = runner.run() => outcome,
                _ = shutdown.cancelled() => {
                    tracing::info!("component `{}` stopped by shutdown", runner.id());
                    return Ok(TERMINATED);
                }
            };
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            match outcome {
                Outcome::Exited(code) => Ok(code),
                Outcome::Failed(msg) => anyhow::bail!("component `{}`: {msg}", runner.id()),
            }
        })
    }
}
