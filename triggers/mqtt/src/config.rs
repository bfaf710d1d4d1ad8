//! The MQTT trigger's settings: the app-level `[application.trigger.mqtt]` table
//! and each `[[trigger.mqtt]]` entry. Parsing is strict (unknown fields are
//! refused) and every error names the trigger id and the field.

use std::fmt;
use std::time::Duration;

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use spin_engine::trigger::{ConfigProblem, TriggerConfig, TriggerConfigError, TriggerEntry};

/// `[application.trigger.mqtt]` as written (strings, `{{ variable }}` templates allowed).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAppConfig {
    /// Broker address, `mqtt://host[:port]`.
    #[serde(default, deserialize_with = "optional_text")]
    pub address: Option<String>,
    /// User name; empty means no credentials.
    #[serde(default, deserialize_with = "optional_text")]
    pub username: Option<String>,
    /// Password.
    #[serde(default, deserialize_with = "optional_text")]
    pub password: Option<String>,
    /// Keep-alive interval in seconds.
    #[serde(default, deserialize_with = "optional_text")]
    pub keep_alive_interval: Option<String>,
}

/// One `[[trigger.mqtt]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTriggerConfig {
    /// The component that handles the messages.
    #[serde(deserialize_with = "text")]
    pub component: String,
    /// Topic filter to subscribe to (template allowed).
    #[serde(deserialize_with = "text")]
    pub topic: String,
    /// `"0"`, `"1"` or `"2"`.
    #[serde(deserialize_with = "text")]
    pub qos: String,
}

impl TriggerConfig for RawTriggerConfig {
    const TYPE: &'static str = "mqtt";

    fn component(&self) -> Option<&str> {
        Some(&self.component)
    }
}

/// A string setting, where an integer is taken as its decimal text (`qos = 1`).
struct Text;

impl Visitor<'_> for Text {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Text)
}

fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    text(d).map(Some)
}

/// Why a broker address cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AddressError {
    /// None is set (or it renders to nothing).
    #[error("missing: set `address = \"mqtt://host:1883\"` in [application.trigger.mqtt]")]
    Missing,
    /// It does not parse as a URL.
    #[error("`{address}` is not a URL ({source}); expected mqtt://host:port")]
    NotUrl {
        /// The rendered address.
        address: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// Its scheme is neither `mqtt` nor `tcp`.
    #[error("scheme `{scheme}` in `{address}` is not supported; expected mqtt://host:port")]
    Scheme {
        /// The rendered address.
        address: String,
        /// Its scheme.
        scheme: String,
    },
    /// It names no host.
    #[error("`{0}` names no host")]
    NoHost(String),
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

/// Subscription quality of service (named as MQTT names the levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Qos {
    /// `"0"`: at most once.
    AtMostOnce,
    /// `"1"`: at least once.
    AtLeastOnce,
    /// `"2"`: exactly once.
    ExactlyOnce,
}

/// One trigger ready to subscribe: rendered and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// Trigger id (for logs).
    pub trigger_id: String,
    /// Component id.
    pub component: String,
    /// Rendered topic filter.
    pub topic: String,
    /// Requested QoS.
    pub qos: Qos,
}

/// The default MQTT port.
pub(crate) const DEFAULT_PORT: u16 = 1883;
/// Keep-alive used when `keep_alive_interval` is not set.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

impl RawAppConfig {
    /// Renders the templates with `render` and validates the result; errors are
    /// reported on `first` (the app's first MQTT trigger).
    pub fn resolve(
        &self,
        first: &TriggerEntry<RawTriggerConfig>,
        render: impl Fn(&str) -> anyhow::Result<String>,
    ) -> Result<BrokerConfig, TriggerConfigError> {
        let fail = |field, reason: String| first.error(ConfigProblem::field(field, reason));
        let rendered = |field, v: &Option<String>| {
            v.as_deref().map(|t| render(t).map_err(|e| fail(field, format!("{e:#}")))).transpose()
        };
        let address = rendered("address", &self.address)?
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| first.error(ConfigProblem::field("address", AddressError::Missing)))?;
        let (host, port, client_id) =
            parse_address(&address).map_err(|e| first.error(ConfigProblem::field("address", e)))?;
        let keep_alive = match rendered("keep_alive_interval", &self.keep_alive_interval)? {
            None => DEFAULT_KEEP_ALIVE,
            Some(s) => Duration::from_secs(
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| fail("keep_alive_interval", format!("`{s}` is not a number of seconds")))?,
            ),
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
fn parse_address(address: &str) -> Result<(String, u16, Option<String>), AddressError> {
    let url = url::Url::parse(address.trim())
        .map_err(|source| AddressError::NotUrl { address: address.to_string(), source })?;
    if !matches!(url.scheme(), "mqtt" | "tcp") {
        return Err(AddressError::Scheme { address: address.to_string(), scheme: url.scheme().to_string() });
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| AddressError::NoHost(address.to_string()))?
        .trim_matches(['[', ']'])
        .to_string();
    let client_id =
        url.query_pairs().find(|(k, _)| k == "client_id").map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty());
    Ok((host, url.port().unwrap_or(DEFAULT_PORT), client_id))
}

