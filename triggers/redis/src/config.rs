//! The `[[trigger.redis]]` entries and `[application.trigger.redis]` as they appear
//! in the locked app.

use serde::Deserialize;
use serde_json::{Map, Value};

/// One Redis trigger's configuration (Spin's fields; unknown fields are rejected).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RedisTriggerConfig {
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
pub struct RedisAppConfig {
    /// The server every trigger without its own `address` uses (a `{{ var }}` template).
    #[serde(default)]
    pub address: Option<String>,
}

impl RedisTriggerConfig {
    /// Parses one trigger's `trigger_config`; errors name the trigger id and the field.
    pub fn parse(trigger_id: &str, value: &Value) -> anyhow::Result<Self> {
        serde_json::from_value(value.clone()).map_err(|e| anyhow::anyhow!("trigger `{trigger_id}` (redis): {e}"))
    }
}

impl RedisAppConfig {
    /// Reads the app-level config from the locked app's metadata:
    /// `triggers.redis`, or else the single-type `trigger` table when its type is `redis`.
    pub fn from_metadata(metadata: &Map<String, Value>) -> anyhow::Result<Self> {
        let table = match metadata.get("triggers").and_then(|t| t.get("redis")) {
            Some(t) => t.clone(),
            None => match metadata.get("trigger") {
                Some(Value::Object(t)) if t.get("type").and_then(Value::as_str) == Some("redis") => {
                    let mut t = t.clone();
                    t.remove("type");
                    Value::Object(t)
                }
                _ => return Ok(Self::default()),
            },
        };
        serde_json::from_value(table).map_err(|e| anyhow::anyhow!("[application.trigger.redis]: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_channel_component_and_optional_address() {
        let c = RedisTriggerConfig::parse("t", &json!({"component": "c", "channel": "messages"})).unwrap();
        assert_eq!(c.channel, "messages");
        assert_eq!(c.address, None);
        let c =
            RedisTriggerConfig::parse("t", &json!({"component": "c", "channel": "m", "address": "redis://h"})).unwrap();
        assert_eq!(c.address.as_deref(), Some("redis://h"));
    }

    #[test]
    fn missing_channel_names_trigger_and_field() {
        let e = RedisTriggerConfig::parse("my-trigger", &json!({"component": "c"})).unwrap_err().to_string();
        assert!(e.contains("my-trigger") && e.contains("`channel`"), "{e}");
    }

    #[test]
    fn unknown_field_names_trigger_and_field() {
        let e = RedisTriggerConfig::parse("t7", &json!({"component": "c", "channel": "m", "chanel": "x"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("t7") && e.contains("chanel"), "{e}");
    }

    #[test]
    fn app_config_from_triggers_or_single_trigger_metadata() {
        let m = json!({"triggers": {"redis": {"address": "redis://a:1"}}});
        let c = RedisAppConfig::from_metadata(m.as_object().unwrap()).unwrap();
        assert_eq!(c.address.as_deref(), Some("redis://a:1"));
        let m = json!({"trigger": {"type": "redis", "address": "redis://b"}});
        let c = RedisAppConfig::from_metadata(m.as_object().unwrap()).unwrap();
        assert_eq!(c.address.as_deref(), Some("redis://b"));
        let m = json!({"trigger": {"type": "http", "base": "/"}});
        assert_eq!(RedisAppConfig::from_metadata(m.as_object().unwrap()).unwrap(), RedisAppConfig::default());
        let m = json!({"triggers": {"redis": {"adress": "x"}}});
        let e = RedisAppConfig::from_metadata(m.as_object().unwrap()).unwrap_err().to_string();
        assert!(e.contains("application.trigger.redis") && e.contains("adress"), "{e}");
    }
}
