//! A guest's `wasi:otel/tracing` records as the OpenTelemetry SDK's types.
//! Everything here comes from the guest: ids that are not hex of the right
//! length, or are all zeros, drop the span, and attributes, events and links
//! past OpenTelemetry's default limit of 128 each are counted as dropped.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime;
use super::bindings::wasi::otel::{tracing as wit, types};

/// OpenTelemetry's default cap on a span's attributes, events and links.
pub(super) const MAX_PER_SPAN: usize = 128;

/// A guest's span context, or None when its ids are malformed or all zeros
/// (OpenTelemetry's invalid ids, which no exported span may carry).
pub(super) fn span_context(context: wit::SpanContext) -> Option<SpanContext> {
    let trace_id = trace_id(&context.trace_id)?;
    let span_id = span_id(&context.span_id)?;
    // A malformed trace state is left out rather than failing the span.
    let state = TraceState::from_key_value(context.trace_state).unwrap_or_default();
    Some(SpanContext::new(trace_id, span_id, trace_flags(context.trace_flags), context.is_remote, state))
}

/// A guest's trace id: 32 hex digits, not all zeros.
pub(super) fn trace_id(hex: &str) -> Option<TraceId> {
    TraceId::from_hex(hex).ok().filter(|id| hex.len() == 32 && *id != TraceId::INVALID)
}

/// A guest's span id: 16 hex digits, not all zeros.
pub(super) fn span_id(hex: &str) -> Option<SpanId> {
    SpanId::from_hex(hex).ok().filter(|id| hex.len() == 16 && *id != SpanId::INVALID)
}

/// A guest's trace flags as OpenTelemetry's (only `sampled` is defined).
pub(super) fn trace_flags(flags: wit::TraceFlags) -> TraceFlags {
    if flags.contains(wit::TraceFlags::SAMPLED) {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    }
}

/// A span context as the guest reads it (lower-case hex ids).
pub(super) fn wit_span_context(context: &SpanContext) -> wit::SpanContext {
    let trace_state = context
        .trace_state()
        .header()
        .split(',')
        .filter_map(|entry| entry.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    wit::SpanContext {
        trace_id: format!("{:032x}", context.trace_id()),
        span_id: format!("{:016x}", context.span_id()),
        trace_flags: if context.is_sampled() { wit::TraceFlags::SAMPLED } else { wit::TraceFlags::empty() },
        is_remote: context.is_remote(),
        trace_state,
    }
}

/// A guest's finished span, or None when its own ids are malformed (a
/// malformed parent id makes it a root span).
pub(super) fn span_data(span: wit::SpanData) -> Option<SpanData> {
    let span_context = span_context(span.span_context)?;
    let parent_span_id = SpanId::from_hex(&span.parent_span_id).unwrap_or(SpanId::INVALID);
    let (attributes, dropped_attributes) = capped(span.attributes, key_value);
    let (events, dropped_events) = capped(span.events, |event| {
        Event::new(event.name, time(event.time), event.attributes.into_iter().take(MAX_PER_SPAN).map(key_value).collect(), 0)
    });
    let (links, dropped_links) = capped(span.links, |link| {
        let context = span_context_or_invalid(link.span_context);
        Link::new(context, link.attributes.into_iter().take(MAX_PER_SPAN).map(key_value).collect(), 0)
    });
    let mut span_events = SpanEvents::default();
    span_events.events = events;
    span_events.dropped_count = span.dropped_events.saturating_add(dropped_events);
    let mut span_links = SpanLinks::default();
    span_links.links = links;
    span_links.dropped_count = span.dropped_links.saturating_add(dropped_links);
    Some(SpanData {
        span_context,
        parent_span_id,
        parent_span_is_remote: false,
        span_kind: match span.span_kind {
            wit::SpanKind::Client => SpanKind::Client,
            wit::SpanKind::Server => SpanKind::Server,
            wit::SpanKind::Producer => SpanKind::Producer,
            wit::SpanKind::Consumer => SpanKind::Consumer,
            wit::SpanKind::Internal => SpanKind::Internal,
        },
        name: Cow::Owned(span.name),
        start_time: time(span.start_time),
        end_time: time(span.end_time),
        attributes,
        dropped_attributes_count: span.dropped_attributes.saturating_add(dropped_attributes),
        events: span_events,
        links: span_links,
        status: match span.status {
            wit::Status::Unset => Status::Unset,
            wit::Status::Ok => Status::Ok,
            wit::Status::Error(description) => Status::error(description),
        },
        instrumentation_scope: scope(span.instrumentation_scope),
    })
}

fn span_context_or_invalid(context: wit::SpanContext) -> SpanContext {
    span_context(context).unwrap_or(SpanContext::NONE)
}

/// The first [`MAX_PER_SPAN`] items converted, and how many were left out.
fn capped<T, U>(items: Vec<T>, convert: impl FnMut(T) -> U) -> (Vec<U>, u32) {
    let dropped = u32::try_from(items.len().saturating_sub(MAX_PER_SPAN)).unwrap_or(u32::MAX);
    (items.into_iter().take(MAX_PER_SPAN).map(convert).collect(), dropped)
}

pub(super) fn time(at: Datetime) -> SystemTime {
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(at.seconds, at.nanoseconds.min(999_999_999)))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

pub(super) fn scope(scope: types::InstrumentationScope) -> InstrumentationScope {
    let mut builder = InstrumentationScope::builder(scope.name)
        .with_attributes(scope.attributes.into_iter().take(MAX_PER_SPAN).map(key_value));
    if let Some(version) = scope.version {
        builder = builder.with_version(version);
    }
    if let Some(url) = scope.schema_url {
        builder = builder.with_schema_url(url);
    }
    builder.build()
}

/// An attribute: its value is JSON (a boolean, a number, a string, or an array
/// of one of those), as the guest SDKs write it; anything else is kept as the
/// text the guest gave.
pub(super) fn key_value(attribute: types::KeyValue) -> KeyValue {
    let value = serde_json::from_str(&attribute.value).ok().and_then(json_value);
    KeyValue::new(attribute.key, value.unwrap_or_else(|| Value::String(attribute.value.into())))
}

fn json_value(json: serde_json::Value) -> Option<Value> {
    use serde_json::Value as Json;
    Some(match json {
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::I64(i),
            None => Value::F64(n.as_f64()?),
        },
        Json::String(s) => Value::String(s.into()),
        Json::Array(items) => Value::Array(json_array(items)?),
        Json::Null | Json::Object(_) => return None,
    })
}

