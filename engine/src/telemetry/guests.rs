//! Guests' own spans (`wasi:otel/tracing`): where they are exported, which
//! request's trace a guest's host call belongs to (a reused WASI 0.3 instance
//! runs in a task of its own), and which of its spans are open.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _};
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SpanData, SpanProcessor};

use super::requests::RequestTrace;

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

/// Where guests' own spans (`wasi:otel/tracing`'s `on-end`) are exported: the
/// batch the request spans go through, which this also is, for the provider.
#[derive(Clone, Debug)]
pub struct GuestSpans(pub(super) Arc<BatchSpanProcessor>);

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
