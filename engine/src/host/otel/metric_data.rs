//! A guest's `wasi:otel/metrics` export as an OTLP message. Everything here
//! comes from the guest: attributes past OpenTelemetry's 128 are dropped, an
//! exemplar's trace and span ids are kept only when they are well-formed, a
//! histogram point whose bucket counts do not fit its bounds (OTLP asks for
//! one more count than bounds, or none) is dropped, and a `u64` too large for
//! OTLP's signed integers is sent as the largest one. Temporality `low-memory`,
//! a reader's preference rather than a property of data, is sent as
//! cumulative, as the OTLP exporter sends it.

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1 as otlp;
use opentelemetry_proto::tonic::resource::v1::Resource;
use wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime;

use super::bindings::wasi::otel::{metrics as wit, types};
use super::spans::{key_value, scope, span_id, trace_id, MAX_PER_SPAN};

/// The guest's export as OTLP's.
pub(super) fn resource_metrics(export: wit::ResourceMetrics) -> otlp::ResourceMetrics {
    otlp::ResourceMetrics {
        resource: Some(Resource { attributes: attributes(export.resource.attributes), ..Default::default() }),
        schema_url: export.resource.schema_url.unwrap_or_default(),
        scope_metrics: export.scope_metrics.into_iter().map(scope_metrics).collect(),
    }
}

fn scope_metrics(metrics: wit::ScopeMetrics) -> otlp::ScopeMetrics {
    let schema_url = metrics.scope.schema_url.clone().unwrap_or_default();
    otlp::ScopeMetrics {
        scope: Some(InstrumentationScope::from((scope(metrics.scope), None))),
        metrics: metrics.metrics.into_iter().map(metric).collect(),
        schema_url,
    }
}

fn metric(metric: wit::Metric) -> otlp::Metric {
    use otlp::metric::Data;
    use wit::MetricData::*;
    let data = match metric.data {
        F64Gauge(gauge) | U64Gauge(gauge) | S64Gauge(gauge) => Data::Gauge(otlp::Gauge {
            data_points: gauge
                .data_points
                .into_iter()
                .map(|point| number_point(point.attributes, point.value, point.exemplars, gauge.start_time, gauge.time))
                .collect(),
        }),
        F64Sum(sum) | U64Sum(sum) | S64Sum(sum) => Data::Sum(otlp::Sum {
            data_points: sum
                .data_points
                .into_iter()
                .map(|point| {
                    number_point(point.attributes, point.value, point.exemplars, Some(sum.start_time), sum.time)
                })
                .collect(),
            aggregation_temporality: temporality(sum.temporality),
            is_monotonic: sum.is_monotonic,
        }),
        F64Histogram(histogram) | U64Histogram(histogram) | S64Histogram(histogram) => {
            Data::Histogram(otlp::Histogram {
                data_points: histogram
                    .data_points
                    .into_iter()
                    .filter(|point| point.bucket_counts.is_empty() || point.bucket_counts.len() == point.bounds.len() + 1)
                    .map(|point| otlp::HistogramDataPoint {
                        attributes: attributes(point.attributes),
                        start_time_unix_nano: nanos(histogram.start_time),
                        time_unix_nano: nanos(histogram.time),
                        count: point.count,
                        sum: Some(float(point.sum)),
                        bucket_counts: point.bucket_counts,
                        explicit_bounds: point.bounds,
                        exemplars: exemplars(point.exemplars),
                        flags: 0,
                        min: point.min.map(float),
                        max: point.max.map(float),
                    })
                    .collect(),
                aggregation_temporality: temporality(histogram.temporality),
            })
        }
        F64ExponentialHistogram(histogram) | U64ExponentialHistogram(histogram) | S64ExponentialHistogram(histogram) => {
            Data::ExponentialHistogram(otlp::ExponentialHistogram {
                data_points: histogram
                    .data_points
                    .into_iter()
                    .map(|point| otlp::ExponentialHistogramDataPoint {
                        attributes: attributes(point.attributes),
                        start_time_unix_nano: nanos(histogram.start_time),
                        time_unix_nano: nanos(histogram.time),
                        count: point.count,
                        sum: Some(float(point.sum)),
                        scale: i32::from(point.scale),
                        zero_count: point.zero_count,
                        positive: Some(buckets(point.positive_bucket)),
                        negative: Some(buckets(point.negative_bucket)),
                        flags: 0,
                        exemplars: exemplars(point.exemplars),
                        min: point.min.map(float),
                        max: point.max.map(float),
                        zero_threshold: point.zero_threshold,
                    })
                    .collect(),
                aggregation_temporality: temporality(histogram.temporality),
            })
        }
    };
    otlp::Metric {
        name: metric.name,
        description: metric.description,
        unit: metric.unit,
        metadata: Vec::new(),
        data: Some(data),
    }
}

