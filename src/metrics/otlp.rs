//! Derived metric state as an OTLP metrics request, cumulative or delta.

use super::series::{SeriesKey, Value};
use super::state::State;
use super::{DerivedMetrics, Instrument, Kind};
use crate::config::Temporality;
use crate::pricing::decimal_to_f64;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

fn key_values(pairs: &[(String, String)]) -> Vec<KeyValue> {
    pairs
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.clone())),
            }),
            ..Default::default()
        })
        .collect()
}

/// One request holding every instrument's points, or `None` when there are none.
pub fn build_request(
    metrics: &DerivedMetrics,
    state: &mut State,
    now: u64,
) -> Option<ExportMetricsServiceRequest> {
    let temporality = match metrics.temporality {
        Temporality::Cumulative => AggregationTemporality::Cumulative,
        Temporality::Delta => AggregationTemporality::Delta,
    };
    let mut built = Vec::new();
    for instrument in Instrument::ALL {
        let keyed: Vec<_> = match metrics.temporality {
            Temporality::Cumulative => state
                .table_ref(instrument)
                .cumulative()
                .map(|(key, series)| (key.clone(), series.start_unix_nanos, series.value.clone()))
                .collect(),
            Temporality::Delta => state.table(instrument).collect_delta(now),
        };
        let points: Vec<(SeriesKey, u64, Value)> = keyed
            .into_iter()
            .map(|(key, start, value)| (state.expand(&key), start, value))
            .collect();
        if points.is_empty() {
            continue;
        }
        built.push(metric(
            instrument,
            &metrics.currency,
            &metrics.bounds[instrument as usize],
            points,
            now,
            temporality,
        ));
    }
    if built.is_empty() {
        return None;
    }
    Some(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: key_values(&metrics.identity),
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "genai-cost-agent".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                metrics: built,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn metric(
    instrument: Instrument,
    currency: &str,
    bounds: &[rust_decimal::Decimal],
    points: Vec<(SeriesKey, u64, Value)>,
    now: u64,
    temporality: AggregationTemporality,
) -> Metric {
    let data = match instrument.kind() {
        Kind::Histogram => metric::Data::Histogram(Histogram {
            data_points: points
                .into_iter()
                .filter_map(|(key, start, value)| match value {
                    Value::Histogram {
                        buckets,
                        count,
                        sum,
                    } => Some(HistogramDataPoint {
                        attributes: key_values(&key),
                        start_time_unix_nano: start,
                        time_unix_nano: now,
                        count,
                        sum: Some(decimal_to_f64(sum)),
                        bucket_counts: buckets,
                        explicit_bounds: bounds
                            .iter()
                            .map(|bound| decimal_to_f64(*bound))
                            .collect(),
                        ..Default::default()
                    }),
                    Value::Sum(_) => None,
                })
                .collect(),
            aggregation_temporality: temporality as i32,
        }),
        Kind::MonotonicSum | Kind::Sum => metric::Data::Sum(Sum {
            data_points: points
                .into_iter()
                .filter_map(|(key, start, value)| match value {
                    Value::Sum(sum) => Some(NumberDataPoint {
                        attributes: key_values(&key),
                        start_time_unix_nano: start,
                        time_unix_nano: now,
                        value: Some(number_data_point::Value::AsDouble(decimal_to_f64(sum))),
                        ..Default::default()
                    }),
                    Value::Histogram { .. } => None,
                })
                .collect(),
            aggregation_temporality: temporality as i32,
            is_monotonic: instrument.kind() == Kind::MonotonicSum,
        }),
    };
    Metric {
        name: instrument.name().into(),
        description: instrument.description().into(),
        unit: instrument.unit(currency),
        data: Some(data),
        ..Default::default()
    }
}
