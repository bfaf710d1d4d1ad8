//! OpenTelemetry over OTLP (HTTP or gRPC, `export.rs`), as Spin exports it when `OTEL_EXPORTER_OTLP_*`
//! names a collector: a trace of each HTTP request (`requests.rs`), with the
//! guest's own spans (`guests.rs`) and its outbound requests (`outbound.rs`),
//! Spin's request count (`metrics.rs`) and instance metrics
//! (`instance_metrics.rs`), guests' own metrics (`guest_metrics.rs`), and guests' output and log records (`logs.rs`).
//! Spans, metrics and logs leave in batches from threads of the exporters'
//! own, so a request only records; with no collector configured nothing is
//! recorded.

mod export;
mod guest_metrics;
mod guests;
mod instance_metrics;
mod logs;
mod metrics;
mod outbound;
mod requests;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider, SpanProcessor as _};
use opentelemetry_sdk::Resource;

pub use guest_metrics::GuestMetrics;
pub use guests::{
    guest_span_ended, guest_span_started, host_call_context, request_span_context, GuestSpans, InstanceTraces,
    ServingGuard,
};
pub use instance_metrics::{ComponentInstanceMetrics, InstanceMetrics, InstanceUsage};
pub use logs::{any_value, static_text, AppLogs, OutputLogs};
pub use metrics::{ComponentRequests, RequestCounter};
pub use outbound::OutboundSpan;
pub use requests::{spawn_in_current_trace, traced_request, RequestInfo, RequestSpan, RequestTracer};

/// A request's trace context, as handed to a reused instance.
pub use opentelemetry::Context as TraceContext;

/// How a signal is encoded on the wire (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `http/protobuf` (OTel's default).
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
    /// `grpc`.
    Grpc,
}

/// Where and how one signal (traces, metrics or logs) is exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpSettings {
    /// Where the signal is sent: over HTTP the full URL it is posted to
    /// (`.../v1/traces`, `.../v1/metrics`, `.../v1/logs`), over gRPC the
    /// collector's address (`http://collector:4317`).
    pub endpoint: String,
    /// The wire encoding.
    pub protocol: OtlpProtocol,
    /// Extra request headers, such as a collector's API key.
    pub headers: Vec<(String, String)>,
    /// How long one export may take before it is given up.
    pub timeout: Duration,
}

/// OTLP's default export timeout (`OTEL_EXPORTER_OTLP_TIMEOUT` unset).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// OpenTelemetry's default metric export interval (`OTEL_METRIC_EXPORT_INTERVAL` unset).
const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);

/// What the app exports, read from `OTEL_*` at the edge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TelemetrySettings {
    /// Request traces, if exported.
    pub traces: Option<OtlpSettings>,
    /// Request counts, if exported.
    pub metrics: Option<OtlpSettings>,
    /// Guests' output lines and log records, if exported.
    pub logs: Option<OtlpSettings>,
    /// The `service.name` of every span's, metric's and log record's resource.
    pub service_name: String,
    /// The resource's other attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource_attributes: Vec<(String, String)>,
    /// Which request traces are recorded (`OTEL_TRACES_SAMPLER`).
    pub sampling: TraceSampling,
    /// How often metrics are sent (`OTEL_METRIC_EXPORT_INTERVAL`); `None`:
    /// OpenTelemetry's 60 s.
    pub metric_export_interval: Option<Duration>,
    /// How spans are batched (`OTEL_BSP_*`).
    pub span_batching: Batching,
    /// How log records are batched (`OTEL_BLRP_*`).
    pub log_batching: Batching,
}

/// What the environment sets of a batch processor's settings; `None` takes
/// OpenTelemetry's default for the signal (spans: every 5 s, log records:
/// every 1 s; both: a queue of 2048, batches of 512).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Batching {
    /// Records held at most while waiting to be sent; more are dropped.
    pub max_queue_size: Option<usize>,
    /// How long records may wait before a batch is sent.
    pub scheduled_delay: Option<Duration>,
    /// Records sent at most in one export.
    pub max_export_batch_size: Option<usize>,
}

