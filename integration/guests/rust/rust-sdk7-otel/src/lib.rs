//! A guest that records its own span through `wasi:otel/tracing` (Rust
//! `spin-sdk` 7, WASI 0.3), as an OpenTelemetry SDK's WASI processor does:
//!
//! - reads the host's span (`outer-span-context`) and starts `guest-work` under
//!   it (`on-start`), in the same trace;
//! - with `?url=<target>`, GETs the target while `guest-work` is open;
//! - ends `guest-work` (`on-end`) with attributes `guest.flag = true`,
//!   `guest.count = 3`, `guest.words = "a b"`, an event `checkpoint` and status ok;
//! - emits a log record (`wasi:otel/logs`) while `guest-work` is open: body
//!   `{"order": 42, "note": "paid"}`, severity `WARN` (13), event `order.paid`,
//!   attribute `shop.region = "eu"`, scope `rust-sdk7-otel`, and `guest-work`'s ids;
//! - prints `guest says hello` to stdout and `guest warns` to stderr.
//!
//! It answers 200 `outer=<trace id>/<span id>;guest=<span id>;upstream=<the
//! target's status and body, or none>`.

use std::time::{SystemTime, UNIX_EPOCH};

use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

mod otel {
    // The host's copy of the published `wasi:otel` package and its deps.
    wit_bindgen::generate!({
        path: "../../../../engine/wit/spin-v3",
        world: "css:host-v3/otel",
        generate_all,
    });
}

use otel::wasi::clocks::wall_clock;
use otel::wasi::otel::logs::{self, LogRecord};
use otel::wasi::otel::tracing::{self, SpanContext, SpanData, SpanKind, Status};
use otel::wasi::otel::types::{InstrumentationScope, KeyValue};

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let outer = tracing::outer_span_context();
    let context = SpanContext {
        trace_id: outer.trace_id.clone(),
        span_id: new_span_id(),
        trace_flags: outer.trace_flags,
        is_remote: false,
        trace_state: outer.trace_state.clone(),
    };
    let start_time = wall_clock::now();
    tracing::on_start(&context);

    let query = req.uri().query().unwrap_or_default();
    let target = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "url").map(|(_, v)| v.into_owned());
    let upstream = match target {
        None => "none".to_string(),
        Some(url) => match spin_sdk::http::get(&url).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.into_body().bytes().await.unwrap_or_default();
                format!("{status} {}", String::from_utf8_lossy(&body))
            }
            Err(e) => format!("error {e:?}"),
        },
    };

    let attribute = |key: &str, json: &str| KeyValue { key: key.into(), value: json.into() };
    let scope = || InstrumentationScope {
        name: "rust-sdk7-otel".into(),
        version: None,
        schema_url: None,
        attributes: Vec::new(),
    };
    logs::on_emit(&LogRecord {
        timestamp: Some(wall_clock::now()),
        observed_timestamp: None,
        severity_text: Some("WARN".into()),
        severity_number: Some(13),
        body: Some(r#"{"order": 42, "note": "paid"}"#.into()),
        attributes: Some(vec![attribute("shop.region", "\"eu\"")]),
        event_name: Some("order.paid".into()),
        resource: None,
        instrumentation_scope: Some(scope()),
        trace_id: Some(context.trace_id.clone()),
        span_id: Some(context.span_id.clone()),
        trace_flags: Some(context.trace_flags),
    });
    println!("guest says hello");
    eprintln!("guest warns");
    let guest_span = context.span_id.clone();
    tracing::on_end(&SpanData {
        span_context: context,
        parent_span_id: outer.span_id.clone(),
        span_kind: SpanKind::Internal,
        name: "guest-work".into(),
        start_time,
        end_time: wall_clock::now(),
        attributes: vec![attribute("guest.flag", "true"), attribute("guest.count", "3"), attribute("guest.words", "\"a b\"")],
        events: vec![tracing::Event { name: "checkpoint".into(), time: wall_clock::now(), attributes: Vec::new() }],
        links: Vec::new(),
        status: Status::Ok,
        instrumentation_scope: scope(),
        dropped_attributes: 0,
        dropped_events: 0,
        dropped_links: 0,
    });
    (StatusCode::OK, format!("outer={}/{};guest={guest_span};upstream={upstream}", outer.trace_id, outer.span_id))
}

/// A span id unique enough for one test run: the clock's nanoseconds, never zero.
fn new_span_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    format!("{:016x}", nanos | 1)
}
