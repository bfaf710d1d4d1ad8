//! The trigger types this project knows, and the cargo feature that provides each.

/// `(trigger type, cargo feature of the shim crate)`.
pub(crate) const KNOWN_TRIGGER_TYPES: &[(&str, &str)] =
    &[("http", "http"), ("redis", "redis"), ("sqs", "sqs"), ("command", "command"), ("cron", "cron"), ("mqtt", "mqtt")];

/// The cargo feature that compiles in `trigger_type`, if this project has one.
pub(crate) fn feature_for(trigger_type: &str) -> Option<&'static str> {
    KNOWN_TRIGGER_TYPES.iter().find(|(t, _)| *t == trigger_type).map(|(_, f)| *f)
}
