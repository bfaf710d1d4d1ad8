//! The trigger plugins compiled into this binary (one cargo feature each).

use spin_engine::trigger::TriggerRegistry;

pub(crate) use crate::settings::TriggerSettings;

/// The registry of every trigger type this build includes.
#[allow(unused_variables, unused_mut)]
pub(crate) fn registry(settings: &TriggerSettings) -> anyhow::Result<TriggerRegistry> {
    let mut registry = TriggerRegistry::new();
    #[cfg(feature = "http")]
    registry.register(spin_trigger_http::HttpTrigger::new(settings.http.clone()));
    #[cfg(feature = "redis")]
    registry.register(spin_trigger_redis::RedisTrigger);
    #[cfg(feature = "sqs")]
    registry.register(spin_trigger_sqs::SqsTrigger::new(settings.sqs.clone()));
    #[cfg(feature = "command")]
    registry.register(spin_trigger_command::CommandTrigger::new(settings.guest_args.clone()));
    #[cfg(feature = "cron")]
    registry.register(spin_trigger_cron::CronTrigger);
    #[cfg(feature = "mqtt")]
    registry.register(spin_trigger_mqtt::MqttTrigger);
    Ok(registry)
}

/// The trigger types compiled into this binary.
pub(crate) fn compiled_types() -> Vec<&'static str> {
    [
        ("http", cfg!(feature = "http")),
        ("redis", cfg!(feature = "redis")),
        ("sqs", cfg!(feature = "sqs")),
        ("command", cfg!(feature = "command")),
        ("cron", cfg!(feature = "cron")),
        ("mqtt", cfg!(feature = "mqtt")),
    ]
    .into_iter()
    .filter_map(|(t, on)| on.then_some(t))
    .collect()
}
