//! Log records over OTLP, as Spin exports them when `OTEL_EXPORTER_OTLP_*`
//! names a collector: every line a guest writes to stdout or stderr
//! ([`OutputLogs`]), and the records a guest emits through `wasi:otel/logs`
//! ([`AppLogs::emit`]). A record made while a traced request is served carries
//! that request's trace and span ids. Records leave in batches from the
//! exporter's own thread; a full queue drops records rather than slow the guest.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, InstrumentationScope, Key};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger, SdkLoggerProvider};

use super::guests::{host_call_context, InstanceTraces};

/// How many distinct texts guests may give as a severity text or an event name
/// (the SDK keeps both as `&'static str`, so each distinct one is kept for the
/// process's life); past it a new one is left out of the record.
const MAX_STATIC_TEXTS: usize = 256;

/// The most bytes of one line of guest output put in a record's body; the rest
/// of a longer line is left out (the log files and the container log keep it whole).
const MAX_LINE: usize = 16 * 1024;

/// The app's log pipeline: where guests' output lines and `wasi:otel` records go.
#[derive(Clone, Debug)]
pub struct AppLogs {
    provider: SdkLoggerProvider,
    /// The logger of guests' output lines (scope `spin`, as Spin's).
    output: SdkLogger,
}

impl AppLogs {
    pub(super) fn new(provider: SdkLoggerProvider) -> Self {
        let output = provider.logger("spin");
        Self { provider, output }
    }

    /// Sends what is still batched and stops the exporter.
    pub(super) fn shutdown(self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.provider.shutdown()
    }

    /// What one of `component`'s output streams (`stdout` or `stderr`) logs with.
    pub fn output(&self, component: &str, stream: &'static str) -> OutputLogs {
        let component = opentelemetry::StringValue::from(Arc::<str>::from(component));
        OutputLogs { logs: self.clone(), component, stream, traces: None }
    }

    /// A record for a guest to fill in (see [`AppLogs::emit`]).
    pub fn new_record(&self) -> SdkLogRecord {
        self.output.create_log_record()
    }

    /// Queues a guest's `record`, made under instrumentation `scope`; a record
    /// without a trace of its own joins the trace of `context`'s request.
    pub fn emit(&self, mut record: SdkLogRecord, scope: InstrumentationScope, context: &Context) {
        if record.trace_context().is_none() {
            join_trace(&mut record, context);
        }
        self.provider.logger_with_scope(scope).emit(record);
    }
}

/// The records of one output stream of one component's instances: one per line,
/// with the attributes `component_id` and `log.iostream`.
#[derive(Clone, Debug)]
pub struct OutputLogs {
    logs: AppLogs,
    /// The component's id, reference-counted so each record shares it.
    component: opentelemetry::StringValue,
    stream: &'static str,
    /// For a reused instance, the requests it serves.
    traces: Option<Arc<InstanceTraces>>,
}

impl OutputLogs {
    /// These records, for an instance that serves the requests of `traces`.
    pub fn for_instance(&self, traces: Option<Arc<InstanceTraces>>) -> Self {
        Self { traces, ..self.clone() }
    }

    /// Records each line of `bytes` (a final line without its newline too;
    /// blank lines are skipped). Text that is not UTF-8 is recorded with its
    /// invalid bytes replaced and the attribute `app_log_non_utf8 = true`.
    pub fn write(&self, bytes: &[u8]) {
        let context = host_call_context(self.traces.as_deref());
        for line in bytes.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = &line[..line.len().min(MAX_LINE)];
            let mut record = self.logs.output.create_log_record();
            match String::from_utf8_lossy(line) {
                Cow::Borrowed(text) => record.set_body(text.to_owned().into()),
                Cow::Owned(text) => {
                    record.set_body(text.into());
                    record.add_attribute("app_log_non_utf8", true);
                }
            }
            record.add_attribute("component_id", self.component.clone());
            record.add_attribute("log.iostream", self.stream);
            join_trace(&mut record, &context);
            self.logs.output.emit(record);
        }
    }
}

/// Gives `record` the trace and span ids of `context`'s span, if it has one.
fn join_trace(record: &mut SdkLogRecord, context: &Context) {
    let span = context.span();
    let span = span.span_context();
    if span.is_valid() {
        record.set_trace_context(span.trace_id(), span.span_id(), Some(span.trace_flags()));
    }
}

/// `text` as the `&'static str` the SDK keeps severity texts and event names
/// as (see [`StaticTexts`]); None once guests have given too many distinct ones.
pub fn static_text(text: &str) -> Option<&'static str> {
    static TEXTS: OnceLock<StaticTexts> = OnceLock::new();
    TEXTS.get_or_init(|| StaticTexts::new(MAX_STATIC_TEXTS)).get(text)
}

/// Texts kept for the process's life, one copy per distinct text and at most
/// `cap` of them, so a guest cannot grow the process's memory through them.
struct StaticTexts {
    texts: Mutex<HashSet<&'static str>>,
    cap: usize,
}

impl StaticTexts {
    fn new(cap: usize) -> Self {
        Self { texts: Mutex::default(), cap }
    }

    fn get(&self, text: &str) -> Option<&'static str> {
        let mut texts = self.texts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = texts.get(text) {
            return Some(known);
        }
        if texts.len() >= self.cap {
            return None;
        }
        let kept: &'static str = Box::leak(text.to_owned().into_boxed_str());
        texts.insert(kept);
        Some(kept)
    }
}

/// A JSON value as a log body or attribute value, as the guest SDKs write them.
pub fn any_value(json: serde_json::Value) -> AnyValue {
    use serde_json::Value as Json;
    match json {
        Json::Null => AnyValue::String("".into()),
        Json::Bool(b) => AnyValue::Boolean(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Int(i),
            None => AnyValue::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => AnyValue::String(s.into()),
        Json::Array(items) => AnyValue::ListAny(Box::new(items.into_iter().map(any_value).collect())),
        Json::Object(map) => {
            AnyValue::Map(Box::new(map.into_iter().map(|(k, v)| (Key::from(k), any_value(v))).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_texts_are_shared_and_bounded() {
        let texts = StaticTexts::new(3);
        let first = texts.get("WARN").unwrap();
        assert!(std::ptr::eq(first, texts.get("WARN").unwrap()), "one copy per distinct text");
        assert!(texts.get("INFO").is_some() && texts.get("ERROR").is_some());
        assert_eq!(texts.get("DEBUG"), None, "past the cap a new text is left out");
        assert!(texts.get("WARN").is_some(), "known texts are still found");
    }

    #[test]
    fn json_bodies_keep_their_structure() {
        let value = any_value(serde_json::json!({"user": "ann", "tries": 3, "ok": true, "tags": ["a", 1.5]}));
        let AnyValue::Map(map) = value else { panic!("{value:?}") };
        assert_eq!(map[&Key::from("user")], AnyValue::String("ann".into()));
        assert_eq!(map[&Key::from("tries")], AnyValue::Int(3));
        assert_eq!(map[&Key::from("ok")], AnyValue::Boolean(true));
        assert_eq!(
            map[&Key::from("tags")],
            AnyValue::ListAny(Box::new(vec![AnyValue::String("a".into()), AnyValue::Double(1.5)]))
        );
    }
}
