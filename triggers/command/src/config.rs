//! The `[[trigger.command]]` entry as it appears in the locked app's `trigger_config`.

use serde::Deserialize;

/// One command trigger's configuration: only the component to run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandTriggerConfig {
    /// The component whose `wasi:cli/run` export runs once.
    pub component: String,
}

impl CommandTriggerConfig {
    /// Parses one trigger's `trigger_config`; errors name the trigger id.
    pub fn parse(trigger_id: &str, value: &serde_json::Value) -> anyhow::Result<Self> {
        serde_json::from_value(value.clone()).map_err(|e| anyhow::anyhow!("trigger `{trigger_id}` (command): {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_component() {
        let c = CommandTriggerConfig::parse("t", &json!({"component": "job"})).unwrap();
        assert_eq!(c.component, "job");
    }

    #[test]
    fn rejects_unknown_field_naming_trigger_and_field() {
        let e = CommandTriggerConfig::parse("t1", &json!({"component": "c", "args": ["x"]})).unwrap_err().to_string();
        assert!(e.contains("t1") && e.contains("args") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn requires_component() {
        let e = CommandTriggerConfig::parse("t2", &json!({})).unwrap_err().to_string();
        assert!(e.contains("t2") && e.contains("component"), "{e}");
    }
}
