//! A real OTLP receiver on 127.0.0.1, over HTTP or gRPC: Python's HTTP server
//! decoding each `POST /v1/traces`, `/v1/metrics` and `/v1/logs`, or Python's
//! gRPC server serving OTLP's three services (optionally over TLS), with
//! OpenTelemetry's own protobuf and gRPC classes (`opentelemetry-proto` and
//! `grpcio`, in the venv `CSS_OTEL_VENV`, default `/var/tmp/css-otel-venv`,
//! which `integration/scripts/setup-host.sh` creates).
//! The HTTP receiver reads `http/protobuf` and `http/json` bodies.
//! Every span, every data point of a metric and every log record received is
//! kept as one JSON line, read back by [`OtlpReceiver::spans`],
//! [`OtlpReceiver::sums`], [`OtlpReceiver::metric_points`] and [`OtlpReceiver::logs`].

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long a start may take before the receiver must listen.
const START_TIMEOUT: Duration = Duration::from_secs(30);

const RECEIVER: &str = r#"
import base64, json, sys
from google.protobuf import json_format
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_service
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_service
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_service

mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def plain(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "kvlist_value":
        return {item.key: plain(item.value) for item in any_value.kvlist_value.values}
    if kind == "array_value":
        return [plain(item) for item in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None

def attributes(items):
    return {a.key: plain(a.value) for a in items}

def otlp_json(body):
    """An OTLP/JSON body in protobuf's JSON mapping: OTLP writes ids as hex, the mapping reads base64."""
    def ids(node):
        if isinstance(node, list):
            return [ids(item) for item in node]
        if not isinstance(node, dict):
            return node
        fixed = {}
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                try:
                    value = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    pass
            fixed[key] = ids(value)
        return fixed
    return json.dumps(ids(json.loads(body)))

def keep(items):
    with open(out, "a") as sink:
        for item in items:
            sink.write(json.dumps(item) + "\n")

def each(resources, scopes, items):
    """Every item of a request, with its resource's attributes and its scope."""
    for resource_items in resources:
        resource = attributes(resource_items.resource.attributes)
        for scope_items in getattr(resource_items, scopes):
            for item in getattr(scope_items, items):
                yield resource, scope_items.scope, item

def spans(request, received):
    for resource, _, span in each(request.resource_spans, "scope_spans", "spans"):
        yield dict(received, **{
            "signal": "span",
            "service": resource.get("service.name"),
            "resource": resource,
            "name": span.name,
            "kind": span.kind,
            "trace_id": span.trace_id.hex(),
            "span_id": span.span_id.hex(),
            "parent_span_id": span.parent_span_id.hex(),
            "status": span.status.code,
            "attributes": attributes(span.attributes),
            "events": [event.name for event in span.events],
        })

def metric_points(request, received):
    """Each point of every metric; its signal is the metric's kind (sum, gauge, histogram, ...)."""
    for resource, scope, metric in each(request.resource_metrics, "scope_metrics", "metrics"):
        kind = metric.WhichOneof("data")
        data = getattr(metric, kind)
        for point in data.data_points:
            item = dict(received, **{
                "signal": kind,
                "service": resource.get("service.name"),
                "resource": resource,
                "scope": scope.name,
                "scope_version": scope.version,
                "name": metric.name,
                "unit": metric.unit,
                "attributes": attributes(point.attributes),
                "time_unix_nano": point.time_unix_nano,
            })
            if kind in ("sum", "gauge"):
                item["value"] = getattr(point, point.WhichOneof("value"))
                item["exemplars"] = [
                    {"value": getattr(e, e.WhichOneof("value")), "trace_id": e.trace_id.hex(), "span_id": e.span_id.hex()}
                    for e in point.exemplars
                ]
            if kind == "sum":
                item["monotonic"] = data.is_monotonic
            if kind in ("sum", "histogram", "exponential_histogram"):
                item["temporality"] = data.aggregation_temporality
            if kind in ("histogram", "exponential_histogram"):
                item.update(count=point.count, sum=point.sum, min=point.min, max=point.max)
            if kind == "histogram":
                item.update(bucket_counts=list(point.bucket_counts), bounds=list(point.explicit_bounds))
            yield item

def logs(request, received):
    for resource, scope, record in each(request.resource_logs, "scope_logs", "log_records"):
        yield dict(received, **{
            "signal": "log",
            "service": resource.get("service.name"),
            "scope": scope.name,
            "body": plain(record.body),
            "severity_number": record.severity_number,
            "severity_text": record.severity_text,
            "event_name": record.event_name,
            "time_unix_nano": record.time_unix_nano,
            "trace_id": record.trace_id.hex(),
            "span_id": record.span_id.hex(),
            "attributes": attributes(record.attributes),
        })

# What each signal's request and reply are, and how its items are read.
SIGNALS = {
    "/v1/traces": (trace_service.ExportTraceServiceRequest, trace_service.ExportTraceServiceResponse, spans),
    "/v1/metrics": (metrics_service.ExportMetricsServiceRequest, metrics_service.ExportMetricsServiceResponse, metric_points),
    "/v1/logs": (logs_service.ExportLogsServiceRequest, logs_service.ExportLogsServiceResponse, logs),
}

class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        request_type, reply_type, items = SIGNALS[self.path]
        request = request_type()
        if self.headers.get("content-type") == "application/json":
            json_format.Parse(otlp_json(body), request)
        else:
            request.ParseFromString(body)
        received = {
            "protocol": "http",
            "path": self.path,
            "content_type": self.headers.get("content-type"),
            "request_headers": dict(self.headers.items()),
        }
        keep(items(request, received))
        reply = reply_type().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass

def serve_grpc(credentials):
    from concurrent import futures
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as trace_grpc
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as metrics_grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc

    def exporting(path):
        _, reply_type, items = SIGNALS[path]
        def export(self, request, context):
            received = {"protocol": "grpc", "request_headers": dict(context.invocation_metadata())}
            keep(items(request, received))
            return reply_type()
        return export

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    for module, name, path in [
        (trace_grpc, "TraceService", "/v1/traces"),
        (metrics_grpc, "MetricsService", "/v1/metrics"),
        (logs_grpc, "LogsService", "/v1/logs"),
    ]:
        servicer = type(name, (getattr(module, name + "Servicer"),), {"Export": exporting(path)})
        getattr(module, "add_" + name + "Servicer_to_server")(servicer(), server)
    address = "127.0.0.1:%d" % port
    if credentials:
        key, cert = (open(path, "rb").read() for path in credentials)
        server.add_secure_port(address, grpc.ssl_server_credentials([(key, cert)]))
    else:
        server.add_insecure_port(address)
    server.start()
    server.wait_for_termination()

if mode == "http":
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
else:
    serve_grpc(sys.argv[4:6] if mode == "grpc-tls" else None)
"#;

/// The venv holding `opentelemetry-proto`.
fn python() -> PathBuf {
    let venv =
        std::env::var_os("CSS_OTEL_VENV").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/var/tmp/css-otel-venv"));
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "{} not found: run `bash integration/scripts/setup-host.sh` (it installs opentelemetry-proto into {})",
        python.display(),
        venv.display()
    );
    python
}

/// A running receiver; stopped when dropped.
pub struct OtlpReceiver {
    port: u16,
    tls: bool,
    received: tempfile::NamedTempFile,
    _process: Running,
}

impl OtlpReceiver {
    /// Starts an OTLP/HTTP receiver on a free port and waits until it listens.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_as("http", &[])
    }

    /// Starts an OTLP/gRPC receiver (plain HTTP/2) on a free port.
    pub fn start_grpc() -> anyhow::Result<Self> {
        Self::start_as("grpc", &[])
    }

    /// Starts an OTLP/gRPC receiver over TLS, with the server certificate of `pki`.
    pub fn start_grpc_tls(pki: &crate::services::tls_server::Pki) -> anyhow::Result<Self> {
        let dir = pki.dir();
        Self::start_as("grpc-tls", &[dir.join("server.key"), dir.join("server.pem")])
    }

    fn start_as(mode: &str, files: &[PathBuf]) -> anyhow::Result<Self> {
        let port = free_port();
        let received = tempfile::NamedTempFile::new()?;
        let mut cmd = Command::new(python());
        cmd.args(["-c", RECEIVER, mode, &port.to_string()]).arg(received.path()).args(files);
        let mut process = Running::spawn(cmd).context("starting the OTLP receiver")?;
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { port, tls: mode == "grpc-tls", received, _process: process });
            }
            if let Some(code) = process.try_status() {
                anyhow::bail!("the OTLP receiver exited with {code}:\n{}", process.output());
            }
            anyhow::ensure!(Instant::now() < end, "the OTLP receiver did not listen within {START_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:<port>`, the value of `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (for a receiver over TLS, with `https`).
    pub fn endpoint(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "https" } else { "http" }, self.port)
    }

    /// Every span received so far, one JSON object each.
    pub fn spans(&self) -> Vec<serde_json::Value> {
        self.received("span")
    }

    /// Every data point of a sum (a counter) received so far, one JSON object each.
    pub fn sums(&self) -> Vec<serde_json::Value> {
        self.received("sum")
    }

    /// Every data point of metric `name` received so far, of any kind (its
    /// `signal`: `sum`, `gauge`, `histogram`, ...), one JSON object each.
    pub fn metric_points(&self, name: &str) -> Vec<serde_json::Value> {
        self.all().into_iter().filter(|item| item["name"] == name && item.get("unit").is_some()).collect()
    }

    /// Every log record received so far, one JSON object each.
    pub fn logs(&self) -> Vec<serde_json::Value> {
        self.received("log")
    }

    /// Waits up to `timeout` until `arrived` holds of what was received;
    /// whether it did.
    pub fn wait_until(&self, timeout: Duration, arrived: impl Fn(&Self) -> bool) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if arrived(self) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn received(&self, signal: &str) -> Vec<serde_json::Value> {
        self.all().into_iter().filter(|item| item["signal"] == signal).collect()
    }

    fn all(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.received.path()).unwrap_or_default();
        text.lines().filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok()).collect()
    }
}