/// A JSON array whose items are all of the first item's kind.
fn json_array(items: Vec<serde_json::Value>) -> Option<Array> {
    use serde_json::Value as Json;
    Some(match items.first() {
        None => Array::String(Vec::new()),
        Some(Json::Bool(_)) => Array::Bool(items.iter().map(Json::as_bool).collect::<Option<_>>()?),
        Some(Json::Number(n)) if n.is_i64() => Array::I64(items.iter().map(Json::as_i64).collect::<Option<_>>()?),
        Some(Json::Number(_)) => Array::F64(items.iter().map(Json::as_f64).collect::<Option<_>>()?),
        Some(Json::String(_)) => Array::String(
            items.into_iter().map(|item| item.as_str().map(|s| StringValue::from(s.to_owned()))).collect::<Option<_>>()?,
        ),
        Some(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(trace_id: &str, span_id: &str) -> wit::SpanContext {
        wit::SpanContext {
            trace_id: trace_id.into(),
            span_id: span_id.into(),
            trace_flags: wit::TraceFlags::SAMPLED,
            is_remote: false,
            trace_state: vec![("vendor".into(), "x".into())],
        }
    }

    #[test]
    fn span_contexts_round_trip_and_malformed_ids_are_refused() {
        let parsed = span_context(context("4fb34cb4484029f7881399b149e41e98", "9ffd58d3cd4dd90b")).unwrap();
        assert!(parsed.is_sampled());
        let back = wit_span_context(&parsed);
        assert_eq!(back.trace_id, "4fb34cb4484029f7881399b149e41e98");
        assert_eq!(back.span_id, "9ffd58d3cd4dd90b");
        assert_eq!(back.trace_state, vec![("vendor".to_string(), "x".to_string())]);
        assert!(span_context(context("not hex", "9ffd58d3cd4dd90b")).is_none());
        assert!(span_context(context("4fb34cb4484029f7881399b149e41e98", "9ffd")).is_none());
        assert!(span_context(context(&"0".repeat(32), "9ffd58d3cd4dd90b")).is_none(), "an all-zero trace id");
        let none = wit_span_context(&SpanContext::NONE);
        assert_eq!((none.trace_id, none.span_id), ("0".repeat(32), "0".repeat(16)));
    }

    #[test]
    fn attribute_values_are_read_as_json_else_kept_as_text() {
        let value = |v: &str| key_value(types::KeyValue { key: "k".into(), value: v.into() }).value;
        assert_eq!(value("true"), Value::Bool(true));
        assert_eq!(value("42"), Value::I64(42));
        assert_eq!(value("1.5"), Value::F64(1.5));
        assert_eq!(value("\"bar\""), Value::String("bar".into()));
        assert_eq!(value("[\"a\",\"b\"]"), Value::Array(Array::String(vec!["a".into(), "b".into()])));
        assert_eq!(value("[1,\"mixed\"]"), Value::String("[1,\"mixed\"]".into()));
        assert_eq!(value("plain words"), Value::String("plain words".into()));
    }

    #[test]
    fn attributes_past_the_limit_are_counted_as_dropped() {
        let attributes = (0..200).map(|i| types::KeyValue { key: format!("k{i}"), value: "1".into() }).collect();
        let at = Datetime { seconds: 1, nanoseconds: 0 };
        let span = wit::SpanData {
            span_context: context("4fb34cb4484029f7881399b149e41e98", "9ffd58d3cd4dd90b"),
            parent_span_id: "garbage".into(),
            span_kind: wit::SpanKind::Internal,
            name: "work".into(),
            start_time: at,
            end_time: at,
            attributes,
            events: Vec::new(),
            links: Vec::new(),
            status: wit::Status::Error("bad".into()),
            instrumentation_scope: types::InstrumentationScope {
                name: "guest".into(),
                version: None,
                schema_url: None,
                attributes: Vec::new(),
            },
            dropped_attributes: 3,
            dropped_events: 0,
            dropped_links: 0,
        };
        let data = span_data(span).unwrap();
        assert_eq!(data.attributes.len(), MAX_PER_SPAN);
        assert_eq!(data.dropped_attributes_count, 3 + 72);
        assert_eq!(data.parent_span_id, SpanId::INVALID);
        assert_eq!(data.status, Status::error("bad"));
    }
}
