//! Derived metric state as an encoded OTLP metrics request, cumulative or delta.
//!
//! The request is written point by point straight from the series: a point's attributes are
//! written from the interned dimensions without being copied into `KeyValue`s, so a flush of
//! many series holds the encoded request and one point's fields, not a decoded copy of every
//! point besides the bytes. The bytes are what prost writes for the same request.

use super::series::Value;
use super::state::{PointKey, State};
use super::{DerivedMetrics, Instrument, Kind};
use crate::config::Temporality;
use crate::otlp::added::{put_attribute, ValueRef};
use crate::otlp::wire::{encoded_varint_len, put_key, put_varint, WireType};
use crate::otlp::{EncodedRequest, Signal};
use crate::pricing::decimal_to_f64;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1::{
    number_data_point, AggregationTemporality, HistogramDataPoint, NumberDataPoint,
};
use prost::Message;

/// Field numbers: `ExportMetricsServiceRequest.resource_metrics`, `ResourceMetrics.resource` /
/// `.scope_metrics`, `Resource.attributes`, `ScopeMetrics.scope` / `.metrics`.
const RESOURCE_METRICS: u32 = 1;
const RESOURCE: u32 = 1;
const SCOPE_METRICS: u32 = 2;
const RESOURCE_ATTRIBUTES: u32 = 1;
const SCOPE: u32 = 1;
const METRICS: u32 = 2;
/// `Metric.name` / `.description` / `.unit` / `.sum` / `.histogram`.
const METRIC_NAME: u32 = 1;
const METRIC_DESCRIPTION: u32 = 2;
const METRIC_UNIT: u32 = 3;
const METRIC_SUM: u32 = 7;
const METRIC_HISTOGRAM: u32 = 9;
/// `Sum` and `Histogram`: `.data_points`, `.aggregation_temporality`; `Sum.is_monotonic`.
const DATA_POINTS: u32 = 1;
const AGGREGATION_TEMPORALITY: u32 = 2;
const IS_MONOTONIC: u32 = 3;
/// `NumberDataPoint.attributes`; `HistogramDataPoint.explicit_bounds` / `.attributes`.
const NUMBER_POINT_ATTRIBUTES: u32 = 7;
const HISTOGRAM_POINT_BOUNDS: u32 = 7;
const HISTOGRAM_POINT_ATTRIBUTES: u32 = 9;

/// The longest a length prefix of a request under 4 GiB takes.
const MAX_LENGTH_PREFIX: usize = 5;

/// One request holding every instrument's points, or `None` when there are none.
pub fn encode_request(
    metrics: &DerivedMetrics,
    state: &mut State,
    now: u64,
) -> Option<EncodedRequest> {
    let temporality = match metrics.temporality {
        Temporality::Cumulative => AggregationTemporality::Cumulative,
        Temporality::Delta => AggregationTemporality::Delta,
    };
    let header = Header::new(&metrics.identity);
    // Room for the header before the metrics, so the request is never copied to prepend it.
    let mut out = vec![0; header.max_len()];
    let mut writer = PointWriter::default();
    for instrument in Instrument::ALL {
        writer.start(instrument, &metrics.bounds[instrument as usize]);
        match metrics.temporality {
            Temporality::Cumulative => {
                for (key, series) in state.table_ref(instrument).cumulative() {
                    writer.point(state, key, series.start_unix_nanos, &series.value, now);
                }
            }
            Temporality::Delta => {
                let points = state.table(instrument).collect_delta(now);
                for (key, start, value) in &points {
                    writer.point(state, key, *start, value, now);
                }
            }
        }
        writer.finish_metric(&mut out, instrument, &metrics.currency, temporality);
    }
    if writer.points == 0 {
        return None;
    }
    let start = header.write_before(&mut out);
    Some(EncodedRequest {
        signal: Signal::Metrics,
        items: writer.points,
        bytes: bytes::Bytes::from(out).slice(start..),
    })
}

/// What precedes the metrics: the request's one `ResourceMetrics` with the agent's resource,
/// and its one `ScopeMetrics` with the agent's scope.
struct Header {
    /// `ResourceMetrics.resource`, key and length included.
    resource: Vec<u8>,
    /// `ScopeMetrics.scope`, key and length included.
    scope: Vec<u8>,
}

impl Header {
    fn new(identity: &[(String, String)]) -> Self {
        let mut attributes = Vec::new();
        for (key, value) in identity {
            put_attribute(
                &mut attributes,
                RESOURCE_ATTRIBUTES,
                key,
                ValueRef::Text(value),
            );
        }
        let mut resource = Vec::new();
        put_len_field(&mut resource, RESOURCE, &attributes);
        let scope = InstrumentationScope {
            name: "genai-cost-agent".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        };
        let mut scope_field = Vec::new();
        put_len_field(&mut scope_field, SCOPE, &scope.encode_to_vec());
        Self {
            resource,
            scope: scope_field,
        }
    }

    /// The most the header takes (two keys and two length prefixes around the fields).
    fn max_len(&self) -> usize {
        2 * (1 + MAX_LENGTH_PREFIX) + self.resource.len() + self.scope.len()
    }

