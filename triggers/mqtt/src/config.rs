//! The MQTT trigger's settings: the app-level `[application.trigger.mqtt]` table
//! (in the locked app's `metadata.triggers.mqtt`) and each `[[trigger.mqtt]]` entry.
//! Parsing is strict (unknown fields are refused) and every error names the trigger
//! id and the field.

use std::time::Duration;

/// `[application.trigger.mqtt]` as written (strings, `{{ variable }}` templates allowed).
#[derive(Debug, Default)]
pub struct RawAppConfig {
    /// Broker address, `mqtt://host[:port]`.
    pub address: Option<String>,
    /// User name; empty means no credentials.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Keep-alive interval in seconds.
    pub keep_alive_interval: Option<String>,
}

/// One `[[trigger.mqtt]]` entry as written.
#[derive(Debug)]
pub struct RawTriggerConfig {
    /// The component that handles the messages.
    pub component: String,
    /// Topic filter to subscribe to (template allowed).
    pub topic: String,
    /// `"0"`, `"1"` or `"2"`.
    pub qos: String,
}

/// The string fields of one settings table, checked against the fields it may have.
struct Fields<'a> {
    trigger_id: &'a str,
    table: &'a str,
    map: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> Fields<'a> {
    /// Checks that `value` is a table holding only `known` fields.
    fn new(trigger_id: &'a str, table: &'a str, value: &'a serde_json::Value, known: &[&str]) -> anyhow::Result<Self> {
        let map = value
            .as_object()
            .ok_or_else(|| anyhow::anyhow!("trigger `{trigger_id}` (mqtt): {table} must be a table"))?;
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            anyhow::bail!(
                "trigger `{trigger_id}` (mqtt): {table}: unknown field `{unknown}`, expected one of {}",
                known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            );
        }
        Ok(Self { trigger_id, table, map })
    }

    /// The string value of `field` (an integer is taken as its decimal text).
    fn optional(&self, field: &str) -> anyhow::Result<Option<String>> {
        match self.map.get(field) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(serde_json::Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(other) => Err(field_error(self.trigger_id, field, format!("expected a string, found `{other}`"))),
        }
    }

    /// Like [`Fields::optional`], but the field must be present.
    fn required(&self, field: &str) -> anyhow::Result<String> {
        self.optional(field)?.ok_or_else(|| field_error(self.trigger_id, field, format!("missing in {}", self.table)))
    }
}

/// Where the broker is and how to log in: the rendered, validated app-level table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// The address as configured (for logs).
    pub address: String,
    /// Broker host name or IP.
    pub host: String,
    /// Broker port (default 1883).
    pub port: u16,
    /// `client_id` from the address query, if given.
    pub client_id: Option<String>,
    /// User name (empty: none).
    pub username: String,
    /// Password.
    pub password: String,
    /// Keep-alive interval (zero disables pings).
    pub keep_alive: Duration,
}

/// Subscription quality of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qos {
    /// `"0"`: at most once.
    AtMostOnce,
    /// `"1"`: at least once.
    AtLeastOnce,
    /// `"2"`: exactly once.
    ExactlyOnce,
}

/// One trigger ready to subscribe: rendered and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Trigger id (for logs).
    pub trigger_id: String,
    /// Component id.
    pub component: String,
    /// Rendered topic filter.
    pub topic: String,
    /// Requested QoS.
    pub qos: Qos,
}

/// Fields of `[application.trigger.mqtt]`.
const APP_FIELDS: &[&str] = &["address", "username", "password", "keep_alive_interval"];
/// Fields of one `[[trigger.mqtt]]`.
const TRIGGER_FIELDS: &[&str] = &["component", "topic", "qos"];

/// The default MQTT port.
pub const DEFAULT_PORT: u16 = 1883;
/// Keep-alive used when `keep_alive_interval` is not set.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// A setting error: `trigger `<id>` (mqtt): <field>: <problem>`.
fn field_error(trigger_id: &str, field: &str, problem: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("trigger `{trigger_id}` (mqtt): `{field}`: {problem}")
}

