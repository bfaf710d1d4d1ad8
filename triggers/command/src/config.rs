//! The `[[trigger.command]]` entry as it appears in the locked app's `trigger_config`.

use serde::Deserialize;
use spin_engine::trigger::TriggerConfig;

/// One command trigger's configuration: only the component to run.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommandTriggerConfig {
    /// The component whose `wasi:cli/run` export runs once.
    pub component: String,
}

impl TriggerConfig for CommandTriggerConfig {
    const TYPE: &'static str = "command";

    fn component(&self) -> Option<&str> {
        Some(&self.component)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spin_engine::trigger::TriggerEntry;

    fn parse(id: &str, value: serde_json::Value) -> Result<CommandTriggerConfig, String> {
        TriggerEntry::parse(id, &value).map(|e| e.config).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_component() {
        assert_eq!(parse("t", json!({"component": "job"})).unwrap().component, "job");
    }

    #[test]
    fn rejects_unknown_field_naming_trigger_and_field() {
        let e = parse("t1", json!({"component": "c", "args": ["x"]})).unwrap_err();
        assert!(e.contains("`t1` (command)") && e.contains("args") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn requires_component() {
        let e = parse("t2", json!({})).unwrap_err();
        assert!(e.contains("t2") && e.contains("component"), "{e}");
    }
}
