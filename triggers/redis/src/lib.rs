//! Spin's Redis trigger as a plugin of the engine: `[[trigger.redis]]` entries
//! grouped by (server, channel), one SUBSCRIBE per channel, and every message
//! handed to each component on its channel through `fermyon:spin/inbound-redis`,
//! each call in a fresh instance. Lost connections are re-established with backoff.

pub mod banner;
pub mod config;
pub mod executor;
pub mod plan;
pub mod subscriber;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, Shutdown, TriggerPlugin};
use tokio::sync::Semaphore;

use crate::config::{RedisAppConfig, RedisTriggerConfig};
use crate::executor::RedisExecutor;
use crate::subscriber::Subscriber;

/// How long running handlers may finish after shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The `redis` trigger plugin.
#[derive(Default)]
pub struct RedisTrigger;

impl TriggerPlugin for RedisTrigger {
    fn trigger_type(&self) -> &'static str {
        "redis"
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let locked = app.locked();
        let app_config = RedisAppConfig::from_metadata(&locked.metadata)?;
        let triggers = locked
            .triggers
            .iter()
            .filter(|t| t.trigger_type == "redis")
            .map(|t| Ok((t.id.clone(), RedisTriggerConfig::parse(&t.id, &t.trigger_config)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let plan = plan::build_plan(&app_config, &triggers, |s| app.render(s))?;
        let mut executors = HashMap::new();
        for (id, cfg) in &triggers {
            if executors.contains_key(&cfg.component) {
                continue;
            }
            let component = app
                .component(&cfg.component)
                .map_err(|e| anyhow::anyhow!("trigger `{id}` (redis): field `component`: {e}"))?;
            let executor = RedisExecutor::new(component.clone(), app.limits().event_timeout)?;
            executors.insert(cfg.component.clone(), Arc::new(executor));
        }
        // The most handler calls running at once, across all servers and channels.
        let limiter = app.limits().event_slots();
        let max_in_flight = u32::try_from(limiter.available_permits()).unwrap_or(u32::MAX);
        let subscribers = plan
            .into_iter()
            .map(|server| Subscriber::new(server, &executors, limiter.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Box::new(PreparedRedis { subscribers, limiter, max_in_flight }))
    }
}

/// Validated subscriptions, ready to connect.
struct PreparedRedis {
    subscribers: Vec<Subscriber>,
    limiter: Arc<Semaphore>,
    max_in_flight: u32,
}

impl PreparedTrigger for PreparedRedis {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let runs: Vec<_> = self.subscribers.into_iter().map(|s| s.run(shutdown.clone())).collect();
            futures::future::join_all(runs).await;
            shutdown.cancelled().await;
            if tokio::time::timeout(DRAIN_TIMEOUT, self.limiter.acquire_many(self.max_in_flight)).await.is_err() {
                tracing::warn!("redis: handlers still running {DRAIN_TIMEOUT:?} after shutdown were abandoned");
            }
            Ok(0)
        })
    }
}
