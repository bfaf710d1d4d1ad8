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
//! - prints `guest says hello` to stdout and `guest warns` to stderr;
//! - exports metrics (`wasi:otel/metrics`) under its own resource
//!   (`service.name = "guest-service"`, `guest.resource = "present"`) and scope
//!   `rust-sdk7-otel` 0.1: a cumulative monotonic u64 sum `shop.orders` = 42
//!   (`shop.region = "eu"`, with an exemplar of 42 carrying `guest-work`'s ids),
//!   an f64 histogram `shop.latency` (ms; bounds 10 and 100, counts 1, 1, 0; sum
//!   57.5, min 7.5, max 50) and an s64 gauge `shop.queue` = -3.
//!
//! It answers 200 `outer=<trace id>/<span id>;guest=<span id>;metrics=<ok, or the
//! export's error>;upstream=<the target's status and body, or none>`.

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
use otel::wasi::otel::metrics::{self, MetricData, MetricNumber, Temporality};
use otel::wasi::otel::tracing::{self, SpanContext, SpanData, SpanKind, Status};
use otel::wasi::otel::types::{InstrumentationScope, KeyValue, Resource};

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
    let exported = match export_metrics(&context, scope()) {
        Ok(()) => "ok".to_string(),
        Err(e) => e,
    };
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
    let body = format!("outer={}/{};guest={guest_span};metrics={exported};upstream={upstream}", outer.trace_id, outer.span_id);
    (StatusCode::OK, body)
}

/// Exports the three metrics described above, the sum's exemplar in `span`.
fn export_metrics(span: &SpanContext, scope: InstrumentationScope) -> Result<(), String> {
    let attribute = |key: &str, json: &str| KeyValue { key: key.into(), value: json.into() };
    let (start_time, time) = (wall_clock::now(), wall_clock::now());
    let metric = |name: &str, unit: &str, data: MetricData| metrics::Metric {
        name: name.into(),
        description: format!("{name}, from the guest"),
        unit: unit.into(),
        data,
    };
    let orders = MetricData::U64Sum(metrics::Sum {
        data_points: vec![metrics::SumDataPoint {
            attributes: vec![attribute("shop.region", "\"eu\"")],
            value: MetricNumber::U64(42),
            exemplars: vec![metrics::Exemplar {
                filtered_attributes: Vec::new(),
                time,
                value: MetricNumber::U64(42),
                span_id: span.span_id.clone(),
                trace_id: span.trace_id.clone(),
            }],
        }],
        start_time,
        time,
        temporality: Temporality::Cumulative,
        is_monotonic: true,
    });
    let latency = MetricData::F64Histogram(metrics::Histogram {
        data_points: vec![metrics::HistogramDataPoint {
            attributes: Vec::new(),
            count: 2,
            bounds: vec![10.0, 100.0],
            bucket_counts: vec![1, 1, 0],
            min: Some(MetricNumber::F64(7.5)),
            max: Some(MetricNumber::F64(50.0)),
            sum: MetricNumber::F64(57.5),
            exemplars: Vec::new(),
        }],
        start_time,
        time,
        temporality: Temporality::Cumulative,
    });
    let queue = MetricData::S64Gauge(metrics::Gauge {
        data_points: vec![metrics::GaugeDataPoint {
            attributes: Vec::new(),
            value: MetricNumber::S64(-3),
            exemplars: Vec::new(),
        }],
        start_time: None,
        time,
    });
    metrics::export(&metrics::ResourceMetrics {
        resource: Resource {
            attributes: vec![attribute("service.name", "\"guest-service\""), attribute("guest.resource", "\"present\"")],
            schema_url: None,
        },
        scope_metrics: vec![metrics::ScopeMetrics {
            scope: InstrumentationScope { version: Some("0.1".into()), ..scope },
            metrics: vec![metric("shop.orders", "1", orders), metric("shop.latency", "ms", latency), metric("shop.queue", "1", queue)],
        }],
    })
}

/// A span id unique enough for one test run: the clock's nanoseconds, never zero.
fn new_span_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    format!("{:016x}", nanos | 1)
}
