//! The OTLP exporter of each signal, over HTTP (`http/protobuf`, `http/json`)
//! or gRPC, as `OTEL_EXPORTER_OTLP_*PROTOCOL` asks. The SDK's batch threads
//! drive an exporter's future with a plain executor; a gRPC exporter's client
//! needs tokio, so its calls run on one small runtime of the process's own,
//! started the first time a signal is sent over gRPC.

use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::{OtlpProtocol, OtlpSettings};

/// An exporter of the OTLP crate, with the runtime its gRPC client runs on.
#[derive(Debug)]
pub(super) struct Exporter<E> {
    inner: E,
    /// The gRPC runtime, for an exporter over gRPC.
    runtime: Option<&'static tokio::runtime::Runtime>,
}

impl<E> Exporter<E> {
    /// Runs `export` to its end: on the gRPC runtime when the exporter speaks
    /// gRPC (the caller is an SDK thread, never a runtime's), else where it is.
    async fn run(&self, export: impl Future<Output = OTelSdkResult>) -> OTelSdkResult {
        match self.runtime {
            Some(runtime) => runtime.block_on(export),
            None => export.await,
        }
    }
}

/// The span exporter `settings` describe.
pub(super) fn spans(settings: &OtlpSettings) -> anyhow::Result<Exporter<opentelemetry_otlp::SpanExporter>> {
    use opentelemetry_otlp::SpanExporter as Builder;
    build(
        settings,
        "traces",
        || Builder::builder().with_http(),
        || Builder::builder().with_tonic(),
        |b| b.build(),
        |b| b.build(),
    )
}

/// The metric exporter `settings` describe.
pub(super) fn metrics(settings: &OtlpSettings) -> anyhow::Result<Exporter<opentelemetry_otlp::MetricExporter>> {
    use opentelemetry_otlp::MetricExporter as Builder;
    build(
        settings,
        "metrics",
        || Builder::builder().with_http(),
        || Builder::builder().with_tonic(),
        |b| b.build(),
        |b| b.build(),
    )
}

/// The log exporter `settings` describe.
pub(super) fn logs(settings: &OtlpSettings) -> anyhow::Result<Exporter<opentelemetry_otlp::LogExporter>> {
    use opentelemetry_otlp::LogExporter as Builder;
    build(
        settings,
        "logs",
        || Builder::builder().with_http(),
        || Builder::builder().with_tonic(),
        |b| b.build(),
        |b| b.build(),
    )
}

/// Builds one signal's exporter from the OTLP crate's HTTP or gRPC builder.
fn build<E, H, G>(
    settings: &OtlpSettings,
    signal: &str,
    http: impl FnOnce() -> H,
    grpc: impl FnOnce() -> G,
    build_http: impl FnOnce(H) -> Result<E, opentelemetry_otlp::ExporterBuildError>,
    build_grpc: impl FnOnce(G) -> Result<E, opentelemetry_otlp::ExporterBuildError>,
) -> anyhow::Result<Exporter<E>>
where
    H: WithExportConfig + WithHttpConfig,
    G: WithExportConfig + WithTonicConfig,
{
    let failed = || format!("cannot export {signal} to {}", settings.endpoint);
    let headers = || settings.headers.iter().cloned().collect::<HashMap<_, _>>();
    let (inner, runtime) = match settings.protocol {
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            let protocol =
                if settings.protocol == OtlpProtocol::HttpJson { Protocol::HttpJson } else { Protocol::HttpBinary };
            let builder =
                http().with_protocol(protocol).with_endpoint(settings.endpoint.clone()).with_headers(headers());
            (build_http(builder).with_context(failed)?, None)
        }
        OtlpProtocol::Grpc => {
            let runtime = grpc_runtime().with_context(failed)?;
            let metadata = MetadataMap::from_headers(header_map(&settings.headers).with_context(failed)?);
            let mut builder =
                grpc().with_protocol(Protocol::Grpc).with_endpoint(settings.endpoint.clone()).with_metadata(metadata);
            if settings.endpoint.starts_with("https:") {
                builder = builder.with_tls_config(ClientTlsConfig::new().with_native_roots());
            }
            // The client's connection task is spawned on the runtime as it is built.
            let _entered = runtime.enter();
            (build_grpc(builder).with_context(failed)?, Some(runtime))
        }
    };
    Ok(Exporter { inner, runtime })
}

/// `OTEL_EXPORTER_OTLP_HEADERS`' pairs as gRPC metadata.
fn header_map(headers: &[(String, String)]) -> anyhow::Result<http::HeaderMap> {
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
