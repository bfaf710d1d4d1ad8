//! Request traces over OTLP/HTTP, as Spin exports them when `OTEL_EXPORTER_OTLP_*`
//! names a collector: one server span per HTTP request, named `<METHOD> <route>`,
//! a child of the caller's span when the request carries a W3C `traceparent`.
//! Spans leave in batches from a thread of the exporter's own, so a request
//! only records its span; with no collector configured nothing is recorded.
//! While a request's guest runs, its span is the current trace context: the
//! guest's own spans (`wasi:otel/tracing`) are its children, and each outbound
//! HTTP request the guest sends is a client span, a child of the guest's open
//! span (else of the request's), whose context the request carries as its
//! `traceparent`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

/// A request's trace context, as handed to a reused instance.
pub use opentelemetry::Context as TraceContext;

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
    guest_spans: GuestSpans,
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
        // One batch for the host's spans and the guests' alike.
        let mut batch = BatchSpanProcessor::builder(exporter).build();
        batch.set_resource(&resource);
        let guest_spans = GuestSpans(Arc::new(batch));
        let provider =
            SdkTracerProvider::builder().with_span_processor(guest_spans.clone()).with_resource(resource).build();
        Ok(Self { provider, guest_spans })
    }

    /// Where the spans guests record through `wasi:otel/tracing` go.
    pub fn guest_spans(&self) -> GuestSpans {
        self.guest_spans.clone()
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

impl RequestTracer {
    /// Runs `work` with `span` as the current trace context at every poll (what
    /// [`OutboundSpan::start`] and the guest's `wasi:otel` calls read).
    pub async fn in_scope<F: std::future::Future>(&self, span: &RequestSpan, work: F) -> F::Output {
        use opentelemetry::context::FutureExt as _;
        let trace = RequestTrace { tracer: self.tracer.clone(), open_guest_spans: Mutex::default() };
        let context = Context::new().with_remote_span_context(span.span.span_context().clone()).with_value(trace);
        work.with_context(context).await
    }
}

impl RequestSpan {
    /// Records the response's status and ends the span; a 5xx marks it failed.
    pub fn finish(mut self, status: u16) {
        self.span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
        if status >= 500 {
            self.span.set_status(Status::error(format!("HTTP {status}")));
        }
        self.span.end();
    }
}

/// What a traced request's context carries besides its span: the tracer of
/// the client spans its guest's outbound requests make, and the guest's own
/// spans still open (the innermost is the parent of the next client span).
struct RequestTrace {
    tracer: SdkTracer,
    open_guest_spans: Mutex<Vec<SpanContext>>,
}

/// The most guest spans remembered as open per request; past it the oldest is
/// forgotten (a guest that never ends its spans cannot grow the list).
const MAX_OPEN_GUEST_SPANS: usize = 64;

/// The traced requests a reused instance (WASI 0.3) is serving. Its guest
/// runs in the instance's own task, not in a request's, so its host calls are
/// attributed to a request only while that request is the only one in flight
/// (from its start to its response); otherwise to none.
#[derive(Debug, Default)]
pub struct InstanceTraces {
    serving: Mutex<(u64, Vec<(u64, Context)>)>,
}

impl InstanceTraces {
    /// Notes that the instance serves the traced request of `context` until
    /// the returned guard is dropped.
    pub fn enter(self: &Arc<Self>, context: Context) -> ServingGuard {
        let mut serving = self.serving.lock().unwrap_or_else(|e| e.into_inner());
        serving.0 += 1;
        let id = serving.0;
        serving.1.push((id, context));
        ServingGuard { traces: self.clone(), id }
    }

    fn only_request(&self) -> Option<Context> {
        match self.serving.lock().unwrap_or_else(|e| e.into_inner()).1.as_slice() {
            [(_, context)] => Some(context.clone()),
            _ => None,
        }
    }
}

/// Ends a request's stay in [`InstanceTraces`].
pub struct ServingGuard {
    traces: Arc<InstanceTraces>,
    id: u64,
}

impl Drop for ServingGuard {
    fn drop(&mut self) {
        let mut serving = self.traces.serving.lock().unwrap_or_else(|e| e.into_inner());
        serving.1.retain(|(id, _)| *id != self.id);
    }
}

/// The trace context of the current request, if it is traced: for the
/// request spans' scope, `Some(Context)` to hand to a reused instance.
pub fn traced_request() -> Option<Context> {
    let context = Context::current();
    context.get::<RequestTrace>().is_some().then_some(context)
}

/// The trace context a host call of an instance runs in: its request's,
/// found through `instance` for a reused instance, else the current task's.
pub fn host_call_context(instance: Option<&InstanceTraces>) -> Context {
    instance.and_then(InstanceTraces::only_request).unwrap_or_else(Context::current)
}

/// The span context of the request `context` serves (invalid when none is traced).
pub fn request_span_context(context: &Context) -> SpanContext {
    context.span().span_context().clone()
}

/// Notes that the guest serving the request of `context` started span `span`.
pub fn guest_span_started(context: &Context, span: SpanContext) {
    let Some(trace) = context.get::<RequestTrace>() else { return };
    let mut open = trace.open_guest_spans.lock().unwrap_or_else(|e| e.into_inner());
    if open.len() == MAX_OPEN_GUEST_SPANS {
        open.remove(0);
    }
    open.push(span);
}

/// Notes that the guest serving the request of `context` ended span `span`.
pub fn guest_span_ended(context: &Context, span: SpanId) {
    let Some(trace) = context.get::<RequestTrace>() else { return };
    let mut open = trace.open_guest_spans.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = open.iter().rposition(|s| s.span_id() == span) {
        open.remove(at);
    }
}

/// The client span of one outbound HTTP request a traced request's guest sends.
pub struct OutboundSpan {
    span: opentelemetry_sdk::trace::Span,
}

impl OutboundSpan {
    /// Starts the span of `request` under the guest's innermost open span (else
    /// the request's) and writes its context into the request as `traceparent`
    /// (and `tracestate`). None when the request of `context` is not traced, or
    /// when the guest set a `traceparent` of its own (it then owns the propagation).
    pub fn start<B>(context: &Context, request: &mut http::Request<B>) -> Option<Self> {
        let trace = context.get::<RequestTrace>()?;
        if request.headers().contains_key("traceparent") {
            return None;
        }
        let guest_parent = trace.open_guest_spans.lock().unwrap_or_else(|e| e.into_inner()).last().cloned();
        let parent = match guest_parent {
            Some(guest) => Context::new().with_remote_span_context(guest),
            None => context.clone(),
        };
        let method = request.method().as_str().to_owned();
        let mut attributes = vec![
            KeyValue::new("http.request.method", method.clone()),
            KeyValue::new("url.full", request.uri().to_string()),
        ];
        if let Some(host) = request.uri().host() {
            attributes.push(KeyValue::new("server.address", host.to_owned()));
        }
        let span = trace
            .tracer
            .span_builder(method)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&trace.tracer, &parent);
        let propagated = Context::new().with_remote_span_context(span.span_context().clone());
        TraceContextPropagator::new().inject_context(&propagated, &mut HeaderWriter(request.headers_mut()));
        Some(Self { span })
    }

    /// Records how the request went (the response's status, or why none came)
    /// and ends the span; a 5xx or an error marks it failed.
    pub fn finish(mut self, outcome: Result<u16, String>) {
        match outcome {
            Ok(status) => {
                self.span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
                if status >= 500 {
                    self.span.set_status(Status::error(format!("HTTP {status}")));
                }
            }
            Err(error) => {
                self.span.set_attribute(KeyValue::new("error.type", error.clone()));
                self.span.set_status(Status::error(error));
            }
        }
        self.span.end();
    }
}

