//! Spin cron trigger: calls a component's `handle-cron-event` export
//! (`fermyon:spin-cron@2.0.0`) on a seconds-first cron schedule, in UTC.

mod config;
mod executor;
mod schedule;

// The parsers, for the fuzz targets (integration/fuzz).
pub use config::CronTriggerConfig;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{trigger_entries, Drain, PreparedTrigger, Shutdown, TriggerConfig as _, TriggerPlugin};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::executor::CronExecutor;
use crate::schedule::{next_tick, wait_until};

/// The `cron` trigger plugin.
#[derive(Default)]
pub struct CronTrigger;

impl TriggerPlugin for CronTrigger {
    fn trigger_type(&self) -> &'static str {
        CronTriggerConfig::TYPE
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let mut jobs = Vec::new();
        // Calls running at once, across every schedule of the app.
        let limiter = app.limits().event_slots();
        for entry in trigger_entries::<CronTriggerConfig>(app.locked())? {
            let schedule = entry.config.schedule().map_err(|e| entry.error(e))?;
            let component = entry.component(app)?.clone();
            let bounds = app.event_bounds("cron", component.id());
            let executor = CronExecutor::new(component, bounds).map_err(|e| entry.error(e))?;
            jobs.push(CronJob {
                trigger_id: entry.id,
                schedule,
                executor: Arc::new(executor),
                limiter: limiter.clone(),
                drain: Drain::default(),
            });
        }
        Ok(Box::new(PreparedCron { jobs }))
    }
}

/// One `[[trigger.cron]]` entry ready to run.
struct CronJob {
    trigger_id: String,
    schedule: cron::Schedule,
    executor: Arc<CronExecutor>,
    limiter: Arc<Semaphore>,
    drain: Drain,
}

impl CronJob {
    /// Sleeps until each tick and calls the guest in its own task (a slow handler
    /// does not delay the next tick; a tick that finds every slot taken is skipped);
    /// stops on shutdown, letting calls in flight finish within the drain limit,
    /// or when the schedule has no more ticks.
    async fn run(self, shutdown: Shutdown) {
        let mut calls = JoinSet::new();
        let mut last: Option<DateTime<Utc>> = None;
        loop {
            let Some(tick) = next_tick(&self.schedule, last, Utc::now()) else {
                tracing::info!("trigger `{}`: the schedule has no more ticks", self.trigger_id);
                break;
            };
            tokio::select! {
                _ = tokio::time::sleep(wait_until(tick, Utc::now())) => {}
                _ = shutdown.cancelled() => break,
            }
            last = Some(tick);
            let Ok(permit) = self.limiter.clone().try_acquire_owned() else {
                tracing::warn!(
                    "trigger `{}`: tick {tick} skipped: the limit of calls running at once is reached",
                    self.trigger_id
                );
                continue;
            };
            let executor = self.executor.clone();
            let trigger_id = self.trigger_id.clone();
            calls.spawn(async move {
                let _permit = permit;
                let timestamp = u64::try_from(tick.timestamp()).unwrap_or_default();
                if let Err(msg) = executor.call(timestamp).await {
                    tracing::error!("trigger `{trigger_id}`: component `{}`: {msg}", executor.id());
                }
            });
            // Reap finished calls so the set does not grow.
            while calls.try_join_next().is_some() {}
        }
        if !shutdown.is_cancelled() {
            while calls.join_next().await.is_some() {}
            return;
        }
        let limit = self.drain.limit();
        if !calls.is_empty() {
            tracing::info!(
                "trigger `{}`: waiting up to {limit:?} for {} call(s) in flight",
                self.trigger_id,
                calls.len()
            );
        }
        if !self.drain.join_all(&mut calls).await {
            tracing::warn!(
                "trigger `{}`: {} call(s) still running {limit:?} after shutdown were stopped",
                self.trigger_id,
                calls.len()
            );
            calls.shutdown().await;
        }
    }
}

struct PreparedCron {
    jobs: Vec<CronJob>,
}

impl PreparedTrigger for PreparedCron {
    /// Runs every schedule until shutdown (exit status 0), or until no schedule
    /// has ticks left.
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let jobs = self.jobs.into_iter().map(|job| job.run(shutdown.clone()));
            futures::future::join_all(jobs).await;
            Ok(0)
        })
    }
}
