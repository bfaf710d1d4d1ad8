//! Spin MQTT trigger: topic subscriptions dispatched to the spin:mqtt-trigger handler.
//!
//! App settings come from `[application.trigger.mqtt]` (`address`, `username`,
//! `password`, `keep_alive_interval`), each `[[trigger.mqtt]]` names a `component`,
//! a `topic` and a `qos`. Every trigger has its own connection and persistent
//! session; every message is handled in a fresh instance of the component, in
//! arrival order per trigger, and a QoS 1/2 message is acknowledged only once its
//! handler succeeded.

mod config;
mod executor;
mod listener;
mod session;

// The parsers, for the fuzz targets (integration/fuzz).
pub use config::{RawAppConfig, RawTriggerConfig};

use std::sync::Arc;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{
    app_settings, trigger_entries, Drain, PreparedTrigger, Shutdown, TriggerConfig as _, TriggerPlugin,
};

use crate::executor::MqttExecutor;
use crate::listener::Listener;

/// The `mqtt` trigger plugin.
#[derive(Default)]
pub struct MqttTrigger;

impl TriggerPlugin for MqttTrigger {
    fn trigger_type(&self) -> &'static str {
        RawTriggerConfig::TYPE
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let locked = app.locked();
        let triggers = trigger_entries::<RawTriggerConfig>(locked)?;
        let Some(first) = triggers.first() else {
            anyhow::bail!("no mqtt triggers in the app");
        };
        let app_config: RawAppConfig = app_settings(locked, RawTriggerConfig::TYPE)?;
        let broker = Arc::new(app_config.resolve(first, |t| app.render(t))?);
        let shared = triggers.len() > 1;
        let mut listeners = Vec::new();
        // Handlers running at once, across every subscription of the app.
        let limiter = app.limits().event_slots();
        for entry in &triggers {
            let subscription = config::subscription(entry, |t| app.render(t))?;
            let component = entry.component(app)?.clone();
            let bounds = app.event_bounds("mqtt", component.id());
            let executor = MqttExecutor::new(component, bounds).map_err(|e| entry.error(e))?;
            listeners.push(Listener {
                broker: broker.clone(),
                client_id: session::client_id(&broker, locked.name().unwrap_or("app"), &entry.id, shared),
                subscription,
                executor: Arc::new(executor),
                limiter: limiter.clone(),
                drain: Drain::default(),
            });
        }
        Ok(Box::new(PreparedMqtt { listeners }))
    }
}

/// Validated MQTT triggers, ready to connect.
struct PreparedMqtt {
    listeners: Vec<Listener>,
}

impl PreparedTrigger for PreparedMqtt {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let stop = shutdown.child_token();
            let mut tasks = tokio::task::JoinSet::new();
            for listener in self.listeners {
                tasks.spawn(listener.run(stop.clone()));
            }
            let mut first_error = None;
            while let Some(done) = tasks.join_next().await {
                let result = done.map_err(|e| anyhow::anyhow!("mqtt listener task failed: {e}")).and_then(|r| r);
                if let Err(e) = result {
                    // One broken subscription ends the trigger, as a crash would.
                    stop.cancel();
                    first_error.get_or_insert(e);
                }
            }
            match first_error {
                Some(e) => Err(e),
                None => Ok(0),
            }
        })
    }
}
