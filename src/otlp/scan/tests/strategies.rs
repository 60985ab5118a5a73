//! Generated export requests: every AnyValue kind nested in arrays and key-value lists, empty
//! and repeated fields, events, links, status, dropped counts and flags, ids of right and
//! wrong lengths; every metric data kind with exemplars; log records with bodies.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Short strings, some of them multi-byte.
fn text() -> BoxedStrategy<String> {
    "[a-z0-9 é€😀]{0,5}".boxed()
}

/// An id that is usually `len` bytes long, sometimes of another length.
fn id(len: usize) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        12 => vec(any::<u8>(), len),
        1 => vec(any::<u8>(), 0..=20),
    ]
    .boxed()
}

/// An id that may also be empty.
fn optional_id(len: usize) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        6 => Just(Vec::new()),
        6 => vec(any::<u8>(), len),
        1 => vec(any::<u8>(), 0..=20),
    ]
    .boxed()
}

/// Mostly 0, the default prost does not write.
fn small_u32() -> BoxedStrategy<u32> {
    prop_oneof![3 => Just(0u32), 1 => any::<u32>()].boxed()
}

fn value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::StringValue),
        any::<bool>().prop_map(Value::BoolValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<f64>().prop_map(Value::DoubleValue),
        vec(any::<u8>(), 0..6).prop_map(Value::BytesValue),
        any::<i32>().prop_map(Value::StringValueStrindex),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let any_value = option::of(inner).prop_map(|value| AnyValue { value });
        prop_oneof![
            vec(any_value.clone(), 0..4)
                .prop_map(|values| Value::ArrayValue(ArrayValue { values })),
            vec((text(), option::of(any_value)), 0..4).prop_map(|pairs| {
                Value::KvlistValue(KeyValueList {
                    values: pairs
                        .into_iter()
                        .map(|(key, value)| KeyValue {
                            key,
                            value,
                            key_strindex: 0,
                        })
                        .collect(),
                })
            }),
        ]
    })
    .boxed()
}

pub fn any_value() -> BoxedStrategy<AnyValue> {
    option::of(value())
        .prop_map(|value| AnyValue { value })
        .boxed()
}

fn attributes() -> BoxedStrategy<Vec<KeyValue>> {
    let key_value =
        (text(), option::of(any_value()), small_u32()).prop_map(|(key, value, strindex)| {
            KeyValue {
                key,
                value,
                key_strindex: strindex as i32,
            }
        });
    vec(key_value, 0..4).boxed()
}

fn resource() -> BoxedStrategy<Option<Resource>> {
    let entity = (text(), text(), vec(text(), 0..3), vec(text(), 0..3)).prop_map(
        |(schema_url, r#type, id_keys, description_keys)| EntityRef {
            schema_url,
            r#type,
            id_keys,
            description_keys,
        },
    );
    option::of((attributes(), small_u32(), vec(entity, 0..2)).prop_map(
        |(attributes, dropped_attributes_count, entity_refs)| Resource {
            attributes,
            dropped_attributes_count,
            entity_refs,
        },
    ))
    .boxed()
}

fn scope() -> BoxedStrategy<Option<InstrumentationScope>> {
    option::of((text(), text(), attributes(), small_u32()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    ))
    .boxed()
}

fn enum_value(known: i32) -> BoxedStrategy<i32> {
    prop_oneof![4 => 0..known, 1 => any::<i32>()].boxed()
}

