//! A guest's `wasi:otel/logs` record as the OpenTelemetry SDK's. Everything
//! here comes from the guest: a trace or span id that is not hex of the right
//! length is left out (the record then joins the request's trace), a severity
//! number outside OpenTelemetry's 1 to 24 is left out, attributes past 128 are
//! dropped, and the record's own resource is ignored (the app's is used).

use opentelemetry::logs::{LogRecord as _, Severity};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::logs::SdkLogRecord;

use super::bindings::wasi::otel::logs as wit;
use super::spans::{scope, span_id, time, trace_flags, trace_id, MAX_PER_SPAN};
use crate::telemetry::{any_value, static_text, AppLogs};

/// The SDK record for a guest's `record`, and the scope it was made under.
pub(super) fn log_record(logs: &AppLogs, record: wit::LogRecord) -> (SdkLogRecord, InstrumentationScope) {
    let mut out = logs.new_record();
    if let Some(at) = record.timestamp {
        out.set_timestamp(time(at));
    }
    if let Some(at) = record.observed_timestamp {
        out.set_observed_timestamp(time(at));
    }
    if let Some(text) = record.severity_text.as_deref().and_then(static_text) {
        out.set_severity_text(text);
    }
    if let Some(severity) = record.severity_number.and_then(severity) {
        out.set_severity_number(severity);
    }
    if let Some(body) = record.body {
        out.set_body(json_or_text(body));
    }
    if let Some(name) = record.event_name.as_deref().and_then(static_text) {
        out.set_event_name(name);
    }
    for attribute in record.attributes.unwrap_or_default().into_iter().take(MAX_PER_SPAN) {
        out.add_attribute(attribute.key, json_or_text(attribute.value));
    }
    let trace_id = record.trace_id.as_deref().and_then(trace_id);
    let span_id = record.span_id.as_deref().and_then(span_id);
    if let (Some(trace_id), Some(span_id)) = (trace_id, span_id) {
        out.set_trace_context(trace_id, span_id, record.trace_flags.map(trace_flags));
    }
    let scope = record.instrumentation_scope.map(scope).unwrap_or_default();
    (out, scope)
}

/// OpenTelemetry's severity of `number` (1 to 24).
fn severity(number: u8) -> Option<Severity> {
    use Severity::*;
    const ALL: [Severity; 24] = [
        Trace, Trace2, Trace3, Trace4, Debug, Debug2, Debug3, Debug4, Info, Info2, Info3, Info4, Warn, Warn2, Warn3,
        Warn4, Error, Error2, Error3, Error4, Fatal, Fatal2, Fatal3, Fatal4,
    ];
    ALL.get(usize::from(number).checked_sub(1)?).copied()
}

/// A value the guest wrote as JSON (as its SDK does), else its text as given.
fn json_or_text(value: String) -> opentelemetry::logs::AnyValue {
    match serde_json::from_str(&value) {
        Ok(json) => any_value(json),
        Err(_) => value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_follow_opentelemetrys_numbers() {
        assert_eq!(severity(0), None);
        assert_eq!(severity(1), Some(Severity::Trace));
        assert_eq!(severity(9), Some(Severity::Info));
        assert_eq!(severity(13), Some(Severity::Warn));
        assert_eq!(severity(24), Some(Severity::Fatal4));
        assert_eq!(severity(25), None);
    }

    #[test]
    fn values_are_read_as_json_else_kept_as_text() {
        use opentelemetry::logs::AnyValue;
        assert_eq!(json_or_text("\"hi\"".into()), AnyValue::String("hi".into()));
        assert_eq!(json_or_text("7".into()), AnyValue::Int(7));
        assert_eq!(json_or_text("not json".into()), AnyValue::String("not json".into()));
    }
}
