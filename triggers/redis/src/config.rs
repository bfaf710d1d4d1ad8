//! The `[[trigger.redis]]` entries and `[application.trigger.redis]` as they appear
//! in the locked app.

use serde::Deserialize;
use spin_engine::trigger::TriggerConfig;

/// One Redis trigger's configuration (Spin's fields; unknown fields are rejected).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedisTriggerConfig {
    /// The component that handles the channel's messages.
    pub component: String,
    /// The channel to subscribe to (a `{{ var }}` template).
    pub channel: String,
    /// The server, overriding the app-level address (a `{{ var }}` template).
    #[serde(default)]
    pub address: Option<String>,
}

/// `[application.trigger.redis]`: the app-wide defaults.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedisAppConfig {
    /// The server every trigger without its own `address` uses (a `{{ var }}` template).
    #[serde(default)]
    pub address: Option<String>,
}

impl TriggerConfig for RedisTriggerConfig {
    const TYPE: &'static str = "redis";

    fn component(&self) -> Option<&str> {
        Some(&self.component)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use spin_engine::locked::LockedApp;
    use spin_engine::trigger::{app_settings, TriggerEntry};

    fn parse(id: &str, value: Value) -> Result<RedisTriggerConfig, String> {
        TriggerEntry::parse(id, &value).map(|e| e.config).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_channel_component_and_optional_address() {
        let c = parse("t", json!({"component": "c", "channel": "messages"})).unwrap();
        assert_eq!(c.channel, "messages");
        assert_eq!(c.address, None);
        let c = parse("t", json!({"component": "c", "channel": "m", "address": "redis://h"})).unwrap();
        assert_eq!(c.address.as_deref(), Some("redis://h"));
    }

    #[test]
    fn missing_channel_names_trigger_and_field() {
        let e = parse("my-trigger", json!({"component": "c"})).unwrap_err();
        assert!(e.contains("my-trigger") && e.contains("`channel`"), "{e}");
    }

    #[test]
    fn unknown_field_names_trigger_and_field() {
        let e = parse("t7", json!({"component": "c", "channel": "m", "chanel": "x"})).unwrap_err();
        assert!(e.contains("t7") && e.contains("chanel"), "{e}");
    }

    #[test]
    fn app_config_from_triggers_or_single_trigger_metadata() {
        let read = |metadata: Value| {
            let app: LockedApp = serde_json::from_value(json!({
                "spin_lock_version": 1, "metadata": metadata, "components": [],
                "triggers": [{"id": "t", "trigger_type": "redis", "trigger_config": {}}],
            }))
            .unwrap();
            app_settings::<RedisAppConfig>(&app, "redis").map_err(|e| e.to_string())
        };
        let c = read(json!({"triggers": {"redis": {"address": "redis://a:1"}}})).unwrap();
        assert_eq!(c.address.as_deref(), Some("redis://a:1"));
        let c = read(json!({"trigger": {"type": "redis", "address": "redis://b"}})).unwrap();
        assert_eq!(c.address.as_deref(), Some("redis://b"));
        assert_eq!(read(json!({"trigger": {"type": "http", "base": "/"}})).unwrap(), RedisAppConfig::default());
        let e = read(json!({"triggers": {"redis": {"adress": "x"}}})).unwrap_err();
        assert!(e.contains("application.trigger.redis") && e.contains("adress"), "{e}");
    }
}