/// One point of a gauge or a sum.
fn number_point(
    point_attributes: Vec<types::KeyValue>,
    value: wit::MetricNumber,
    point_exemplars: Vec<wit::Exemplar>,
    start: Option<Datetime>,
    time: Datetime,
) -> otlp::NumberDataPoint {
    use otlp::number_data_point::Value;
    otlp::NumberDataPoint {
        attributes: attributes(point_attributes),
        start_time_unix_nano: start.map_or(0, nanos),
        time_unix_nano: nanos(time),
        exemplars: exemplars(point_exemplars),
        flags: 0,
        value: Some(number(value, Value::AsDouble, Value::AsInt)),
    }
}

fn exemplars(exemplars: Vec<wit::Exemplar>) -> Vec<otlp::Exemplar> {
    use otlp::exemplar::Value;
    exemplars
        .into_iter()
        .map(|exemplar| otlp::Exemplar {
            filtered_attributes: attributes(exemplar.filtered_attributes),
            time_unix_nano: nanos(exemplar.time),
            span_id: span_id(&exemplar.span_id).map(|id| id.to_bytes().to_vec()).unwrap_or_default(),
            trace_id: trace_id(&exemplar.trace_id).map(|id| id.to_bytes().to_vec()).unwrap_or_default(),
            value: Some(number(exemplar.value, Value::AsDouble, Value::AsInt)),
        })
        .collect()
}

fn buckets(bucket: wit::ExponentialBucket) -> otlp::exponential_histogram_data_point::Buckets {
    otlp::exponential_histogram_data_point::Buckets { offset: bucket.offset, bucket_counts: bucket.counts }
}

fn attributes(attributes: Vec<types::KeyValue>) -> Vec<KeyValue> {
    attributes.into_iter().take(MAX_PER_SPAN).map(|attribute| KeyValue::from(&key_value(attribute))).collect()
}

fn temporality(temporality: wit::Temporality) -> i32 {
    match temporality {
        wit::Temporality::Delta => otlp::AggregationTemporality::Delta,
        wit::Temporality::Cumulative | wit::Temporality::LowMemory => otlp::AggregationTemporality::Cumulative,
    }
    .into()
}

/// A number as OTLP's double or signed integer (a `u64` past `i64::MAX` is `i64::MAX`).
fn number<V>(number: wit::MetricNumber, double: impl FnOnce(f64) -> V, int: impl FnOnce(i64) -> V) -> V {
    match number {
        wit::MetricNumber::F64(v) => double(v),
        wit::MetricNumber::S64(v) => int(v),
        wit::MetricNumber::U64(v) => int(i64::try_from(v).unwrap_or(i64::MAX)),
    }
}

/// A number as a double (histogram sums, minimums and maximums).
fn float(value: wit::MetricNumber) -> f64 {
    match value {
        wit::MetricNumber::F64(v) => v,
        wit::MetricNumber::S64(v) => v as f64,
        wit::MetricNumber::U64(v) => v as f64,
    }
}