/// Where guests' own spans (`wasi:otel/tracing`'s `on-end`) are exported: the
/// batch the request spans go through, which this also is, for the provider.
#[derive(Clone, Debug)]
pub struct GuestSpans(Arc<BatchSpanProcessor>);

impl GuestSpans {
    /// Queues a finished guest span for export (dropped when the queue is full).
    pub fn export(&self, span: SpanData) {
        self.0.on_end(span);
    }
}

impl SpanProcessor for GuestSpans {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, context: &Context) {
        self.0.on_start(span, context);
    }

    fn on_end(&self, span: SpanData) {
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
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
    let context = Context::current();
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

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{TraceFlags, TraceId, TraceState};

    use super::*;

    fn traced(span: u64) -> Context {
        let id = SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        Context::new().with_remote_span_context(id)
    }

    fn span_of(context: &Context) -> u64 {
        u64::from_be_bytes(request_span_context(context).span_id().to_bytes())
    }

    #[test]
    fn a_reused_instance_joins_a_trace_only_while_it_serves_that_request_alone() {
        let traces = Arc::new(InstanceTraces::default());
        assert!(!request_span_context(&host_call_context(Some(&traces))).is_valid());
        let first = traces.enter(traced(1));
        assert_eq!(span_of(&host_call_context(Some(&traces))), 1);
        let second = traces.enter(traced(2));
        assert!(!request_span_context(&host_call_context(Some(&traces))).is_valid(), "two requests: no parent");
        drop(first);
        assert_eq!(span_of(&host_call_context(Some(&traces))), 2);
        drop(second);
        assert!(!request_span_context(&host_call_context(Some(&traces))).is_valid());
    }
}
