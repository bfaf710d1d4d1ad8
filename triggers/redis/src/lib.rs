//! Spin Redis trigger: pub/sub subscriptions dispatched to fermyon:spin/inbound-redis.

use std::sync::Arc;

use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, TriggerPlugin};

/// The `redis` trigger plugin.
#[derive(Default)]
pub struct RedisTrigger;

impl TriggerPlugin for RedisTrigger {
    fn trigger_type(&self) -> &'static str {
        "redis"
    }

    fn prepare(&self, _app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        anyhow::bail!("the redis trigger is not implemented yet")
    }
}
