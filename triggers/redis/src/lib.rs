//! Spin's Redis trigger as a plugin of the engine: `[[trigger.redis]]` entries
//! grouped by (server, channel), one SUBSCRIBE per channel, and every message
//! handed to each component on its channel through `fermyon:spin/inbound-redis`,
//! each call in a fresh instance. Lost connections are re-established with backoff.

mod banner;
mod config;
mod executor;
mod plan;
mod subscriber;

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{
    app_settings, trigger_entries, Drain, PreparedTrigger, Shutdown, TriggerConfig as _, TriggerPlugin,
};
use tokio::sync::Semaphore;

use crate::config::{RedisAppConfig, RedisTriggerConfig};
use crate::executor::RedisExecutor;
use crate::subscriber::Subscriber;

/// The `redis` trigger plugin.
#[derive(Default)]
pub struct RedisTrigger;

impl TriggerPlugin for RedisTrigger {
    fn trigger_type(&self) -> &'static str {
        RedisTriggerConfig::TYPE
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let locked = app.locked();
        let app_config: RedisAppConfig = app_settings(locked, RedisTriggerConfig::TYPE)?;
        let triggers = trigger_entries::<RedisTriggerConfig>(locked)?;
        let plan = plan::build_plan(&app_config, &triggers, |s| app.render(s))?;
        let mut executors = HashMap::new();
        for entry in &triggers {
            if executors.contains_key(&entry.config.component) {
                continue;
            }
            let component = entry.component(app)?.clone();
            let bounds = app.event_bounds("redis", &entry.config.component);
            let executor = RedisExecutor::new(component, bounds).map_err(|e| entry.error(e))?;
            executors.insert(entry.config.component.clone(), Arc::new(executor));
        }
        // The most handler calls running at once, across all servers and channels.
        let limiter = app.limits().event_slots();
        let max_in_flight = u32::try_from(limiter.available_permits()).unwrap_or(u32::MAX);
        let subscribers = plan
            .into_iter()
            .map(|server| Subscriber::new(server, &executors, limiter.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Box::new(PreparedRedis { subscribers, limiter, max_in_flight, drain: Drain::default() }))
    }
}

/// Validated subscriptions, ready to connect.
struct PreparedRedis {
    subscribers: Vec<Subscriber>,
    limiter: Arc<Semaphore>,
    max_in_flight: u32,
    drain: Drain,
}

impl PreparedTrigger for PreparedRedis {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let runs: Vec<_> = self.subscribers.into_iter().map(|s| s.run(shutdown.clone())).collect();
            futures::future::join_all(runs).await;
            shutdown.cancelled().await;
            if self.drain.wait(self.limiter.acquire_many(self.max_in_flight)).await.is_none() {
                let limit = self.drain.limit();
                tracing::warn!("redis: handlers still running {limit:?} after shutdown were abandoned");
            }
            Ok(0)
        })
    }
}
