//! The server span of each HTTP request, named `<METHOD> <route>`, a child of
//! the caller's span when the request carries a W3C `traceparent`. While the
//! request's guest runs, its span (with a [`RequestTrace`]) is the current
//! trace context, which the guest's own spans and outbound requests join.

use std::sync::Mutex;

use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{Span as _, SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;

/// Starts the server span of each incoming request.
#[derive(Clone, Debug)]
pub struct RequestTracer {
    pub(super) tracer: SdkTracer,
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
        record_status(&mut self.span, status);
        self.span.end();
    }
}

/// Records a response's status on its span; a 5xx marks the span failed.
pub(super) fn record_status(span: &mut opentelemetry_sdk::trace::Span, status: u16) {
    span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
    if status >= 500 {
        span.set_status(Status::error(format!("HTTP {status}")));
    }
}

/// What a traced request's context carries besides its span: the tracer of
/// the client spans its guest's outbound requests make, and the guest's own
/// spans still open (the innermost is the parent of the next client span).
pub(super) struct RequestTrace {
    pub(super) tracer: SdkTracer,
    pub(super) open_guest_spans: Mutex<Vec<SpanContext>>,
}

/// The trace context of the current request, if it is traced: for the
/// request spans' scope, `Some(Context)` to hand to a reused instance.
pub fn traced_request() -> Option<Context> {
    let context = Context::current();
    context.get::<RequestTrace>().is_some().then_some(context)
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
