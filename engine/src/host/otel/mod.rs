//! `wasi:otel@0.2.0-rc.2` (types, tracing, metrics, logs) for guests. When the
//! app exports traces (`OTEL_EXPORTER_OTLP_*`), the spans a guest ends are
//! exported with the request spans, and `outer-span-context` is the span of
//! the request being served, so a guest's spans join the caller's trace. When
//! it exports logs, the records a guest emits are exported, in the request's
//! trace unless they name their own. When it exports metrics, a guest's
//! metric exports are sent to the same endpoint, under the app's resource.
//! Without an exporter, calls are accepted and dropped; the outer span context
//! is then the invalid (all-zero, unsampled) one, which OpenTelemetry SDKs
//! treat as "no parent".

mod log_records;
mod metric_data;
mod spans;

use std::sync::Arc;

use wasmtime::component::Linker;

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs, ViewOf};
use crate::telemetry::{self, AppLogs, GuestMetrics, GuestSpans, GuestTelemetry, InstanceTraces};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/otel",
        // The clock types `wasi:otel` uses are WASI 0.2's, linked by wasmtime-wasi.
        require_store_data_send: true,
        with: {
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
        },
    });
}

use bindings::wasi::otel::{logs, metrics, tracing, types};

/// The OpenTelemetry capability: where the guest's spans, metrics and log records go, if anywhere.
pub(crate) struct Otel;

/// One instance's OpenTelemetry state.
pub(crate) struct OtelInstance {
    /// Where its spans go, when the app exports traces.
    spans: Option<GuestSpans>,
    /// Where its metrics go, when the app exports metrics.
    metrics: Option<GuestMetrics>,
    /// Where its log records go, when the app exports logs.
    logs: Option<AppLogs>,
    /// For a reused instance, the requests it serves.
    traces: Option<Arc<InstanceTraces>>,
}

impl OtelInstance {
    /// The trace context of a host call, if spans are exported at all.
    fn context(&self) -> Option<(&GuestSpans, opentelemetry::Context)> {
        let spans = self.spans.as_ref()?;
        Some((spans, telemetry::host_call_context(self.traces.as_deref())))
    }
}

impl Capability for Otel {
    type App = GuestTelemetry;
    type Component = GuestTelemetry;
    type Instance = OtelInstance;

    const INTERFACES: &'static [&'static str] = &[
        "wasi:otel/types@0.2.0-rc.2",
        "wasi:otel/tracing@0.2.0-rc.2",
        "wasi:otel/metrics@0.2.0-rc.2",
        "wasi:otel/logs@0.2.0-rc.2",
    ];

    fn app(inputs: &AppInputs<'_>) -> anyhow::Result<Self::App> {
        Ok(inputs.guest_telemetry.clone())
    }

    fn component(app: &Self::App, _: &ComponentInputs<'_>) -> anyhow::Result<Self::Component> {
        Ok(app.clone())
    }

    fn instance(component: &Self::Component, inputs: &InstanceInputs<'_>) -> Self::Instance {
        OtelInstance {
            spans: component.spans.clone(),
            metrics: component.metrics.clone(),
            logs: component.logs.clone(),
            traces: inputs.traces.cloned(),
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        type Data = ViewOf<Otel>;
        types::add_to_linker::<T, Data>(linker, T::capability)?;
        tracing::add_to_linker::<T, Data>(linker, T::capability)?;
        metrics::add_to_linker::<T, Data>(linker, T::capability)?;
        logs::add_to_linker::<T, Data>(linker, T::capability)?;
        Ok(())
    }
}

type View<'a> = CapabilityView<'a, Otel>;

impl types::Host for View<'_> {}

impl tracing::Host for View<'_> {
    fn on_start(&mut self, span: tracing::SpanContext) {
        let Some((_, context)) = self.state.context() else { return };
        if let Some(span) = spans::span_context(span) {
            telemetry::guest_span_started(&context, span);
        }
    }

    fn on_end(&mut self, span: tracing::SpanData) {
        let Some((sink, context)) = self.state.context() else { return };
        match spans::span_data(span) {
            Some(span) => {
                telemetry::guest_span_ended(&context, span.span_context.span_id());
                sink.export(span);
            }
            None => ::tracing::debug!("wasi:otel: a guest span with a malformed trace or span id was dropped"),
        }
    }

    fn outer_span_context(&mut self) -> tracing::SpanContext {
        let context = telemetry::host_call_context(self.state.traces.as_deref());
        spans::wit_span_context(&telemetry::request_span_context(&context))
    }
}

impl metrics::Host for View<'_> {
    fn export(&mut self, export: metrics::ResourceMetrics) -> Result<(), metrics::Error> {
        match &self.state.metrics {
            Some(sink) => sink.export(metric_data::resource_metrics(export)),
            None => Ok(()),
        }
    }
}

impl logs::Host for View<'_> {
    fn on_emit(&mut self, record: logs::LogRecord) {
        let Some(sink) = &self.state.logs else { return };
        let context = telemetry::host_call_context(self.state.traces.as_deref());
        let (record, scope) = log_records::log_record(sink, record);
        sink.emit(record, scope, &context);
    }
}