    /// Writes the header into the room left at the start of `out`, right before the metrics
    /// that follow it there; returns where the request starts.
    fn write_before(&self, out: &mut [u8]) -> usize {
        let room = self.max_len();
        let metrics_len = out.len() - room;
        let scope_metrics_len = self.scope.len() + metrics_len;
        let resource_metrics_len = self.resource.len()
            + 1
            + encoded_varint_len(scope_metrics_len as u64)
            + scope_metrics_len;
        let mut header = Vec::with_capacity(room);
        put_key(&mut header, RESOURCE_METRICS, WireType::Len);
        put_varint(&mut header, resource_metrics_len as u64);
        header.extend_from_slice(&self.resource);
        put_key(&mut header, SCOPE_METRICS, WireType::Len);
        put_varint(&mut header, scope_metrics_len as u64);
        header.extend_from_slice(&self.scope);
        let start = room - header.len();
        out[start..room].copy_from_slice(&header);
        start
    }
}

/// Writes one instrument's points at a time, then the `Metric` around them.
#[derive(Default)]
struct PointWriter {
    kind: Option<Kind>,
    /// The current histogram's bounds as a point's `explicit_bounds` field (every point
    /// repeats them).
    bounds: Vec<u8>,
    /// The current instrument's `data_points` entries.
    data_points: Vec<u8>,
    /// One point's attributes, before its length is known.
    attributes: Vec<u8>,
    /// Points written so far, of every instrument.
    points: u64,
}

impl PointWriter {
    fn start(&mut self, instrument: Instrument, bounds: &[rust_decimal::Decimal]) {
        self.kind = Some(instrument.kind());
        self.data_points.clear();
        self.bounds.clear();
        if !bounds.is_empty() {
            put_key(&mut self.bounds, HISTOGRAM_POINT_BOUNDS, WireType::Len);
            put_varint(&mut self.bounds, 8 * bounds.len() as u64);
            for bound in bounds {
                self.bounds
                    .extend_from_slice(&decimal_to_f64(*bound).to_le_bytes());
            }
        }
    }

    /// Writes one point, unless its value is not of the instrument's kind.
    fn point(&mut self, state: &State, key: &PointKey, start: u64, value: &Value, now: u64) {
        let histogram = self.kind == Some(Kind::Histogram);
        let (mut fields, attributes_field) = match value {
            Value::Histogram {
                buckets,
                count,
                sum,
            } if histogram => (
                HistogramDataPoint {
                    start_time_unix_nano: start,
                    time_unix_nano: now,
                    count: *count,
                    sum: Some(decimal_to_f64(*sum)),
                    bucket_counts: buckets.clone(),
                    ..Default::default()
                }
                .encode_to_vec(),
                HISTOGRAM_POINT_ATTRIBUTES,
            ),
            Value::Sum(sum) if !histogram => (
                NumberDataPoint {
                    start_time_unix_nano: start,
                    time_unix_nano: now,
                    value: Some(number_data_point::Value::AsDouble(decimal_to_f64(*sum))),
                    ..Default::default()
                }
                .encode_to_vec(),
                NUMBER_POINT_ATTRIBUTES,
            ),
            _ => return,
        };
        if histogram {
            // After `bucket_counts` (6) and before `attributes` (9): prost's field order.
            fields.extend_from_slice(&self.bounds);
        }
        self.attributes.clear();
        state.for_each_attribute(key, |name, text| {
            put_attribute(
                &mut self.attributes,
                attributes_field,
                name,
                ValueRef::Text(text),
            );
        });
        put_key(&mut self.data_points, DATA_POINTS, WireType::Len);
        put_varint(
            &mut self.data_points,
            (fields.len() + self.attributes.len()) as u64,
        );
        self.data_points.extend_from_slice(&fields);
        self.data_points.extend_from_slice(&self.attributes);
        self.points += 1;
    }

    /// Appends the current instrument's `Metric` to `out` as an entry of
    /// `ScopeMetrics.metrics`, unless it has no point.
    fn finish_metric(
        &mut self,
        out: &mut Vec<u8>,
        instrument: Instrument,
        currency: &str,
        temporality: AggregationTemporality,
    ) {
        if self.data_points.is_empty() {
            return;
        }
        let kind = instrument.kind();
        let mut tail = Vec::new();
        put_key(&mut tail, AGGREGATION_TEMPORALITY, WireType::Varint);
        put_varint(&mut tail, temporality as u64);
        if kind == Kind::MonotonicSum {
            put_key(&mut tail, IS_MONOTONIC, WireType::Varint);
            put_varint(&mut tail, 1);
        }
        let data_len = self.data_points.len() + tail.len();
        let mut head = Vec::new();
        put_text_field(&mut head, METRIC_NAME, instrument.name());
        put_text_field(&mut head, METRIC_DESCRIPTION, instrument.description());
        put_text_field(&mut head, METRIC_UNIT, &instrument.unit(currency));
        let data_field = match kind {
            Kind::Histogram => METRIC_HISTOGRAM,
            Kind::MonotonicSum | Kind::Sum => METRIC_SUM,
        };
        put_key(&mut head, data_field, WireType::Len);
        put_varint(&mut head, data_len as u64);
        put_key(out, METRICS, WireType::Len);
        put_varint(out, (head.len() + data_len) as u64);
        out.extend_from_slice(&head);
        out.extend_from_slice(&self.data_points);
        out.extend_from_slice(&tail);
    }
}

/// A length-delimited field: key, length, body.
fn put_len_field(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    put_key(out, field, WireType::Len);
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// A string field, left out when empty (as prost leaves out a default).
fn put_text_field(out: &mut Vec<u8>, field: u32, text: &str) {
    if !text.is_empty() {
        put_len_field(out, field, text.as_bytes());
    }
}
