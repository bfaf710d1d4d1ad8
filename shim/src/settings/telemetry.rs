//! OpenTelemetry's `OTEL_*` variables, read as Spin reads them: traces are
//! exported when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as given) or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (plus `/v1/traces`) is set, unless
//! `OTEL_SDK_DISABLED` is. Only the OTLP/HTTP protocols are spoken.

use std::collections::BTreeMap;

use spin_engine::telemetry::{OtlpProtocol, OtlpSettings};

use super::env::env_value;

/// The trace export the environment asks for, if any.
pub(crate) fn otlp_settings(env: &BTreeMap<String, String>) -> Option<OtlpSettings> {
    if env_value(env, "OTEL_SDK_DISABLED").is_some() {
        return None;
    }
    let endpoint = match env_value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        Some(traces) => traces.to_string(),
        None => format!("{}/v1/traces", env_value(env, "OTEL_EXPORTER_OTLP_ENDPOINT")?.trim_end_matches('/')),
    };
    let protocol_var = ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"];
    let protocol = match protocol_var.iter().find_map(|name| env_value(env, name)) {
        None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
        Some("http/json") => OtlpProtocol::HttpJson,
        Some("grpc") => {
            eprintln!(
                "Warning: OTLP over gRPC is not supported; no traces are exported. \
                 Set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (a collector's port 4318)"
            );
            return None;
        }
        Some(other) => {
            eprintln!("Warning: '{other}' is not an OTLP protocol; using http/protobuf");
            OtlpProtocol::HttpProtobuf
        }
    };
    let headers_var = ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"];
    let headers = headers_var.iter().find_map(|name| env_value(env, name)).map(pairs).unwrap_or_default();
    let service_name = env_value(env, "OTEL_SERVICE_NAME")
        .map(str::to_string)
        .or_else(|| {
            let attributes = pairs(env_value(env, "OTEL_RESOURCE_ATTRIBUTES")?);
            attributes.into_iter().find(|(k, _)| k == "service.name").map(|(_, v)| v)
        })
        .unwrap_or_else(|| "spin".to_string());
    Some(OtlpSettings { endpoint, protocol, headers, service_name })
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

    fn settings(vars: &[(&str, &str)]) -> Option<OtlpSettings> {
        otlp_settings(&vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_otel_variables_are_read_as_spin_reads_them() {
        assert_eq!(settings(&[]), None);
        let base = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).unwrap();
        assert_eq!(base.endpoint, "http://collector:4318/v1/traces");
        assert_eq!((base.protocol, base.service_name.as_str()), (OtlpProtocol::HttpProtobuf, "spin"));
        let full = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/custom"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret, x-team = web"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment=prod,service.name=shop"),
        ])
        .unwrap();
        assert_eq!(full.endpoint, "http://collector:4318/custom");
        assert_eq!(full.protocol, OtlpProtocol::HttpJson);
        assert_eq!(full.headers, [("api-key".into(), "secret".into()), ("x-team".into(), "web".into())]);
        assert_eq!(full.service_name, "shop");
        let named = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SERVICE_NAME", "cart")];
        assert_eq!(settings(&named).unwrap().service_name, "cart");
        assert_eq!(settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "true")]), None);
        assert_eq!(
            settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]),
            None
        );
    }
}
