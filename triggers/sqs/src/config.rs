//! The `[[trigger.sqs]]` entry as it appears in the locked app's `trigger_config`,
//! and its validated form.

use std::time::Duration;

use serde::de::DeserializeOwned;

/// Messages asked for per ReceiveMessage call when `max_messages` is not set.
pub const DEFAULT_MAX_MESSAGES: u16 = 10;
/// Pause after an empty (long-polled) receive when `idle_wait_seconds` is not set.
pub const DEFAULT_IDLE_WAIT_SECONDS: u64 = 2;

/// The fields a `[[trigger.sqs]]` entry may hold, as Spin's plugin spells them.
pub const FIELDS: &[&str] =
    &["component", "queue_url", "max_messages", "idle_wait_seconds", "system_attributes", "message_attributes"];

/// A validated SQS trigger: which component handles which queue, and how to poll it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueTrigger {
    /// The trigger id, for logs.
    pub trigger_id: String,
    /// The handling component's id.
    pub component: String,
    /// The queue URL, checked to be an absolute http(s) URL.
    pub queue_url: String,
    /// Messages asked for per receive.
    pub max_messages: u16,
    /// Pause after an empty receive.
    pub idle_wait: Duration,
    /// System attribute names to request.
    pub system_attributes: Vec<String>,
    /// User attribute names to request.
    pub message_attributes: Vec<String>,
}

impl QueueTrigger {
    /// Parses and checks one trigger's `trigger_config`; every error is one line
    /// naming the trigger id and the offending field.
    pub fn parse(trigger_id: &str, value: &serde_json::Value) -> anyhow::Result<Self> {
        let fail = |msg: String| anyhow::anyhow!("trigger `{trigger_id}` (sqs): {msg}");
        let table = value.as_object().ok_or_else(|| fail(format!("expected a table, found {value}")))?;
        if let Some(unknown) = table.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(fail(format!("unknown field `{unknown}`, expected one of {}", FIELDS.join(", "))));
        }
        let component: String = field(table, "component").map_err(fail)?.ok_or_else(|| fail(missing("component")))?;
        let queue_url: String = field(table, "queue_url").map_err(fail)?.ok_or_else(|| fail(missing("queue_url")))?;
        check_queue_url(&queue_url).map_err(|e| fail(format!("field `queue_url` = {queue_url:?}: {e}")))?;
        let max_messages = field::<u16>(table, "max_messages").map_err(fail)?.unwrap_or(DEFAULT_MAX_MESSAGES);
        if max_messages == 0 {
            return Err(fail("field `max_messages` must be at least 1".into()));
        }
        let idle_wait = field::<u64>(table, "idle_wait_seconds").map_err(fail)?.unwrap_or(DEFAULT_IDLE_WAIT_SECONDS);
        Ok(Self {
            trigger_id: trigger_id.to_string(),
            component,
            queue_url,
            max_messages,
            idle_wait: Duration::from_secs(idle_wait),
            system_attributes: field(table, "system_attributes").map_err(fail)?.unwrap_or_default(),
            message_attributes: field(table, "message_attributes").map_err(fail)?.unwrap_or_default(),
        })
    }
}

/// Reads an optional field, naming it in the error when its value has the wrong type.
fn field<T: DeserializeOwned>(
    table: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<T>, String> {
    table.get(name).map(|v| serde_json::from_value(v.clone()).map_err(|e| format!("field `{name}`: {e}"))).transpose()
}

fn missing(name: &str) -> String {
    format!("missing required field `{name}`")
}

/// A queue URL must be absolute, http or https, and name a host.
fn check_queue_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "http://127.0.0.1:4566/000000000000/jobs";

    #[test]
    fn defaults_apply() {
        let t = QueueTrigger::parse("t", &json!({"component": "c", "queue_url": URL})).unwrap();
        assert_eq!(t.max_messages, 10);
        assert_eq!(t.idle_wait, Duration::from_secs(2));
        assert!(t.system_attributes.is_empty() && t.message_attributes.is_empty());
        assert_eq!((t.component.as_str(), t.queue_url.as_str()), ("c", URL));
    }

    #[test]
    fn all_fields_parse() {
        let t = QueueTrigger::parse(
            "t",
            &json!({"component": "c", "queue_url": URL, "max_messages": 3, "idle_wait_seconds": 7,
                    "system_attributes": ["All"], "message_attributes": ["colour", "size"]}),
        )
        .unwrap();
        assert_eq!(t.max_messages, 3);
        assert_eq!(t.idle_wait, Duration::from_secs(7));
        assert_eq!(t.system_attributes, vec!["All"]);
        assert_eq!(t.message_attributes, vec!["colour", "size"]);
    }

    fn error(value: serde_json::Value) -> String {
        let e = QueueTrigger::parse("jobs-trigger", &value).unwrap_err().to_string();
        assert!(!e.contains('\n'), "one line expected: {e}");
        assert!(e.contains("jobs-trigger"), "{e}");
        e
    }

    #[test]
    fn missing_queue_url_names_field() {
        assert!(error(json!({"component": "c"})).contains("queue_url"));
    }

    #[test]
    fn unknown_field_is_named() {
        assert!(error(json!({"component": "c", "queue_url": URL, "queue": "x"})).contains("`queue`"));
    }

    #[test]
    fn bad_queue_urls_are_refused() {
        for bad in ["not a url", "jobs", "ftp://host/q", "http://", "", "sqs://queue"] {
            let e = error(json!({"component": "c", "queue_url": bad}));
            assert!(e.contains("queue_url"), "{bad}: {e}");
        }
    }

    #[test]
    fn wrong_types_and_zero_messages_are_refused() {
        assert!(error(json!({"component": "c", "queue_url": URL, "max_messages": 70000})).contains("u16"));
        assert!(error(json!({"component": "c", "queue_url": URL, "max_messages": 0})).contains("max_messages"));
        assert!(error(json!({"component": "c", "queue_url": URL, "system_attributes": "All"}))
            .contains("system_attributes"));
        assert!(error(json!({"component": "c", "queue_url": 5})).contains("queue_url"));
        assert!(error(json!({"queue_url": URL})).contains("component"));
    }
}
