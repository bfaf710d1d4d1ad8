//! Guests' own metrics (`wasi:otel/metrics.export`) on their way to the app's
//! metrics endpoint. The OpenTelemetry SDK sends only data it aggregated
//! itself, so a guest's metrics travel as OTLP messages of their own, over the
//! app's protocol and under the app's resource. An export is queued and the
//! guest goes on at once: it never waits for the network. One thread, started
//! by the first export, sends what is queued, several exports to a request.
//! The queue is bounded ([`QUEUE`] exports of at most [`MAX_EXPORT_BYTES`]
//! each), and an export that does not fit is refused with an error the guest
//! sees.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::ResourceMetrics;
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use otlp_tonic::metadata::MetadataMap;
use otlp_tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use prost::Message as _;

use super::export::{header_map, Throttled};
use super::{OtlpProtocol, OtlpSettings};

/// How many exports wait at most for the sending thread.
const QUEUE: usize = 8;
/// The largest export taken, encoded, and the most sent in one request (the
/// default message limit of OTLP/gRPC collectors).
const MAX_EXPORT_BYTES: usize = 4 << 20;
/// How long shutdown waits for what is queued to be sent.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// Where guests' metrics go; cheap to clone.
#[derive(Clone, Debug)]
pub struct GuestMetrics(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    settings: OtlpSettings,
    /// The app's resource attributes, which win over a guest's own.
    resource: ProtoResource,
    sender: Mutex<Sender>,
    failures: Arc<Throttled>,
}

/// The sending thread's state.
#[derive(Debug)]
enum Sender {
    /// No guest has exported yet.
    NotStarted,
    /// Exports wait in `queue`, each with its encoded size.
    Running { queue: SyncSender<(ResourceMetrics, usize)>, thread: JoinHandle<()> },
    /// The app is stopping, or the thread could not start.
    Stopped,
}

impl GuestMetrics {
    /// Metrics sent as `settings` say, under `resource` (the app's).
    pub(super) fn new(settings: OtlpSettings, resource: &opentelemetry_sdk::Resource) -> Self {
        Self(Arc::new(Shared {
            settings,
            resource: resource.into(),
            sender: Mutex::new(Sender::NotStarted),
            failures: Arc::default(),
        }))
    }

    /// Queues a guest's export. Its resource keeps the attributes the app's
    /// resource does not set. The error is the guest's to read.
    pub fn export(&self, mut metrics: ResourceMetrics) -> Result<(), String> {
        metrics.resource = Some(self.merged_resource(metrics.resource.take()));
        let size = metrics.encoded_len();
        if size > MAX_EXPORT_BYTES {
            return Err(format!("the export is {size} bytes encoded; at most {MAX_EXPORT_BYTES} are taken at once"));
        }
        let mut sender = self.0.sender.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*sender, Sender::NotStarted) {
            *sender = match self.start() {
                Ok(running) => running,
                Err(e) => {
                    tracing::warn!("guest metrics will not be exported: {e:#}");
                    Sender::Stopped
                }
            };
        }
        let Sender::Running { queue, .. } = &*sender else {
            return Err("metrics are not being exported (the app is stopping, or the sender could not start)".into());
        };
        match queue.try_send((metrics, size)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                let refused = "the queue of metric exports is full: the collector takes them slower than they come";
                self.0.failures.warn("queueing a guest's metrics", &refused);
                Err(refused.into())
            }
            Err(TrySendError::Disconnected(_)) => Err("metrics are not being exported (the sender stopped)".into()),
        }
    }

    /// Sends what is queued (waiting up to ten seconds) and takes no more.
    pub(super) fn shutdown(&self) {
        let sender = std::mem::replace(&mut *self.0.sender.lock().unwrap_or_else(|e| e.into_inner()), Sender::Stopped);
        let Sender::Running { queue, thread } = sender else { return };
        drop(queue);
        let until = Instant::now() + SHUTDOWN_WAIT;
        while !thread.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            tracing::warn!("guest metrics: the collector did not take the last exports within {SHUTDOWN_WAIT:?}");
        }
    }

    /// The app's resource, with the guest's attributes it does not set itself.
    fn merged_resource(&self, guest: Option<ProtoResource>) -> ProtoResource {
        let mut resource = self.0.resource.clone();
        let guest_attributes = guest.map(|r| r.attributes).unwrap_or_default();
        for attribute in guest_attributes {
            if !resource.attributes.iter().any(|own| own.key == attribute.key) {
                resource.attributes.push(attribute);
            }
        }
        resource
    }

    /// Starts the sending thread.
    fn start(&self) -> anyhow::Result<Sender> {
        let (queue, receiver) = mpsc::sync_channel(QUEUE);
        let settings = self.0.settings.clone();
        let failures = self.0.failures.clone();
        let thread = std::thread::Builder::new()
            .name("otlp-guest-metrics".into())
            .spawn(move || send_all(&settings, &receiver, &failures))
            .context("starting the thread that sends guests' metrics")?;
        Ok(Sender::Running { queue, thread })
    }
}