/// Builds a batch processor's config from `$batching` over the defaults of
/// the signal, setting every field the SDK would otherwise take from the
/// shim process's environment. (The span and log builders share method
/// names, not a trait.)
macro_rules! batch_config {
    ($builder:ty, $batching:expr, $delay_ms:expr) => {{
        let batching: &Batching = $batching;
        <$builder>::default()
            .with_max_queue_size(batching.max_queue_size.unwrap_or(DEFAULT_BATCH_QUEUE_SIZE))
            .with_scheduled_delay(batching.scheduled_delay.unwrap_or(Duration::from_millis($delay_ms)))
            .with_max_export_batch_size(batching.max_export_batch_size.unwrap_or(DEFAULT_EXPORT_BATCH_SIZE))
            .build()
    }};
}

/// OpenTelemetry's default queue of a batch processor (`OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BLRP_MAX_QUEUE_SIZE`).
const DEFAULT_BATCH_QUEUE_SIZE: usize = 2048;

/// OpenTelemetry's default batch size (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`).
const DEFAULT_EXPORT_BATCH_SIZE: usize = 512;

/// Which traces are recorded, as `OTEL_TRACES_SAMPLER` (and its `_ARG`) name it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceSampling {
    /// Whether a request that continues a caller's trace follows the caller's
    /// decision (the `parentbased_*` samplers); the rule below then decides
    /// for requests that start a trace.
    pub parent_based: bool,
    /// The rule for the traces it decides.
    pub rule: SamplingRule,
}

/// How a sampler decides a trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SamplingRule {
    /// Every trace.
    AlwaysOn,
    /// No trace.
    AlwaysOff,
    /// This share of traces (0 to 1), chosen by trace id.
    TraceIdRatio(f64),
}

impl Default for TraceSampling {
    /// OpenTelemetry's default: `parentbased_always_on`.
    fn default() -> Self {
        Self { parent_based: true, rule: SamplingRule::AlwaysOn }
    }
}

impl TraceSampling {
    fn sampler(self) -> Sampler {
        let rule = match self.rule {
            SamplingRule::AlwaysOn => Sampler::AlwaysOn,
            SamplingRule::AlwaysOff => Sampler::AlwaysOff,
            SamplingRule::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        };
        if self.parent_based {
            Sampler::ParentBased(Box::new(rule))
        } else {
            rule
        }
    }
}

/// The metrics the host records about the app, as Spin 4.1 does.
#[derive(Clone, Debug)]
pub struct HostMetrics {
    /// `spin.request_count`: what the triggers hand to each component.
    pub requests: RequestCounter,
    /// `spin.component_memory_used_on_init`, `spin.component_memory_used` and
    /// `spin.component_cpu_time`: what each instance used.
    pub instances: InstanceMetrics,
}

/// The app's export pipelines; [`Telemetry::shutdown`] sends what is left.
#[derive(Default)]
pub struct Telemetry {
    traces: Option<(SdkTracerProvider, GuestSpans)>,
    metrics: Option<(SdkMeterProvider, GuestMetrics)>,
    logs: Option<AppLogs>,
}

/// Where guests' own telemetry goes, for what the app exports: the spans they
/// end (`wasi:otel/tracing`), the metrics they export (`wasi:otel/metrics`),
/// and their output lines and log records.
#[derive(Clone, Debug, Default)]
pub struct GuestTelemetry {
    /// Where guests' spans go, when traces are exported.
    pub spans: Option<GuestSpans>,
    /// Where guests' metrics go, when metrics are exported.
    pub metrics: Option<GuestMetrics>,
    /// Where guests' output and log records go, when logs are exported.
    pub logs: Option<AppLogs>,
}

