//! The trigger plugins compiled into this binary (one cargo feature each).

use spin_engine::trigger::TriggerRegistry;

/// Host-side settings the trigger plugins need.
#[derive(Clone, Debug)]
pub struct TriggerSettings {
    /// HTTP listen address.
    pub http_listen: String,
}

/// The registry of every trigger type this build includes.
#[allow(unused_variables, unused_mut)]
pub fn registry(settings: &TriggerSettings) -> anyhow::Result<TriggerRegistry> {
    let mut registry = TriggerRegistry::new();
    #[cfg(feature = "http")]
    registry.register(spin_trigger_http::HttpTrigger::new(
        spin_trigger_http::HttpOptions::from_env(settings.http_listen.clone())?,
    ));
    Ok(registry)
}

/// The trigger types compiled into this binary.
pub fn compiled_types() -> Vec<&'static str> {
    let mut types = Vec::new();
    #[cfg(feature = "http")]
    types.push("http");
    types
}
