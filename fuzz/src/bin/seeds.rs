//! Writes the starting corpus into the directory given as the argument: small trace, metrics
//! and logs requests with every kind of value, as prost encodes them.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

fn attr(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn attributes() -> Vec<KeyValue> {
    let nested = Value::ArrayValue(ArrayValue {
        values: vec![
            AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![attr("inner", Value::StringValue("é".into()))],
                })),
            },
            AnyValue { value: None },
        ],
    });
    vec![
        attr("gen_ai.request.model", Value::StringValue("gpt-4o".into())),
        attr("gen_ai.usage.input_tokens", Value::IntValue(1200)),
        attr("sampled", Value::BoolValue(true)),
        attr("temperature", Value::DoubleValue(0.7)),
        attr("blob", Value::BytesValue(vec![0, 255])),
        attr("indexed", Value::StringValueStrindex(3)),
        attr("nested", nested),
    ]
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![attr("service.name", Value::StringValue("svc".into()))],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "lib".into(),
        version: "1.0".into(),
        ..Default::default()
    })
}

fn traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        parent_span_id: vec![3; 8],
        name: "chat".into(),
        kind: 3,
        start_time_unix_nano: 10,
        end_time_unix_nano: 20,
        attributes: attributes(),
        events: vec![Event {
            name: "e".into(),
            attributes: attributes(),
            ..Default::default()
        }],
        links: vec![Link {
            trace_id: vec![4; 16],
            span_id: vec![5; 8],
            flags: 1,
            ..Default::default()
        }],
        status: Some(Status {
            message: "m".into(),
            code: 2,
        }),
        flags: 0x100,
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans: vec![span.clone(), span],
                schema_url: "s".into(),
            }],
            schema_url: "r".into(),
        }],
    }
}

fn metrics() -> ExportMetricsServiceRequest {
    let exemplars = vec![Exemplar {
        span_id: vec![2; 8],
        trace_id: vec![1; 16],
        ..Default::default()
    }];
    let number = NumberDataPoint {
        attributes: attributes(),
        value: Some(number_data_point::Value::AsInt(5)),
        exemplars: exemplars.clone(),
        ..Default::default()
    };
    let metric = |data| Metric {
        name: "m".into(),
        unit: "1".into(),
        data: Some(data),
        ..Default::default()
    };
    let metrics = vec![
        metric(Data::Gauge(Gauge {
            data_points: vec![number.clone()],
        })),
        metric(Data::Sum(Sum {
            data_points: vec![number],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        metric(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                count: 3,
                sum: Some(1.5),
                bucket_counts: vec![1, 2],
                explicit_bounds: vec![1.0],
                exemplars: exemplars.clone(),
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        metric(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                scale: -2,
                positive: Some(Buckets {
                    offset: -1,
                    bucket_counts: vec![1, 300],
                }),
                exemplars,
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        metric(Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                quantile_values: vec![ValueAtQuantile {
                    quantile: 0.5,
                    value: 2.0,
                }],
                ..Default::default()
            }],
        })),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs() -> ExportLogsServiceRequest {
    let record = LogRecord {
        severity_number: 9,
        severity_text: "INFO".into(),
        body: attributes().pop().and_then(|kv| kv.value),
        attributes: attributes(),
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        event_name: "ev".into(),
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: vec![record, LogRecord::default()],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "seeds".into()));
    std::fs::create_dir_all(&dir)?;
    let mut grouped = traces().encode_to_vec();
    // An unknown field 20 as a group, at the end of the request.
    grouped.extend_from_slice(&[0xA3, 0x01, 0x08, 0x01, 0xA4, 0x01]);
    for (name, bytes) in [
        ("traces", traces().encode_to_vec()),
        ("metrics", metrics().encode_to_vec()),
        ("logs", logs().encode_to_vec()),
        ("traces-group", grouped),
    ] {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
