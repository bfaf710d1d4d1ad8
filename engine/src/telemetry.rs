//! Request traces over OTLP/HTTP, as Spin exports them when `OTEL_EXPORTER_OTLP_*`
//! names a collector: one server span per HTTP request, named `<METHOD> <route>`,
//! a child of the caller's span when the request carries a W3C `traceparent`.
//! Spans leave in batches from a thread of the exporter's own, so a request
//! only records its span; with no collector configured nothing is recorded.
//! While a request's guest runs, its span is the current trace context, and
//! the guest's outbound HTTP requests carry it as their `traceparent`.

use std::collections::HashMap;

use anyhow::Context as _;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

/// How traces are encoded on the wire (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `http/protobuf` (OTel's default).
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
}

/// Where and how request traces are exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The full URL spans are posted to (`.../v1/traces`).
    pub endpoint: String,
    /// The wire encoding.
    pub protocol: OtlpProtocol,
    /// Extra request headers, such as a collector's API key.
    pub headers: Vec<(String, String)>,
    /// The `service.name` of every span's resource.
    pub service_name: String,
}

/// The app's trace pipeline; [`Telemetry::shutdown`] sends what is left.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Builds the exporter and its batching thread (no connection is made until
    /// the first batch).
    pub fn start(settings: &OtlpSettings) -> anyhow::Result<Self> {
        let protocol = match settings.protocol {
            OtlpProtocol::HttpProtobuf => Protocol::HttpBinary,
            OtlpProtocol::HttpJson => Protocol::HttpJson,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(settings.endpoint.clone())
            .with_headers(settings.headers.iter().cloned().collect::<HashMap<_, _>>())
            .build()
            .with_context(|| format!("cannot export traces to {}", settings.endpoint))?;
        let resource = Resource::builder().with_service_name(settings.service_name.clone()).build();
        let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
        Ok(Self { provider })
    }

    /// What the HTTP trigger starts its request spans with.
    pub fn request_tracer(&self) -> RequestTracer {
        RequestTracer { tracer: self.provider.tracer("spin_trigger_http") }
    }

    /// Sends the spans still batched and stops the exporter (blocks up to its
    /// timeout when the collector is unreachable).
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!("traces: {e}");
        }
    }
}

/// Starts the server span of each incoming request.
#[derive(Clone, Debug)]
pub struct RequestTracer {
    tracer: SdkTracer,
}

/// What a request span records at its start.
pub struct RequestInfo<'a> {
    /// The request's method.
    pub method: &'a http::Method,
    /// The request's path.
    pub path: &'a str,
    /// The route as the manifest writes it, when one matched.
    pub route: Option<&'a str>,
    /// The component serving it, when one does.
    pub component: Option<&'a str>,
    /// The request's headers (read for `traceparent` and `tracestate`).
    pub headers: &'a http::HeaderMap,
}

impl RequestTracer {
    /// Starts the span of a request, continuing the caller's trace when the
    /// request carries one.
    pub fn start(&self, request: &RequestInfo<'_>) -> RequestSpan {
        let parent = TraceContextPropagator::new().extract(&HeaderReader(request.headers));
        let method = request.method.as_str().to_owned();
        let name = match request.route {
            Some(route) => format!("{method} {route}"),
            None => method.clone(),
        };
        let mut attributes =
            vec![KeyValue::new("http.request.method", method), KeyValue::new("url.path", request.path.to_owned())];
        if let Some(route) = request.route {
            attributes.push(KeyValue::new("http.route", route.to_owned()));
        }
        if let Some(component) = request.component {
            attributes.push(KeyValue::new("spin.component_id", component.to_owned()));
        }
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        RequestSpan { span }
    }
}

/// The span of one request, ended by [`RequestSpan::finish`] (or when dropped).
pub struct RequestSpan {
    span: opentelemetry_sdk::trace::Span,
}

impl RequestSpan {
    /// Runs `work` with this span as the current trace context at every poll
    /// (what [`inject_current`] reads).
    pub async fn in_scope<F: std::future::Future>(&self, work: F) -> F::Output {
        use opentelemetry::context::FutureExt as _;
        use opentelemetry::trace::TraceContextExt as _;
        let context = opentelemetry::Context::new().with_remote_span_context(self.span.span_context().clone());
        work.with_context(context).await
    }

    /// Records the response's status and ends the span; a 5xx marks it failed.
    pub fn finish(mut self, status: u16) {
        self.span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
        if status >= 500 {
            self.span.set_status(Status::error(format!("HTTP {status}")));
        }
        self.span.end();
    }
}

/// Adds the current trace context (a request span's, see
/// [`RequestSpan::in_scope`]) to an outgoing request as `traceparent` (and
/// `tracestate`), unless the request has its own.
pub fn inject_current(headers: &mut http::HeaderMap) {
    use opentelemetry::trace::TraceContextExt as _;
    let context = opentelemetry::Context::current();
    if !context.span().span_context().is_valid() || headers.contains_key("traceparent") {
        return;
    }
    TraceContextPropagator::new().inject_context(&context, &mut HeaderWriter(headers));
}

/// Spawns `work` as a task that keeps the current trace context (a request
/// span's), so what it sends continues that trace; a plain spawn when there is
/// none.
pub fn spawn_in_current_trace<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::TraceContextExt as _;
    let context = opentelemetry::Context::current();
    if context.has_active_span() {
        tokio::spawn(work.with_context(context))
    } else {
        tokio::spawn(work)
    }
}

/// Writes propagation headers into a request.
struct HeaderWriter<'a>(&'a mut http::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(key), http::HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// Reads propagation headers from a request.
struct HeaderReader<'a>(&'a http::HeaderMap);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
