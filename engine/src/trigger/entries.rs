//! Typed trigger settings by type: each `[[trigger.<TYPE>]]` entry deserialized
//! into its trigger's config type, the app-level `[application.trigger.<TYPE>]`
//! table likewise, and the entry's component looked up, all with one error format.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::config_error::{ConfigProblem, TriggerConfigError};
use crate::locked::LockedApp;
use crate::runtime::{PreparedApp, PreparedComponent};

/// The config of one `[[trigger.<TYPE>]]` entry (serde checks its shape).
pub trait TriggerConfig: DeserializeOwned {
    /// The trigger type this config belongs to.
    const TYPE: &'static str;

    /// The component the entry calls (`None` when it calls none, e.g. a static response).
    fn component(&self) -> Option<&str>;

    /// Checks beyond the table's shape (values, rules between fields); none by default.
    fn check(&self) -> Result<(), ConfigProblem> {
        Ok(())
    }
}

/// One trigger entry: its id and its typed config.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerEntry<C> {
    /// The trigger id.
    pub id: String,
    /// The typed config.
    pub config: C,
}

impl<C: TriggerConfig> TriggerEntry<C> {
    /// Deserializes and checks the `trigger_config` of trigger `id`.
    pub fn parse(id: &str, value: &Value) -> Result<Self, TriggerConfigError> {
        let error = |problem| TriggerConfigError::new(id, C::TYPE, problem);
        let config: C = serde_path_to_error::deserialize(value).map_err(|e| error(ConfigProblem::Shape(e)))?;
        config.check().map_err(error)?;
        Ok(Self { id: id.to_string(), config })
    }

    /// `problem` as this entry's error.
    pub fn error(&self, problem: impl Into<ConfigProblem>) -> TriggerConfigError {
        TriggerConfigError::new(self.id.clone(), C::TYPE, problem)
    }

    /// The prepared component the entry calls.
    pub fn component<'a>(&self, app: &'a PreparedApp) -> Result<&'a Arc<PreparedComponent>, TriggerConfigError> {
        let id = self.config.component().unwrap_or_default();
        app.component(id).map_err(|_| self.error(ConfigProblem::UnknownComponent(id.to_string())))
    }
}

/// Every `[[trigger.<C::TYPE>]]` entry of `app`, in manifest order; the first
/// invalid one is the error.
pub fn trigger_entries<C: TriggerConfig>(app: &LockedApp) -> Result<Vec<TriggerEntry<C>>, TriggerConfigError> {
    app.triggers_of(C::TYPE).map(|t| TriggerEntry::parse(&t.id, &t.trigger_config)).collect()
}

/// `[application.trigger.<trigger_type>]`: the locked app's `triggers.<type>`
/// metadata, else the single-type `trigger` table when its type is this one;
/// `A::default()` when neither is there. Errors carry the first trigger's id.
pub fn app_settings<A: DeserializeOwned + Default>(
    app: &LockedApp,
    trigger_type: &'static str,
) -> Result<A, TriggerConfigError> {
    let table = match app.metadata.get("triggers").and_then(|t| t.get(trigger_type)) {
        Some(t) => t.clone(),
        None => match app.metadata.get("trigger") {
            Some(Value::Object(t)) if t.get("type").and_then(Value::as_str) == Some(trigger_type) => {
                let mut t = t.clone();
                t.remove("type");
                Value::Object(t)
            }
            _ => return Ok(A::default()),
        },
    };
    serde_path_to_error::deserialize(table).map_err(|error| {
        let first = app.triggers_of(trigger_type).next().map_or_else(String::new, |t| t.id.clone());
        TriggerConfigError::new(first, trigger_type, ConfigProblem::AppTable { table: trigger_type, error })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Tick {
        component: String,
        every: u16,
    }

    impl TriggerConfig for Tick {
        const TYPE: &'static str = "tick";

        fn component(&self) -> Option<&str> {
            Some(&self.component)
        }

        fn check(&self) -> Result<(), ConfigProblem> {
            match self.every {
                0 => Err(ConfigProblem::field("every", "must be at least 1")),
                _ => Ok(()),
            }
        }
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct TickApp {
        zone: Option<String>,
    }

    fn app(metadata: Value, triggers: Value) -> LockedApp {
        serde_json::from_value(json!({
            "spin_lock_version": 1, "metadata": metadata, "triggers": triggers, "components": []
        }))
        .unwrap()
    }

    fn error(config: Value) -> String {
        TriggerEntry::<Tick>::parse("t1", &config).unwrap_err().to_string()
    }

    #[test]
    fn entries_of_the_type_parse_in_manifest_order() {
        let triggers = json!([
            {"id": "a", "trigger_type": "tick", "trigger_config": {"component": "x", "every": 2}},
            {"id": "b", "trigger_type": "http", "trigger_config": {"component": "y", "route": "/"}},
            {"id": "c", "trigger_type": "tick", "trigger_config": {"component": "z", "every": 3}},
        ]);
        let entries = trigger_entries::<Tick>(&app(json!({}), triggers)).unwrap();
        let ids: Vec<_> = entries.iter().map(|e| (e.id.as_str(), e.config.every)).collect();
        assert_eq!(ids, [("a", 2), ("c", 3)]);
    }

    #[test]
    fn every_problem_is_one_line_naming_the_trigger_type_and_field() {
        assert_eq!(error(json!({"component": "x"})), "trigger `t1` (tick): missing field `every`");
        let e = error(json!({"component": "x", "every": 1, "evry": 2}));
        assert!(e.starts_with("trigger `t1` (tick): unknown field `evry`, expected"), "{e}");
        assert_eq!(
            error(json!({"component": "x", "every": "ten"})),
            "trigger `t1` (tick): field `every`: invalid type: string \"ten\", expected u16"
        );
        assert_eq!(
            error(json!({"component": "x", "every": 0})),
            "trigger `t1` (tick): field `every`: must be at least 1"
        );
        assert!(error(json!("text")).starts_with("trigger `t1` (tick): invalid type: string"), "{}", error(json!("x")));
    }

    #[test]
    fn app_settings_come_from_triggers_or_the_single_type_table() {
        let tick = json!([{"id": "t", "trigger_type": "tick", "trigger_config": {}}]);
        let read = |m: Value| app_settings::<TickApp>(&app(m, tick.clone()), "tick");
        assert_eq!(read(json!({"triggers": {"tick": {"zone": "a"}}})).unwrap().zone.as_deref(), Some("a"));
        assert_eq!(read(json!({"trigger": {"type": "tick", "zone": "b"}})).unwrap().zone.as_deref(), Some("b"));
        assert_eq!(read(json!({"trigger": {"type": "http", "base": "/"}})).unwrap(), TickApp::default());
        let e = read(json!({"triggers": {"tick": {"zon": "x"}}})).unwrap_err().to_string();
        assert!(e.starts_with("trigger `t` (tick): [application.trigger.tick]: unknown field `zon`"), "{e}");
    }
}