/// The sending thread: sends each batch of queued exports until the queue closes.
fn send_all(settings: &OtlpSettings, queue: &Receiver<(ResourceMetrics, usize)>, failures: &Throttled) {
    let target = format!("exporting guests' metrics to {}", settings.endpoint);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return failures.warn(&target, &e),
    };
    // A gRPC channel starts its connection task as it is made.
    let entered = runtime.enter();
    let transport = match Transport::new(settings) {
        Ok(transport) => transport,
        Err(e) => return failures.warn(&target, &format!("{e:#}")),
    };
    drop(entered);
    let mut carried = None;
    loop {
        let Some((first, mut size)) = carried.take().or_else(|| queue.recv().ok()) else { return };
        let mut batch = vec![first];
        while let Ok((next, next_size)) = queue.try_recv() {
            size += next_size;
            if size > MAX_EXPORT_BYTES {
                carried = Some((next, next_size));
                break;
            }
            batch.push(next);
        }
        let request = ExportMetricsServiceRequest { resource_metrics: batch };
        match runtime.block_on(async { tokio::time::timeout(settings.timeout, transport.send(request)).await }) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.warn(&target, &format!("{e:#}")),
            Err(_) => failures.warn(&target, &format!("no answer within {:?}", settings.timeout)),
        }
    }
}

/// How requests reach the collector.
enum Transport {
    /// A POST of the request, protobuf or JSON.
    Http { client: reqwest::Client, url: String, headers: http::HeaderMap, json: bool },
    /// OTLP's `MetricsService/Export` call.
    Grpc { client: MetricsServiceClient<Channel>, metadata: MetadataMap },
}

impl Transport {
    fn new(settings: &OtlpSettings) -> anyhow::Result<Self> {
        let headers = header_map(&settings.headers)?;
        Ok(match settings.protocol {
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => Transport::Http {
                client: reqwest::Client::builder().build().context("building the HTTP client")?,
                url: settings.endpoint.clone(),
                headers,
                json: settings.protocol == OtlpProtocol::HttpJson,
            },
            OtlpProtocol::Grpc => {
                let mut endpoint = Endpoint::from_shared(settings.endpoint.clone())
                    .with_context(|| format!("`{}` is not a collector address", settings.endpoint))?;
                if settings.endpoint.starts_with("https:") {
                    endpoint = endpoint.tls_config(ClientTlsConfig::new().with_native_roots())?;
                }
                let client = MetricsServiceClient::new(endpoint.connect_lazy());
                Transport::Grpc { client, metadata: MetadataMap::from_headers(headers) }
            }
        })
    }

    async fn send(&self, request: ExportMetricsServiceRequest) -> anyhow::Result<()> {
        match self {
            Transport::Http { client, url, headers, json } => {
                let (content_type, body) = match json {
                    true => ("application/json", otlp_json(&request)?),
                    false => ("application/x-protobuf", request.encode_to_vec()),
                };
                let response = client
                    .post(url)
                    .headers(headers.clone())
                    .header(http::header::CONTENT_TYPE, content_type)
                    .body(body)
                    .send()
                    .await?;
                response.error_for_status()?;
            }
            Transport::Grpc { client, metadata } => {
                let mut call = otlp_tonic::Request::new(request);
                *call.metadata_mut() = metadata.clone();
                client.clone().export(call).await?;
            }
        }
        Ok(())
    }
}