impl RawAppConfig {
    /// Reads `metadata.triggers.mqtt` (absent: every field unset); errors name
    /// `trigger_id` (the first MQTT trigger) and the offending field.
    pub fn parse(trigger_id: &str, value: Option<&serde_json::Value>) -> anyhow::Result<Self> {
        let Some(value) = value else { return Ok(Self::default()) };
        let f = Fields::new(trigger_id, "[application.trigger.mqtt]", value, APP_FIELDS)?;
        Ok(Self {
            address: f.optional("address")?,
            username: f.optional("username")?,
            password: f.optional("password")?,
            keep_alive_interval: f.optional("keep_alive_interval")?,
        })
    }

    /// Renders the templates with `render` and validates the result.
    pub fn resolve(
        &self,
        trigger_id: &str,
        render: impl Fn(&str) -> anyhow::Result<String>,
    ) -> anyhow::Result<BrokerConfig> {
        let rendered = |field: &str, v: &Option<String>| -> anyhow::Result<Option<String>> {
            v.as_deref().map(|t| render(t).map_err(|e| field_error(trigger_id, field, format!("{e:#}")))).transpose()
        };
        let address = rendered("address", &self.address)?.filter(|a| !a.trim().is_empty()).ok_or_else(|| {
            field_error(
                trigger_id,
                "address",
                "missing: set `address = \"mqtt://host:1883\"` in [application.trigger.mqtt]",
            )
        })?;
        let (host, port, client_id) = parse_address(&address).map_err(|e| field_error(trigger_id, "address", e))?;
        let keep_alive = match rendered("keep_alive_interval", &self.keep_alive_interval)? {
            None => DEFAULT_KEEP_ALIVE,
            Some(s) => Duration::from_secs(s.trim().parse::<u64>().map_err(|_| {
                field_error(trigger_id, "keep_alive_interval", format!("`{s}` is not a number of seconds"))
            })?),
        };
        Ok(BrokerConfig {
            address: address.clone(),
            host,
            port,
            client_id,
            username: rendered("username", &self.username)?.unwrap_or_default(),
            password: rendered("password", &self.password)?.unwrap_or_default(),
            keep_alive,
        })
    }
}