fn span() -> BoxedStrategy<Span> {
    let event = (any::<u64>(), text(), attributes(), small_u32()).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    );
    let link = (
        id(16),
        id(8),
        text(),
        attributes(),
        small_u32(),
        small_u32(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count,
                flags,
            },
        );
    let status = (text(), enum_value(3)).prop_map(|(message, code)| Status { message, code });
    let ids = (id(16), id(8), optional_id(8), text(), small_u32());
    let what = (text(), enum_value(6), any::<u64>(), any::<u64>());
    let children = (
        attributes(),
        small_u32(),
        vec(event, 0..3),
        small_u32(),
        vec(link, 0..3),
        small_u32(),
        option::of(status),
    );
    (ids, what, children)
        .prop_map(
            |(
                (trace_id, span_id, parent_span_id, trace_state, flags),
                (name, kind, start_time_unix_nano, end_time_unix_nano),
                (
                    attributes,
                    dropped_attributes_count,
                    events,
                    dropped_events_count,
                    links,
                    dropped_links_count,
                    status,
                ),
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano,
                end_time_unix_nano,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status,
            },
        )
        .boxed()
}

pub fn traces_request() -> BoxedStrategy<ExportTraceServiceRequest> {
    let scope_spans =
        (scope(), vec(span(), 0..4), text()).prop_map(|(scope, spans, schema_url)| ScopeSpans {
            scope,
            spans,
            schema_url,
        });
    let resource_spans = (resource(), vec(scope_spans, 0..3), text()).prop_map(
        |(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    );
    vec(resource_spans, 0..3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
        .boxed()
}

fn exemplars() -> BoxedStrategy<Vec<Exemplar>> {
    let value = prop_oneof![
        any::<f64>().prop_map(exemplar::Value::AsDouble),
        any::<i64>().prop_map(exemplar::Value::AsInt),
    ];
    let exemplar = (
        attributes(),
        any::<u64>(),
        option::of(value),
        optional_id(8),
        optional_id(16),
    )
        .prop_map(
            |(filtered_attributes, time_unix_nano, value, span_id, trace_id)| Exemplar {
                filtered_attributes,
                time_unix_nano,
                value,
                span_id,
                trace_id,
            },
        );
    vec(exemplar, 0..3).boxed()
}

fn times() -> BoxedStrategy<(u64, u64)> {
    (any::<u64>(), any::<u64>()).boxed()
}

fn number_points() -> BoxedStrategy<Vec<NumberDataPoint>> {
    let value = prop_oneof![
        any::<f64>().prop_map(number_data_point::Value::AsDouble),
        any::<i64>().prop_map(number_data_point::Value::AsInt),
    ];
    let point = (
        attributes(),
        times(),
        option::of(value),
        exemplars(),
        small_u32(),
    )
        .prop_map(
            |(attributes, (start_time_unix_nano, time_unix_nano), value, exemplars, flags)| {
                NumberDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    value,
                    exemplars,
                    flags,
                }
            },
        );
    vec(point, 0..3).boxed()
}

fn histogram_points() -> BoxedStrategy<Vec<HistogramDataPoint>> {
    let point = (
        (
            attributes(),
            times(),
            any::<u64>(),
            option::of(any::<f64>()),
        ),
        (
            vec(any::<u64>(), 0..4),
            vec(any::<f64>(), 0..4),
            exemplars(),
        ),
        (
            small_u32(),
            option::of(any::<f64>()),
            option::of(any::<f64>()),
        ),
    )
        .prop_map(
            |(
                (attributes, (start_time_unix_nano, time_unix_nano), count, sum),
                (bucket_counts, explicit_bounds, exemplars),
                (flags, min, max),
            )| HistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                bucket_counts,
                explicit_bounds,
                exemplars,
                flags,
                min,
                max,
            },
        );
    vec(point, 0..3).boxed()
}

fn exponential_points() -> BoxedStrategy<Vec<ExponentialHistogramDataPoint>> {
    let buckets = option::of((any::<i32>(), vec(any::<u64>(), 0..4)).prop_map(
        |(offset, bucket_counts)| Buckets {
            offset,
            bucket_counts,
        },
    ));
    let point = (
        (
            attributes(),
            times(),
            any::<u64>(),
            option::of(any::<f64>()),
        ),
        (any::<i32>(), any::<u64>(), buckets.clone(), buckets),
        (
            small_u32(),
            exemplars(),
            option::of(any::<f64>()),
            option::of(any::<f64>()),
        ),
        any::<f64>(),
    )
        .prop_map(
            |(
                (attributes, (start_time_unix_nano, time_unix_nano), count, sum),
                (scale, zero_count, positive, negative),
                (flags, exemplars, min, max),
                zero_threshold,
            )| ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                scale,
                zero_count,
                positive,
                negative,
                flags,
                exemplars,
                min,
                max,
                zero_threshold,
            },
        );
    vec(point, 0..3).boxed()
}