/// `request` in OTLP/JSON. opentelemetry-proto 0.31 nests an exemplar's value
/// (`"value": {"asInt": 42}`) where OTLP/JSON puts it beside the exemplar's
/// other fields (`"asInt": 42`), as the crate does for data points; this moves
/// it there, so collectors read it.
fn otlp_json(request: &ExportMetricsServiceRequest) -> serde_json::Result<Vec<u8>> {
    fn flatten_exemplar_values(node: &mut serde_json::Value) {
        use serde_json::Value;
        match node {
            Value::Array(items) => items.iter_mut().for_each(flatten_exemplar_values),
            Value::Object(fields) => {
                if let Some(Value::Array(exemplars)) = fields.get_mut("exemplars") {
                    for exemplar in exemplars.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(Value::Object(value)) = exemplar.remove("value") {
                            exemplar.extend(value);
                        }
                    }
                }
                fields.values_mut().for_each(flatten_exemplar_values);
            }
            _ => {}
        }
    }
    let mut json = serde_json::to_value(request)?;
    flatten_exemplar_values(&mut json);
    serde_json::to_vec(&json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};

    fn attribute(key: &str, value: &str) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }) }
    }

    fn unreachable() -> GuestMetrics {
        let settings = OtlpSettings {
            endpoint: "http://127.0.0.1:9/v1/metrics".into(),
            protocol: OtlpProtocol::HttpProtobuf,
            headers: Vec::new(),
            timeout: crate::telemetry::DEFAULT_EXPORT_TIMEOUT,
        };
        GuestMetrics::new(settings, &opentelemetry_sdk::Resource::builder().with_service_name("shop").build())
    }

    #[test]
    fn the_apps_resource_attributes_win_over_the_guests() {
        let metrics = unreachable();
        let guest = ProtoResource {
            attributes: vec![attribute("service.name", "guest"), attribute("guest.only", "kept")],
            ..Default::default()
        };
        let merged = metrics.merged_resource(Some(guest));
        let value = |key: &str| merged.attributes.iter().find(|a| a.key == key).map(|a| a.value.clone());
        assert_eq!(value("service.name"), Some(attribute("", "shop").value));
        assert_eq!(value("guest.only"), Some(attribute("", "kept").value));
        assert_eq!(merged.attributes.iter().filter(|a| a.key == "service.name").count(), 1);
    }

    #[test]
    fn exports_past_the_queue_are_refused_while_the_collector_does_not_answer() {
        // A collector that takes connections (the kernel's backlog) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let settings = OtlpSettings {
            endpoint: format!("http://{}/v1/metrics", silent.local_addr().unwrap()),
            protocol: OtlpProtocol::HttpProtobuf,
            headers: Vec::new(),
            timeout: crate::telemetry::DEFAULT_EXPORT_TIMEOUT,
        };
        let metrics = GuestMetrics::new(settings, &opentelemetry_sdk::Resource::builder().build());
        let outcomes: Vec<_> = (0..QUEUE + 2).map(|_| metrics.export(ResourceMetrics::default())).collect();
        assert!(outcomes[..QUEUE].iter().all(Result::is_ok), "{outcomes:?}");
        let refused = outcomes.last().unwrap().as_ref().unwrap_err();
        assert!(refused.contains("queue of metric exports is full"), "{refused}");
    }

    #[test]
    fn exemplar_values_sit_beside_their_fields_in_otlp_json() {
        use opentelemetry_proto::tonic::metrics::v1::{
            exemplar, metric, Exemplar, Metric, NumberDataPoint, ScopeMetrics, Sum,
        };
        let point = NumberDataPoint {
            exemplars: vec![Exemplar { value: Some(exemplar::Value::AsInt(42)), ..Default::default() }],
            ..Default::default()
        };
        let sum = Sum { data_points: vec![point], ..Default::default() };
        let metric = Metric { data: Some(metric::Data::Sum(sum)), ..Default::default() };
        let scope = ScopeMetrics { metrics: vec![metric], ..Default::default() };
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics { scope_metrics: vec![scope], ..Default::default() }],
        };
        let json: serde_json::Value = serde_json::from_slice(&otlp_json(&request).unwrap()).unwrap();
        let exemplar =
            &json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"][0]["exemplars"][0];
        assert_eq!((&exemplar["asInt"], exemplar.get("value")), (&serde_json::json!(42), None), "{exemplar}");
    }

    #[test]
    fn an_oversize_export_is_refused_and_a_stopped_app_takes_none() {
        let metrics = unreachable();
        let huge = ResourceMetrics { schema_url: "x".repeat(MAX_EXPORT_BYTES + 1), ..Default::default() };
        let e = metrics.export(huge).unwrap_err();
        assert!(e.contains("at most 4194304"), "{e}");
        assert_eq!(metrics.export(ResourceMetrics::default()), Ok(()));
        metrics.shutdown();
        let e = metrics.export(ResourceMetrics::default()).unwrap_err();
        assert!(e.contains("stopping"), "{e}");
    }
}
