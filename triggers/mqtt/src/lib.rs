//! Spin MQTT trigger: topic subscriptions dispatched to the spin:mqtt-trigger handler.

use std::sync::Arc;

use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, TriggerPlugin};

/// The `mqtt` trigger plugin.
#[derive(Default)]
pub struct MqttTrigger;

impl TriggerPlugin for MqttTrigger {
    fn trigger_type(&self) -> &'static str {
        "mqtt"
    }

    fn prepare(&self, _app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        anyhow::bail!("the mqtt trigger is not implemented yet")
    }
}