impl Telemetry {
    /// Builds the exporters asked for and their threads (no connection is made
    /// until the first export).
    pub fn start(settings: &TelemetrySettings) -> anyhow::Result<Self> {
        // Only what the settings say (and the SDK's own name and version): the
        // SDK's environment detectors would read the shim process's variables.
        let resource = Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            .with_attributes(settings.resource_attributes.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())))
            .with_service_name(settings.service_name.clone())
            .build();
        let traces = match &settings.traces {
            None => None,
            Some(traces) => {
                let exporter = export::exporter::<opentelemetry_otlp::SpanExporter>(traces)?;
                // One batch for the host's spans and the guests' alike.
                let config = batch_config!(opentelemetry_sdk::trace::BatchConfigBuilder, &settings.span_batching, 5000);
                let mut batch = BatchSpanProcessor::builder(exporter).with_batch_config(config).build();
                batch.set_resource(&resource);
                let guest_spans = GuestSpans(Arc::new(batch));
                let provider = SdkTracerProvider::builder()
                    .with_sampler(settings.sampling.sampler())
                    .with_span_processor(guest_spans.clone())
                    .with_resource(resource.clone())
                    .build();
                Some((provider, guest_spans))
            }
        };
        let metrics = match &settings.metrics {
            None => None,
            Some(metrics) => {
                let exporter = export::exporter::<opentelemetry_otlp::MetricExporter>(metrics)?;
                // Every `OTEL_METRIC_EXPORT_INTERVAL` (60 s by default), and at
                // shutdown; always given, as the reader would read the process's variable.
                let interval = settings.metric_export_interval.unwrap_or(DEFAULT_METRIC_EXPORT_INTERVAL);
                let reader = PeriodicReader::builder(exporter).with_interval(interval).build();
                let provider = SdkMeterProvider::builder().with_reader(reader).with_resource(resource.clone()).build();
                Some((provider, GuestMetrics::new(metrics.clone(), &resource)))
            }
        };
        let logs = match &settings.logs {
            None => None,
            Some(logs) => {
                let exporter = export::exporter::<opentelemetry_otlp::LogExporter>(logs)?;
                let config = batch_config!(opentelemetry_sdk::logs::BatchConfigBuilder, &settings.log_batching, 1000);
                let batch = BatchLogProcessor::builder(exporter).with_batch_config(config).build();
                let provider = SdkLoggerProvider::builder().with_log_processor(batch).with_resource(resource).build();
                Some(AppLogs::new(provider))
            }
        };
        Ok(Self { traces, metrics, logs })
    }

    /// Where guests' own spans, metrics, output and log records go.
    pub fn guest_telemetry(&self) -> GuestTelemetry {
        GuestTelemetry {
            spans: self.traces.as_ref().map(|(_, spans)| spans.clone()),
            metrics: self.metrics.as_ref().map(|(_, guests)| guests.clone()),
            logs: self.logs.clone(),
        }
    }

    /// What the HTTP trigger starts its request spans with, when traces are exported.
    pub fn request_tracer(&self) -> Option<RequestTracer> {
        self.traces.as_ref().map(|(provider, _)| RequestTracer { tracer: provider.tracer("spin_trigger_http") })
    }

    /// Spin's own metrics of the app (request count, instance usage), when
    /// metrics are exported.
    pub fn host_metrics(&self) -> Option<HostMetrics> {
        self.metrics.as_ref().map(|(provider, _)| HostMetrics {
            requests: RequestCounter::new(provider),
            instances: InstanceMetrics::new(provider),
        })
    }

    /// Sends what is still batched and stops the exporters (blocks up to their
    /// timeouts when the collector is unreachable).
    pub fn shutdown(self) {
        if let Some((provider, _)) = self.traces {
            if let Err(e) = provider.shutdown() {
                tracing::warn!("traces: {e}");
            }
        }
        if let Some((provider, guests)) = self.metrics {
            guests.shutdown();
            if let Err(e) = provider.shutdown() {
                tracing::warn!("metrics: {e}");
            }
        }
        if let Some(logs) = self.logs {
            if let Err(e) = logs.shutdown() {
                tracing::warn!("logs: {e}");
            }
        }
    }
}
