//! `wasi:otel@0.2.0-rc.2` (types, tracing, metrics, logs) for guests, as a
//! no-op until tracing lands: spans, metrics and log records are accepted and
//! dropped, and the outer span context is an invalid (all-zero, unsampled) one,
//! which OpenTelemetry SDKs treat as "no parent".

use wasmtime::component::Linker;

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/otel",
    });
}

use bindings::wasi::otel::{logs, metrics, tracing, types};

/// The OpenTelemetry capability.
pub(crate) struct Otel;

impl Capability for Otel {
    type App = ();
    type Component = ();
    type Instance = ();

    const INTERFACES: &'static [&'static str] = &[
        "wasi:otel/types@0.2.0-rc.2",
        "wasi:otel/tracing@0.2.0-rc.2",
        "wasi:otel/metrics@0.2.0-rc.2",
        "wasi:otel/logs@0.2.0-rc.2",
    ];

    fn app(_: &AppInputs<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn component(_: &(), _: &ComponentInputs<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn instance(_: &(), _: &InstanceInputs<'_>) {}

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
    fn on_start(&mut self, _: tracing::SpanContext) {}

    fn on_end(&mut self, _: tracing::SpanData) {}

    fn outer_span_context(&mut self) -> tracing::SpanContext {
        tracing::SpanContext {
            trace_id: "0".repeat(32),
            span_id: "0".repeat(16),
            trace_flags: tracing::TraceFlags::empty(),
            is_remote: false,
            trace_state: Vec::new(),
        }
    }
}

impl metrics::Host for View<'_> {
    fn export(&mut self, _: metrics::ResourceMetrics) -> Result<(), metrics::Error> {
        Ok(())
    }
}

impl logs::Host for View<'_> {
    fn on_emit(&mut self, _: logs::LogRecord) {}
}
