//! The `[[trigger.sqs]]` entry as it appears in the locked app's `trigger_config`,
//! and its validated form.

use std::time::Duration;

use serde::Deserialize;
use spin_engine::trigger::{ConfigProblem, TriggerConfig};

/// Messages asked for per ReceiveMessage call when `max_messages` is not set.
pub(crate) const DEFAULT_MAX_MESSAGES: u16 = 10;
/// Pause after an empty (long-polled) receive when `idle_wait_seconds` is not set.
pub(crate) const DEFAULT_IDLE_WAIT_SECONDS: u64 = 2;

/// One `[[trigger.sqs]]` entry, with the fields Spin's plugin spells.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct SqsTriggerConfig {
    /// The handling component's id.
    pub component: String,
    /// The queue URL: an absolute http(s) URL.
    pub queue_url: String,
    /// Messages asked for per receive (at least 1).
    #[serde(default = "default_max_messages")]
    pub max_messages: u16,
    /// Seconds to pause after an empty receive.
    #[serde(default = "default_idle_wait_seconds")]
    pub idle_wait_seconds: u64,
    /// System attribute names to request.
    #[serde(default)]
    pub system_attributes: Vec<String>,
    /// User attribute names to request.
    #[serde(default)]
    pub message_attributes: Vec<String>,
}

fn default_max_messages() -> u16 {
    DEFAULT_MAX_MESSAGES
}

fn default_idle_wait_seconds() -> u64 {
    DEFAULT_IDLE_WAIT_SECONDS
}

/// Why a `queue_url` cannot be polled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QueueUrlError {
    /// It does not parse as a URL.
    #[error("{url:?} is not a valid URL ({source})")]
    NotUrl {
        /// The value as written.
        url: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// Its scheme is neither http nor https.
    #[error("{url:?}: scheme `{scheme}` is not http or https")]
    Scheme {
        /// The value as written.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// It names no host.
    #[error("{0:?}: the URL has no host")]
    NoHost(String),
}

impl TriggerConfig for SqsTriggerConfig {
    const TYPE: &'static str = "sqs";

    fn component(&self) -> Option<&str> {
        Some(&self.component)
    }

    fn check(&self) -> Result<(), ConfigProblem> {
        check_queue_url(&self.queue_url).map_err(|e| ConfigProblem::field("queue_url", e))?;
        if self.max_messages == 0 {
            return Err(ConfigProblem::field("max_messages", "must be at least 1"));
        }
        Ok(())
    }
}

/// A queue URL must be absolute, http or https, and name a host.
fn check_queue_url(raw: &str) -> Result<(), QueueUrlError> {
    let url = url::Url::parse(raw).map_err(|source| QueueUrlError::NotUrl { url: raw.to_string(), source })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(QueueUrlError::Scheme { url: raw.to_string(), scheme: url.scheme().to_string() });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(QueueUrlError::NoHost(raw.to_string()));
    }
    Ok(())
}

impl SqsTriggerConfig {
    /// The pause after an empty receive.
    pub(crate) fn idle_wait(&self) -> Duration {
        Duration::from_secs(self.idle_wait_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spin_engine::trigger::TriggerEntry;

    const URL: &str = "http://127.0.0.1:4566/000000000000/jobs";

    fn parse(value: serde_json::Value) -> SqsTriggerConfig {
        TriggerEntry::parse("t", &value).unwrap().config
    }

    #[test]
    fn defaults_apply() {
        let t = parse(json!({"component": "c", "queue_url": URL}));
        assert_eq!(t.max_messages, 10);
        assert_eq!(t.idle_wait(), Duration::from_secs(2));
        assert!(t.system_attributes.is_empty() && t.message_attributes.is_empty());
        assert_eq!((t.component.as_str(), t.queue_url.as_str()), ("c", URL));
    }

    #[test]
    fn all_fields_parse() {
        let t = parse(json!({"component": "c", "queue_url": URL, "max_messages": 3, "idle_wait_seconds": 7,
                             "system_attributes": ["All"], "message_attributes": ["colour", "size"]}));
        assert_eq!(t.max_messages, 3);
        assert_eq!(t.idle_wait(), Duration::from_secs(7));
        assert_eq!(t.system_attributes, vec!["All"]);
        assert_eq!(t.message_attributes, vec!["colour", "size"]);
    }

    fn error(value: serde_json::Value) -> String {
        let e = TriggerEntry::<SqsTriggerConfig>::parse("jobs-trigger", &value).unwrap_err().to_string();
        assert!(!e.contains('\n'), "one line expected: {e}");
        assert!(e.starts_with("trigger `jobs-trigger` (sqs): "), "{e}");
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
            assert!(e.contains("field `queue_url`"), "{bad}: {e}");
        }
    }

    #[test]
    fn wrong_types_and_zero_messages_are_refused() {
        assert!(error(json!({"component": "c", "queue_url": URL, "max_messages": 70000})).contains("u16"));
        assert!(error(json!({"component": "c", "queue_url": URL, "max_messages": 0})).contains("max_messages"));
        assert!(error(json!({"component": "c", "queue_url": URL, "system_attributes": "All"}))
            .contains("field `system_attributes`"));
        assert!(error(json!({"component": "c", "queue_url": 5})).contains("field `queue_url`"));
        assert!(error(json!({"queue_url": URL})).contains("component"));
    }
}