fn nanos(at: Datetime) -> u64 {
    at.seconds.saturating_mul(1_000_000_000).saturating_add(u64::from(at.nanoseconds.min(999_999_999)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::any_value;

    fn at(seconds: u64) -> Datetime {
        Datetime { seconds, nanoseconds: 5 }
    }

    fn attribute(key: &str, json: &str) -> types::KeyValue {
        types::KeyValue { key: key.into(), value: json.into() }
    }

    fn histogram_point(bounds: Vec<f64>, bucket_counts: Vec<u64>) -> wit::HistogramDataPoint {
        wit::HistogramDataPoint {
            attributes: vec![attribute("route", "\"/\"")],
            count: bucket_counts.iter().sum(),
            bounds,
            bucket_counts,
            min: Some(wit::MetricNumber::U64(3)),
            max: None,
            sum: wit::MetricNumber::S64(60),
            exemplars: Vec::new(),
        }
    }

    fn export(data: wit::MetricData) -> otlp::Metric {
        let export = wit::ResourceMetrics {
            resource: types::Resource { attributes: vec![attribute("service.name", "\"guest\"")], schema_url: None },
            scope_metrics: vec![wit::ScopeMetrics {
                scope: types::InstrumentationScope {
                    name: "shop".into(),
                    version: Some("1.0".into()),
                    schema_url: Some("https://opentelemetry.io/schemas/1.0".into()),
                    attributes: Vec::new(),
                },
                metrics: vec![wit::Metric { name: "m".into(), description: "d".into(), unit: "ms".into(), data }],
            }],
        };
        let mut converted = resource_metrics(export);
        let scope = converted.scope_metrics.remove(0);
        assert_eq!(scope.scope.as_ref().map(|s| (s.name.as_str(), s.version.as_str())), Some(("shop", "1.0")));
        assert_eq!(scope.schema_url, "https://opentelemetry.io/schemas/1.0");
        assert_eq!(converted.resource.unwrap().attributes[0].key, "service.name");
        scope.metrics.into_iter().next().unwrap()
    }

    #[test]
    fn sums_keep_their_values_temporality_attributes_and_exemplars() {
        let sum = wit::Sum {
            data_points: vec![wit::SumDataPoint {
                attributes: vec![attribute("region", "\"eu\""), attribute("n", "3")],
                value: wit::MetricNumber::U64(u64::MAX),
                exemplars: vec![wit::Exemplar {
                    filtered_attributes: Vec::new(),
                    time: at(9),
                    value: wit::MetricNumber::F64(1.5),
                    span_id: "00f067aa0ba902b7".into(),
                    trace_id: "not hex".into(),
                }],
            }],
            start_time: at(1),
            time: at(2),
            temporality: wit::Temporality::Delta,
            is_monotonic: true,
        };
        let Some(otlp::metric::Data::Sum(sum)) = export(wit::MetricData::U64Sum(sum)).data else { panic!() };
        assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (otlp::AggregationTemporality::Delta as i32, true));
        let point = &sum.data_points[0];
        assert_eq!((point.start_time_unix_nano, point.time_unix_nano), (1_000_000_005, 2_000_000_005));
        assert_eq!(point.value, Some(otlp::number_data_point::Value::AsInt(i64::MAX)));
        let region = point.attributes[0].value.as_ref().and_then(|v| v.value.clone());
        assert_eq!(region, Some(any_value::Value::StringValue("eu".into())));
        assert_eq!(point.attributes[1].value.as_ref().and_then(|v| v.value.clone()), Some(any_value::Value::IntValue(3)));
        let exemplar = &point.exemplars[0];
        assert_eq!(exemplar.span_id, vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert!(exemplar.trace_id.is_empty(), "a malformed id is left out");
    }

    #[test]
    fn histogram_points_whose_counts_do_not_fit_their_bounds_are_dropped() {
        let histogram = wit::Histogram {
            data_points: vec![
                histogram_point(vec![10.0, 100.0], vec![1, 2, 0]),
                histogram_point(vec![10.0, 100.0], vec![1, 2]),
                histogram_point(vec![], vec![]),
            ],
            start_time: at(1),
            time: at(2),
            temporality: wit::Temporality::LowMemory,
        };
        let Some(otlp::metric::Data::Histogram(histogram)) = export(wit::MetricData::F64Histogram(histogram)).data
        else {
            panic!()
        };
        assert_eq!(histogram.aggregation_temporality, otlp::AggregationTemporality::Cumulative as i32);
        let counts: Vec<_> = histogram.data_points.iter().map(|p| p.bucket_counts.clone()).collect();
        assert_eq!(counts, vec![vec![1, 2, 0], vec![]]);
        let point = &histogram.data_points[0];
        assert_eq!((point.count, point.sum, point.min, point.max), (3, Some(60.0), Some(3.0), None));
        assert_eq!(point.explicit_bounds, vec![10.0, 100.0]);
    }

    #[test]
    fn gauges_without_a_start_and_attributes_past_the_cap() {
        let gauge = wit::Gauge {
            data_points: vec![wit::GaugeDataPoint {
                attributes: (0..200).map(|i| attribute(&format!("k{i}"), "1")).collect(),
                value: wit::MetricNumber::S64(-3),
                exemplars: Vec::new(),
            }],
            start_time: None,
            time: at(2),
        };
        let Some(otlp::metric::Data::Gauge(gauge)) = export(wit::MetricData::S64Gauge(gauge)).data else { panic!() };
        let point = &gauge.data_points[0];
        assert_eq!((point.start_time_unix_nano, point.attributes.len()), (0, MAX_PER_SPAN));
        assert_eq!(point.value, Some(otlp::number_data_point::Value::AsInt(-3)));
    }
}
