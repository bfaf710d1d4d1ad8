//! The OTLP exporter of each signal, over HTTP (`http/protobuf`, `http/json`)
//! or gRPC, as `OTEL_EXPORTER_OTLP_*PROTOCOL` asks. The SDK's batch threads
//! drive an exporter's future with a plain executor; a gRPC exporter's client
//! needs tokio, so its calls run on one small runtime of the process's own,
//! started the first time a signal is sent over gRPC.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
use opentelemetry_otlp::{ExporterBuildError, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::{OtlpProtocol, OtlpSettings};

/// How often a failing export is reported at most.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// An exporter of the OTLP crate, with the runtime its gRPC client runs on.
#[derive(Debug)]
pub(super) struct Exporter<E> {
    inner: E,
    /// The gRPC runtime, for an exporter over gRPC.
    runtime: Option<&'static tokio::runtime::Runtime>,
    /// What failures are reported as: the signal and where it goes.
    target: String,
    /// Its failures' warnings.
    failures: Throttled,
}

/// A failure's warning, logged at most once per [`WARN_EVERY`] (a collector
/// that is down would otherwise fill the log).
#[derive(Debug, Default)]
pub(super) struct Throttled(Mutex<Option<Instant>>);

impl Throttled {
    /// Logs that `what` failed with `error`, unless that was done less than a
    /// minute ago.
    pub(super) fn warn(&self, what: &str, error: &dyn std::fmt::Display) {
        let mut warned = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *warned = Some(Instant::now());
            tracing::warn!("{what} failed (reported once a minute at most): {error}");
        }
    }
}

impl<E> Exporter<E> {
    /// Runs `export` to its end: on the gRPC runtime when the exporter speaks
    /// gRPC (the caller is an SDK thread, never a runtime's), else where it
    /// is. A failure is logged, at most once a minute, and the batch dropped.
    async fn run(&self, export: impl Future<Output = OTelSdkResult>) -> OTelSdkResult {
        let outcome = match self.runtime {
            Some(runtime) => runtime.block_on(export),
            None => export.await,
        };
        if let Err(e) = &outcome {
            self.failures.warn(&format!("exporting {}", self.target), e);
        }
        outcome
    }
}

/// The OTLP crate's exporter of one signal, which it builds over HTTP or gRPC.
pub(super) trait OtlpExporter: Sized {
    /// The signal's name in errors (`traces`, `metrics`, `logs`).
    const SIGNAL: &'static str;

    /// The exporter over HTTP, with `settings`' encoding, URL and headers.
    fn over_http(settings: &OtlpSettings, protocol: Protocol) -> Result<Self, ExporterBuildError>;

    /// The exporter over gRPC to `settings`' address, sending `metadata`.
    fn over_grpc(settings: &OtlpSettings, metadata: MetadataMap) -> Result<Self, ExporterBuildError>;
}

/// Implements [`OtlpExporter`] for one of the crate's exporters.
macro_rules! otlp_exporter {
    ($exporter:ty, $signal:literal) => {
        impl OtlpExporter for $exporter {
            const SIGNAL: &'static str = $signal;

            fn over_http(settings: &OtlpSettings, protocol: Protocol) -> Result<Self, ExporterBuildError> {
                <$exporter>::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_headers(settings.headers.iter().cloned().collect::<HashMap<_, _>>())
                    .build()
            }

            fn over_grpc(settings: &OtlpSettings, metadata: MetadataMap) -> Result<Self, ExporterBuildError> {
                let builder = <$exporter>::builder()
                    .with_tonic()
                    .with_protocol(Protocol::Grpc)
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_metadata(metadata);
                match settings.endpoint.starts_with("https:") {
                    true => builder.with_tls_config(ClientTlsConfig::new().with_native_roots()).build(),
                    false => builder.build(),
                }
            }
        }
    };
}

otlp_exporter!(opentelemetry_otlp::SpanExporter, "traces");
otlp_exporter!(opentelemetry_otlp::MetricExporter, "metrics");
otlp_exporter!(opentelemetry_otlp::LogExporter, "logs");

/// The exporter `settings` describe.
pub(super) fn exporter<E: OtlpExporter>(settings: &OtlpSettings) -> anyhow::Result<Exporter<E>> {
    let failed = || format!("cannot export {} to {}", E::SIGNAL, settings.endpoint);
    let (inner, runtime) = match settings.protocol {
        OtlpProtocol::HttpProtobuf => (E::over_http(settings, Protocol::HttpBinary).with_context(failed)?, None),
        OtlpProtocol::HttpJson => (E::over_http(settings, Protocol::HttpJson).with_context(failed)?, None),
        OtlpProtocol::Grpc => {
            let runtime = grpc_runtime().with_context(failed)?;
            let metadata = MetadataMap::from_headers(header_map(&settings.headers).with_context(failed)?);
            // The client's connection task is spawned on the runtime as it is built.
            let _entered = runtime.enter();
            (E::over_grpc(settings, metadata).with_context(failed)?, Some(runtime))
        }
    };
    let target = format!("{} to {}", E::SIGNAL, settings.endpoint);
    Ok(Exporter { inner, runtime, target, failures: Throttled::default() })
}

/// `OTEL_EXPORTER_OTLP_HEADERS`' pairs as request headers (or gRPC metadata).
pub(super) fn header_map(headers: &[(String, String)]) -> anyhow::Result<http::HeaderMap> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .with_context(|| format!("`{name}` is not a header name"))?;
            let value =
                http::HeaderValue::from_str(value).with_context(|| format!("header `{name}`: invalid value"))?;
            Ok((name, value))
        })
        .collect()
}

/// The runtime every gRPC exporter of the process runs on: one worker thread,
/// started once and kept for the process's life.
fn grpc_runtime() -> anyhow::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("otlp-grpc")
        .enable_all()
        .build()
        .context("starting the OTLP/gRPC runtime")?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

impl<E: SpanExporter> SpanExporter for Exporter<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.run(self.inner.export(batch))
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&mut self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: PushMetricExporter + Sync> PushMetricExporter for Exporter<E> {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        self.run(self.inner.export(metrics))
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

impl<E: LogExporter> LogExporter for Exporter<E> {
    fn export(&self, batch: LogBatch<'_>) -> impl Future<Output = OTelSdkResult> + Send {
        self.run(self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
