//! OpenTelemetry's `OTEL_*` variables, read as Spin reads them. Each signal
//! (traces, metrics, logs) is exported when its own endpoint variable
//! (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `..._METRICS_ENDPOINT`,
//! `..._LOGS_ENDPOINT`, used as given) or `OTEL_EXPORTER_OTLP_ENDPOINT` (plus
//! `/v1/traces`, `/v1/metrics`, `/v1/logs` over HTTP; as given over gRPC) is set,
//! unless `OTEL_SDK_DISABLED` is; a signal's own protocol, headers and timeout
//! variables win over the common ones. The timeouts,
//! `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds) and the batch processors'
//! `OTEL_BSP_*` (spans) and `OTEL_BLRP_*` (log records) are read here too, from
//! the container's environment: the SDK would read the shim process's own.

use std::collections::BTreeMap;
use std::time::Duration;

use spin_engine::telemetry::{
    Batching, OtlpProtocol, OtlpSettings, SamplingRule, TelemetrySettings, TraceSampling, DEFAULT_EXPORT_TIMEOUT,
};

use super::env::env_value;

/// The exports the environment asks for.
pub(crate) fn telemetry_settings(env: &BTreeMap<String, String>) -> TelemetrySettings {
    let (named, resource_attributes): (Vec<_>, Vec<_>) = env_value(env, "OTEL_RESOURCE_ATTRIBUTES")
        .map(pairs)
        .unwrap_or_default()
        .into_iter()
        .partition(|(k, _)| k == "service.name");
    let service_name = env_value(env, "OTEL_SERVICE_NAME")
        .map(str::to_string)
        .or_else(|| named.into_iter().next().map(|(_, v)| v))
        .unwrap_or_else(|| "spin".to_string());
    TelemetrySettings {
        traces: signal_settings(env, "TRACES", "traces"),
        metrics: signal_settings(env, "METRICS", "metrics"),
        logs: signal_settings(env, "LOGS", "logs"),
        service_name,
        resource_attributes,
        sampling: sampling(env),
        metric_export_interval: millis(env, "OTEL_METRIC_EXPORT_INTERVAL").filter(|d| !d.is_zero()),
        span_batching: batching(env, "OTEL_BSP"),
        log_batching: batching(env, "OTEL_BLRP"),
    }
}

/// A batch processor's `<prefix>_MAX_QUEUE_SIZE`, `<prefix>_SCHEDULE_DELAY`
/// (milliseconds) and `<prefix>_MAX_EXPORT_BATCH_SIZE`; a value that is not a
/// positive number is warned about and the default used.
fn batching(env: &BTreeMap<String, String>, prefix: &str) -> Batching {
    let count = |name: String| {
        let value = env_value(env, &name)?;
        match value.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                eprintln!("Warning: {name}={value:?} is not a positive number; using the default");
                None
            }
        }
    };
    Batching {
        max_queue_size: count(format!("{prefix}_MAX_QUEUE_SIZE")),
        scheduled_delay: millis(env, &format!("{prefix}_SCHEDULE_DELAY")).filter(|d| !d.is_zero()),
        max_export_batch_size: count(format!("{prefix}_MAX_EXPORT_BATCH_SIZE")),
    }
}

/// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (the ratio, 1 by
/// default); an unknown sampler or a ratio outside 0 to 1 is warned about and
/// the default (`parentbased_always_on`) used.
fn sampling(env: &BTreeMap<String, String>) -> TraceSampling {
    let Some(name) = env_value(env, "OTEL_TRACES_SAMPLER") else { return TraceSampling::default() };
    let ratio = match env_value(env, "OTEL_TRACES_SAMPLER_ARG").map(str::parse::<f64>) {
        None => Some(1.0),
        Some(Ok(ratio)) if (0.0..=1.0).contains(&ratio) => Some(ratio),
        Some(_) => None,
    };
    let (parent_based, rule) = match (name, ratio) {
        ("always_on", _) => (false, SamplingRule::AlwaysOn),
        ("always_off", _) => (false, SamplingRule::AlwaysOff),
        ("traceidratio", Some(ratio)) => (false, SamplingRule::TraceIdRatio(ratio)),
        ("parentbased_always_on", _) => (true, SamplingRule::AlwaysOn),
        ("parentbased_always_off", _) => (true, SamplingRule::AlwaysOff),
        ("parentbased_traceidratio", Some(ratio)) => (true, SamplingRule::TraceIdRatio(ratio)),
        _ => {
            eprintln!("Warning: OTEL_TRACES_SAMPLER={name:?} (with its argument) is not a sampler this runtime knows; using parentbased_always_on");
            return TraceSampling::default();
        }
    };
    TraceSampling { parent_based, rule }
}

/// A duration in milliseconds, as OTel's variables give it; a value that is
/// not a count of milliseconds is left out with a warning (OTel's rule for
/// invalid values).
fn millis(env: &BTreeMap<String, String>, name: &str) -> Option<Duration> {
    let value = env_value(env, name)?;
    match value.parse::<u64>() {
        Ok(ms) => Some(Duration::from_millis(ms)),
        Err(_) => {
            eprintln!("Warning: {name}={value:?} is not a number of milliseconds; using the default");
            None
        }
    }
}

/// The export of one signal (`TRACES` in the variables' names, `traces` in
/// the default endpoint's path), if the environment asks for it.
fn signal_settings(env: &BTreeMap<String, String>, signal: &str, path: &str) -> Option<OtlpSettings> {
    if env_value(env, "OTEL_SDK_DISABLED").is_some() {
        return None;
    }
    let own = |setting: &str| format!("OTEL_EXPORTER_OTLP_{signal}_{setting}");
    let either = |setting: &str| {
        env_value(env, &own(setting)).or_else(|| env_value(env, &format!("OTEL_EXPORTER_OTLP_{setting}")))
    };
    let own_endpoint = env_value(env, &own("ENDPOINT"));
    let common_endpoint = env_value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
    let given = own_endpoint.or(common_endpoint)?;
    let protocol = match either("PROTOCOL") {
        None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
        Some("http/json") => OtlpProtocol::HttpJson,
        Some("grpc") => OtlpProtocol::Grpc,
        Some(other) => {
            eprintln!("Warning: '{other}' is not an OTLP protocol; using http/protobuf");
            OtlpProtocol::HttpProtobuf
        }
    };
    // A signal's own endpoint, and any endpoint over gRPC (which names the
    // signal by its service), is used as given; over HTTP the common one gets
    // the signal's path.
    let endpoint = if own_endpoint.is_some() || protocol == OtlpProtocol::Grpc {
        given.to_string()
    } else {
        format!("{}/v1/{path}", given.trim_end_matches('/'))
    };
    let headers = either("HEADERS").map(pairs).unwrap_or_default();
    let timeout = millis(env, &own("TIMEOUT"))
        .or_else(|| millis(env, "OTEL_EXPORTER_OTLP_TIMEOUT"))
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_EXPORT_TIMEOUT);
    Some(OtlpSettings { endpoint, protocol, headers, timeout })
}