/// Splits `mqtt://host[:port][?client_id=...]` (scheme `tcp` is accepted too).
fn parse_address(address: &str) -> Result<(String, u16, Option<String>), String> {
    let url = url::Url::parse(address.trim())
        .map_err(|e| format!("`{address}` is not a URL ({e}); expected mqtt://host:port"))?;
    if !matches!(url.scheme(), "mqtt" | "tcp") {
        return Err(format!("scheme `{}` in `{address}` is not supported; expected mqtt://host:port", url.scheme()));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{address}` names no host"))?
        .trim_matches(['[', ']'])
        .to_string();
    let client_id =
        url.query_pairs().find(|(k, _)| k == "client_id").map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty());
    Ok((host, url.port().unwrap_or(DEFAULT_PORT), client_id))
}

impl RawTriggerConfig {
    /// Parses one trigger's `trigger_config`; errors name the trigger id.
    pub fn parse(trigger_id: &str, value: &serde_json::Value) -> anyhow::Result<Self> {
        let f = Fields::new(trigger_id, "[[trigger.mqtt]]", value, TRIGGER_FIELDS)?;
        Ok(Self { component: f.required("component")?, topic: f.required("topic")?, qos: f.required("qos")? })
    }

    /// Renders the topic and validates the QoS.
    pub fn resolve(
        &self,
        trigger_id: &str,
        render: impl Fn(&str) -> anyhow::Result<String>,
    ) -> anyhow::Result<Subscription> {
        let topic = render(&self.topic).map_err(|e| field_error(trigger_id, "topic", format!("{e:#}")))?;
        if topic.is_empty() || !rumqttc::valid_filter(&topic) {
            return Err(field_error(trigger_id, "topic", format!("`{topic}` is not a valid MQTT topic filter")));
        }
        let qos = match self.qos.trim() {
            "0" => Qos::AtMostOnce,
            "1" => Qos::AtLeastOnce,
            "2" => Qos::ExactlyOnce,
            other => {
                return Err(field_error(trigger_id, "qos", format!("`{other}` is not one of \"0\", \"1\", \"2\"")))
            }
        };
        Ok(Subscription { trigger_id: trigger_id.to_string(), component: self.component.clone(), topic, qos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(s: &str) -> anyhow::Result<String> {
        Ok(s.replace("{{ port }}", "1999"))
    }

    #[test]
    fn app_config_renders_and_defaults() {
        let raw = RawAppConfig::parse("t", Some(&json!({"address": "mqtt://127.0.0.1:{{ port }}"}))).unwrap();
        let b = raw.resolve("t", plain).unwrap();
        assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", 1999));
        assert_eq!((b.username.as_str(), b.keep_alive), ("", DEFAULT_KEEP_ALIVE));
        let raw = RawAppConfig::parse(
            "t",
            Some(&json!({"address": "mqtt://broker?client_id=me", "username": "u", "password": "p", "keep_alive_interval": "5"})),
        )
        .unwrap();
        let b = raw.resolve("t", plain).unwrap();
        assert_eq!((b.port, b.client_id.as_deref(), b.keep_alive), (1883, Some("me"), Duration::from_secs(5)));
    }

    #[test]
    fn missing_or_bad_address_names_trigger_and_field() {
        for cfg in [None, Some(json!({"username": "u"})), Some(json!({"address": ""}))] {
            let e = RawAppConfig::parse("t1", cfg.as_ref()).unwrap().resolve("t1", plain).unwrap_err().to_string();
            assert!(e.contains("`t1`") && e.contains("`address`") && e.contains("missing"), "{e}");
        }
        for bad in ["localhost:1883", "http://h:1883", "mqtt://"] {
            let e = RawAppConfig::parse("t1", Some(&json!({"address": bad})))
                .unwrap()
                .resolve("t1", plain)
                .unwrap_err()
                .to_string();
            assert!(e.contains("`t1`") && e.contains("`address`"), "{bad}: {e}");
        }
    }

    #[test]
    fn app_config_rejects_unknown_fields_and_bad_keep_alive() {
        let e =
            RawAppConfig::parse("t1", Some(&json!({"address": "mqtt://h", "adress": "x"}))).unwrap_err().to_string();
        assert!(e.contains("`t1`") && e.contains("adress"), "{e}");
        let e = RawAppConfig::parse("t1", Some(&json!({"address": "mqtt://h", "keep_alive_interval": "soon"})))
            .unwrap()
            .resolve("t1", plain)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`t1`") && e.contains("keep_alive_interval"), "{e}");
    }

    #[test]
    fn trigger_config_qos_topic_and_unknown_fields() {
        let raw =
            RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": "a/{{ port }}", "qos": "2"})).unwrap();
        let s = raw.resolve("t1", plain).unwrap();
        assert_eq!((s.topic.as_str(), s.qos, s.component.as_str()), ("a/1999", Qos::ExactlyOnce, "c"));
        let raw = RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": "a", "qos": "3"})).unwrap();
        let e = raw.resolve("t1", plain).unwrap_err().to_string();
        assert!(e.contains("`t1`") && e.contains("`qos`") && e.contains("`3`"), "{e}");
        let e = RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": "a", "qos": "1", "retain": true}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`t1`") && e.contains("retain"), "{e}");
        let e = RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": "a"})).unwrap_err().to_string();
        assert!(e.contains("`t1`") && e.contains("`qos`") && e.contains("missing"), "{e}");
        let e = RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": ["a"], "qos": "0"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`t1`") && e.contains("`topic`"), "{e}");
        let raw = RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": "a/#/b", "qos": "0"})).unwrap();
        let e = raw.resolve("t1", plain).unwrap_err().to_string();
        assert!(e.contains("`t1`") && e.contains("`topic`"), "{e}");
        let s = RawTriggerConfig::parse("t1", &json!({"component": "c", "topic": "a", "qos": 1})).unwrap();
        assert_eq!(s.resolve("t1", plain).unwrap().qos, Qos::AtLeastOnce);
    }
}