/// Renders an entry's topic and validates its QoS.
pub(crate) fn subscription(
    entry: &TriggerEntry<RawTriggerConfig>,
    render: impl Fn(&str) -> anyhow::Result<String>,
) -> Result<Subscription, TriggerConfigError> {
    let fail = |field, reason: String| entry.error(ConfigProblem::field(field, reason));
    let raw = &entry.config;
    let topic = render(&raw.topic).map_err(|e| fail("topic", format!("{e:#}")))?;
    if topic.is_empty() || !rumqttc::valid_filter(&topic) {
        return Err(fail("topic", format!("`{topic}` is not a valid MQTT topic filter")));
    }
    let qos = match raw.qos.trim() {
        "0" => Qos::AtMostOnce,
        "1" => Qos::AtLeastOnce,
        "2" => Qos::ExactlyOnce,
        other => return Err(fail("qos", format!("`{other}` is not one of \"0\", \"1\", \"2\""))),
    };
    Ok(Subscription { trigger_id: entry.id.clone(), component: raw.component.clone(), topic, qos })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn plain(s: &str) -> anyhow::Result<String> {
        Ok(s.replace("{{ port }}", "1999"))
    }

    fn entry(config: Value) -> Result<TriggerEntry<RawTriggerConfig>, String> {
        TriggerEntry::parse("t1", &config).map_err(|e| e.to_string())
    }

    fn first() -> TriggerEntry<RawTriggerConfig> {
        entry(json!({"component": "c", "topic": "a", "qos": "0"})).unwrap()
    }

    fn broker(table: Value) -> Result<BrokerConfig, String> {
        let raw: RawAppConfig = serde_json::from_value(table).map_err(|e| e.to_string())?;
        raw.resolve(&first(), plain).map_err(|e| e.to_string())
    }

    fn sub(config: Value) -> Result<Subscription, String> {
        subscription(&entry(config)?, plain).map_err(|e| e.to_string())
    }

    #[test]
    fn app_config_renders_and_defaults() {
        let b = broker(json!({"address": "mqtt://127.0.0.1:{{ port }}"})).unwrap();
        assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", 1999));
        assert_eq!((b.username.as_str(), b.keep_alive), ("", DEFAULT_KEEP_ALIVE));
        let b = broker(
            json!({"address": "mqtt://broker?client_id=me", "username": "u", "password": "p", "keep_alive_interval": 5}),
        )
        .unwrap();
        assert_eq!((b.port, b.client_id.as_deref(), b.keep_alive), (1883, Some("me"), Duration::from_secs(5)));
    }

    #[test]
    fn missing_or_bad_address_names_trigger_and_field() {
        for cfg in [json!({}), json!({"username": "u"}), json!({"address": ""})] {
            let e = broker(cfg).unwrap_err();
            assert!(e.contains("`t1`") && e.contains("`address`") && e.contains("missing"), "{e}");
        }
        for bad in ["localhost:1883", "http://h:1883", "mqtt://"] {
            let e = broker(json!({"address": bad})).unwrap_err();
            assert!(e.contains("`t1`") && e.contains("`address`"), "{bad}: {e}");
        }
    }

    #[test]
    fn app_config_rejects_bad_keep_alive() {
        let e = broker(json!({"address": "mqtt://h", "keep_alive_interval": "soon"})).unwrap_err();
        assert!(e.contains("`t1`") && e.contains("keep_alive_interval"), "{e}");
        let e = broker(json!({"address": "mqtt://h", "adress": "x"})).unwrap_err();
        assert!(e.contains("adress"), "{e}");
    }

    #[test]
    fn trigger_config_qos_topic_and_unknown_fields() {
        let s = sub(json!({"component": "c", "topic": "a/{{ port }}", "qos": "2"})).unwrap();
        assert_eq!((s.topic.as_str(), s.qos, s.component.as_str()), ("a/1999", Qos::ExactlyOnce, "c"));
        let e = sub(json!({"component": "c", "topic": "a", "qos": "3"})).unwrap_err();
        assert!(e.contains("`t1`") && e.contains("`qos`") && e.contains("`3`"), "{e}");
        let e = sub(json!({"component": "c", "topic": "a", "qos": "1", "retain": true})).unwrap_err();
        assert!(e.contains("`t1`") && e.contains("retain"), "{e}");
        let e = sub(json!({"component": "c", "topic": "a"})).unwrap_err();
        assert!(e.contains("`t1`") && e.contains("`qos`") && e.contains("missing"), "{e}");
        let e = sub(json!({"component": "c", "topic": ["a"], "qos": "0"})).unwrap_err();
        assert!(e.contains("`t1`") && e.contains("`topic`"), "{e}");
        let e = sub(json!({"component": "c", "topic": "a/#/b", "qos": "0"})).unwrap_err();
        assert!(e.contains("`t1`") && e.contains("`topic`"), "{e}");
        assert_eq!(sub(json!({"component": "c", "topic": "a", "qos": 1})).unwrap().qos, Qos::AtLeastOnce);
    }
}