/// `k1=v1,k2=v2` as OTel writes header and attribute lists (blank items skipped).
fn pairs(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|item| item.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> TelemetrySettings {
        telemetry_settings(&vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_otel_variables_are_read_as_spin_reads_them() {
        assert_eq!((settings(&[]).traces, settings(&[]).metrics), (None, None));
        let base = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]);
        let traces = base.traces.unwrap();
        assert_eq!(traces.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(base.metrics.unwrap().endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(base.logs.unwrap().endpoint, "http://collector:4318/v1/logs");
        assert_eq!((traces.protocol, base.service_name.as_str()), (OtlpProtocol::HttpProtobuf, "spin"));
        let full = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/custom"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret, x-team = web"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment=prod,service.name=shop"),
        ]);
        let traces = full.traces.unwrap();
        assert_eq!(traces.endpoint, "http://collector:4318/custom");
        assert_eq!(traces.protocol, OtlpProtocol::HttpJson);
        assert_eq!(traces.headers, [("api-key".into(), "secret".into()), ("x-team".into(), "web".into())]);
        let metrics = full.metrics.unwrap();
        assert_eq!(
            (metrics.endpoint.as_str(), metrics.protocol),
            ("http://ignored:4318/v1/metrics", OtlpProtocol::HttpProtobuf)
        );
        assert_eq!(full.service_name, "shop");
        let only_metrics = settings(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:4318/v1/metrics")]);
        assert_eq!((only_metrics.traces, only_metrics.metrics.is_some(), only_metrics.logs), (None, true, None));
        let only_logs = settings(&[
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://l:4318/logs"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
        ]);
        let logs = only_logs.logs.unwrap();
        assert_eq!((logs.endpoint.as_str(), logs.protocol), ("http://l:4318/logs", OtlpProtocol::HttpJson));
        assert_eq!((only_logs.traces, only_logs.metrics), (None, None));
        let timed = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "700"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
        ]);
        assert_eq!(timed.traces.unwrap().timeout, Duration::from_millis(2500));
        assert_eq!(timed.logs.unwrap().timeout, Duration::from_millis(700));
        assert_eq!(timed.metric_export_interval, Some(Duration::from_millis(1500)));
        let untimed =
            settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")]);
        assert_eq!((untimed.metrics.unwrap().timeout, untimed.metric_export_interval), (DEFAULT_EXPORT_TIMEOUT, None));
        assert_eq!(full.resource_attributes, [("deployment".to_string(), "prod".to_string())]);
        let batched = settings(&[
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "64"),
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "later"),
        ]);
        let spans = Batching {
            max_queue_size: Some(100),
            scheduled_delay: Some(Duration::from_millis(200)),
            max_export_batch_size: None,
        };
        let logs = Batching { max_queue_size: None, scheduled_delay: None, max_export_batch_size: Some(64) };
        assert_eq!((batched.span_batching, batched.log_batching), (spans, logs));
        assert_eq!(
            (settings(&[]).span_batching, settings(&[]).log_batching),
            (Batching::default(), Batching::default())
        );
        let sampled = |name: &str, arg: &str| {
            let vars = [("OTEL_TRACES_SAMPLER", name), ("OTEL_TRACES_SAMPLER_ARG", arg)];
            settings(&vars).sampling
        };
        let ratio = |parent_based, ratio| TraceSampling { parent_based, rule: SamplingRule::TraceIdRatio(ratio) };
        assert_eq!(sampled("traceidratio", "0.25"), ratio(false, 0.25));
        assert_eq!(sampled("parentbased_traceidratio", ""), ratio(true, 1.0));
        assert_eq!(sampled("always_off", ""), TraceSampling { parent_based: false, rule: SamplingRule::AlwaysOff });
        assert_eq!(sampled("traceidratio", "2"), TraceSampling::default());
        assert_eq!(sampled("jaeger_remote", ""), TraceSampling::default());
        assert_eq!(settings(&[]).sampling, TraceSampling::default());
        let named = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SERVICE_NAME", "cart")];
        assert_eq!(settings(&named).service_name, "cart");
        let disabled = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "true")]);
        assert_eq!((disabled.traces, disabled.metrics), (None, None));
        let grpc = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://logs:4317"),
        ]);
        let (traces, logs) = (grpc.traces.unwrap(), grpc.logs.unwrap());
        assert_eq!((traces.endpoint.as_str(), traces.protocol), ("http://c:4317", OtlpProtocol::Grpc));
        assert_eq!(grpc.metrics.unwrap().endpoint, "http://c:4317");
        assert_eq!((logs.endpoint.as_str(), logs.protocol), ("https://logs:4317", OtlpProtocol::Grpc));
    }
}