fn summary_points() -> BoxedStrategy<Vec<SummaryDataPoint>> {
    let quantile = (any::<f64>(), any::<f64>())
        .prop_map(|(quantile, value)| ValueAtQuantile { quantile, value });
    let point = (
        attributes(),
        times(),
        any::<u64>(),
        any::<f64>(),
        vec(quantile, 0..3),
        small_u32(),
    )
        .prop_map(
            |(
                attributes,
                (start_time_unix_nano, time_unix_nano),
                count,
                sum,
                quantile_values,
                flags,
            )| SummaryDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                quantile_values,
                flags,
            },
        );
    vec(point, 0..3).boxed()
}

fn metric() -> BoxedStrategy<Metric> {
    let temporality = enum_value(3);
    let data = prop_oneof![
        number_points().prop_map(|data_points| Data::Gauge(Gauge { data_points })),
        (number_points(), temporality.clone(), any::<bool>()).prop_map(
            |(data_points, aggregation_temporality, is_monotonic)| Data::Sum(Sum {
                data_points,
                aggregation_temporality,
                is_monotonic,
            })
        ),
        (histogram_points(), temporality.clone()).prop_map(
            |(data_points, aggregation_temporality)| Data::Histogram(Histogram {
                data_points,
                aggregation_temporality,
            })
        ),
        (exponential_points(), temporality).prop_map(|(data_points, aggregation_temporality)| {
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points,
                aggregation_temporality,
            })
        }),
        summary_points().prop_map(|data_points| Data::Summary(Summary { data_points })),
    ];
    (text(), text(), text(), option::of(data), attributes())
        .prop_map(|(name, description, unit, data, metadata)| Metric {
            name,
            description,
            unit,
            data,
            metadata,
        })
        .boxed()
}

pub fn metrics_request() -> BoxedStrategy<ExportMetricsServiceRequest> {
    let scope_metrics =
        (scope(), vec(metric(), 0..4), text()).prop_map(|(scope, metrics, schema_url)| {
            ScopeMetrics {
                scope,
                metrics,
                schema_url,
            }
        });
    let resource_metrics = (resource(), vec(scope_metrics, 0..3), text()).prop_map(
        |(resource, scope_metrics, schema_url)| ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        },
    );
    vec(resource_metrics, 0..3)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
        .boxed()
}

fn log_record() -> BoxedStrategy<LogRecord> {
    (
        (times(), enum_value(25), text(), option::of(any_value())),
        (attributes(), small_u32(), small_u32()),
        (optional_id(16), optional_id(8), text()),
    )
        .prop_map(
            |(
                ((time_unix_nano, observed_time_unix_nano), severity_number, severity_text, body),
                (attributes, dropped_attributes_count, flags),
                (trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano,
                observed_time_unix_nano,
                severity_number,
                severity_text,
                body,
                attributes,
                dropped_attributes_count,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
        .boxed()
}

pub fn logs_request() -> BoxedStrategy<ExportLogsServiceRequest> {
    let scope_logs =
        (scope(), vec(log_record(), 0..4), text()).prop_map(|(scope, log_records, schema_url)| {
            ScopeLogs {
                scope,
                log_records,
                schema_url,
            }
        });
    let resource_logs = (resource(), vec(scope_logs, 0..3), text()).prop_map(
        |(resource, scope_logs, schema_url)| ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        },
    );
    vec(resource_logs, 0..3)
        .prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
        .boxed()
}
