//! The messages of the three OTLP export requests as static tables, transcribed from the prost
//! code opentelemetry-proto 0.33 generates (`src/proto/tonic/*.rs`): per message, its fields by
//! number with their protobuf type and label. The scan walks these tables; a field number read
//! from the input is only ever looked up ([`Schema::field`]), never used as an index unchecked.
//!
//! Only what decides acceptance and what the scan reads is kept: oneof members are marked as
//! such (prost takes the last, merging a message member given twice in a row); `repeated`
//! numeric fields accept packed and unpacked encodings alike.

/// Every message reachable from the three export requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Msg {
    // common.v1, resource.v1
    AnyValue,
    ArrayValue,
    KeyValueList,
    KeyValue,
    InstrumentationScope,
    EntityRef,
    Resource,
    // trace.v1
    ExportTraceServiceRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    Event,
    Link,
    Status,
    // metrics.v1
    ExportMetricsServiceRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    Buckets,
    SummaryDataPoint,
    ValueAtQuantile,
    Exemplar,
    // logs.v1
    ExportLogsServiceRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
}

/// A numeric protobuf type. prost reads every varint type from any varint (int32 and enums
/// truncated to 32 bits, bool as `!= 0`); fixed-width types need their exact wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Bool,
    /// An enumeration, read as int32.
    Enum,
    Fixed32,
    Sfixed32,
    Float,
    Fixed64,
    Sfixed64,
    Double,
}

/// The wire shape of a scalar: a varint, or 4 or 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Varint,
    Fixed32,
    Fixed64,
}

impl Scalar {
    pub const fn width(self) -> Width {
        match self {
            Scalar::Int32
            | Scalar::Int64
            | Scalar::Uint32
            | Scalar::Uint64
            | Scalar::Sint32
            | Scalar::Sint64
            | Scalar::Bool
            | Scalar::Enum => Width::Varint,
            Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => Width::Fixed32,
            Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => Width::Fixed64,
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Scalar(Scalar),
    /// UTF-8 checked.
    String,
    /// Never checked.
    Bytes,
    Message(&'static Schema),
}

/// How often a field may appear in the decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// proto3 implicit presence: the last occurrence wins (a message is merged).
    Singular,
    /// proto3 `optional`: as singular, with presence.
    Optional,
    /// Each occurrence appends; numeric ones may also come packed.
    Repeated,
    /// A member of the named oneof: the last member given wins.
    Oneof(&'static str),
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub number: u32,
    /// `Message.field`, for error messages.
    pub name: &'static str,
    pub label: Label,
    pub kind: Kind,
}

/// One message: its fields sorted by number.
#[derive(Debug)]
pub struct Schema {
    pub name: &'static str,
    pub msg: Msg,
    pub fields: &'static [Field],
}

impl Schema {
    /// The field numbered `number`, if the message has one. Tables whose numbers start at 1
    /// without gaps are answered by position; the rest by a search of a few entries.
    #[inline]
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        let fields = self.fields;
        let position = (number as usize).wrapping_sub(1);
        match fields.get(position) {
            Some(field) if field.number == number => Some(field),
            _ => fields.iter().find(|field| field.number == number),
        }
    }
}

use Kind::Message;
use Label::{Oneof, Optional, Repeated, Singular};

const fn scalar(scalar: Scalar) -> Kind {
    Kind::Scalar(scalar)
}
const STRING: Kind = Kind::String;
const BYTES: Kind = Kind::Bytes;
const BOOL: Kind = scalar(Scalar::Bool);
const INT32: Kind = scalar(Scalar::Int32);
const INT64: Kind = scalar(Scalar::Int64);
const UINT32: Kind = scalar(Scalar::Uint32);
const UINT64: Kind = scalar(Scalar::Uint64);
const SINT32: Kind = scalar(Scalar::Sint32);
const ENUM: Kind = scalar(Scalar::Enum);
const FIXED32: Kind = scalar(Scalar::Fixed32);
const FIXED64: Kind = scalar(Scalar::Fixed64);
const SFIXED64: Kind = scalar(Scalar::Sfixed64);
const DOUBLE: Kind = scalar(Scalar::Double);

/// `schema!(STATIC, Msg, "Name" { number "field": Label Kind, ... })`
macro_rules! schema {
    ($static:ident, $msg:ident, $name:literal {
        $($number:literal $field:literal : $label:expr, $kind:expr;)*
    }) => {
        pub static $static: Schema = Schema {
            name: $name,
            msg: Msg::$msg,
            fields: &[$(Field {
                number: $number,
                name: concat!($name, ".", $field),
                label: $label,
                kind: $kind,
            }),*],
        };
    };
}

// opentelemetry.proto.common.v1
schema!(ANY_VALUE, AnyValue, "AnyValue" {
    1 "string_value": Oneof("value"), STRING;
    2 "bool_value": Oneof("value"), BOOL;
    3 "int_value": Oneof("value"), INT64;
    4 "double_value": Oneof("value"), DOUBLE;
    5 "array_value": Oneof("value"), Message(&ARRAY_VALUE);
    6 "kvlist_value": Oneof("value"), Message(&KEY_VALUE_LIST);
    7 "bytes_value": Oneof("value"), BYTES;
    8 "string_value_strindex": Oneof("value"), INT32;
});
schema!(ARRAY_VALUE, ArrayValue, "ArrayValue" {
    1 "values": Repeated, Message(&ANY_VALUE);
});
schema!(KEY_VALUE_LIST, KeyValueList, "KeyValueList" {
    1 "values": Repeated, Message(&KEY_VALUE);
});
schema!(KEY_VALUE, KeyValue, "KeyValue" {
    1 "key": Singular, STRING;
    2 "value": Optional, Message(&ANY_VALUE);
    3 "key_strindex": Singular, INT32;
});
schema!(INSTRUMENTATION_SCOPE, InstrumentationScope, "InstrumentationScope" {
    1 "name": Singular, STRING;
    2 "version": Singular, STRING;
    3 "attributes": Repeated, Message(&KEY_VALUE);
    4 "dropped_attributes_count": Singular, UINT32;
});
schema!(ENTITY_REF, EntityRef, "EntityRef" {
    1 "schema_url": Singular, STRING;
    2 "type": Singular, STRING;
    3 "id_keys": Repeated, STRING;
    4 "description_keys": Repeated, STRING;
});

// opentelemetry.proto.resource.v1
schema!(RESOURCE, Resource, "Resource" {
    1 "attributes": Repeated, Message(&KEY_VALUE);
    2 "dropped_attributes_count": Singular, UINT32;
    3 "entity_refs": Repeated, Message(&ENTITY_REF);
});

// opentelemetry.proto.collector.trace.v1, opentelemetry.proto.trace.v1
schema!(EXPORT_TRACE_SERVICE_REQUEST, ExportTraceServiceRequest, "ExportTraceServiceRequest" {
    1 "resource_spans": Repeated, Message(&RESOURCE_SPANS);
});
schema!(RESOURCE_SPANS, ResourceSpans, "ResourceSpans" {
    1 "resource": Optional, Message(&RESOURCE);
    2 "scope_spans": Repeated, Message(&SCOPE_SPANS);
    3 "schema_url": Singular, STRING;
});
schema!(SCOPE_SPANS, ScopeSpans, "ScopeSpans" {
    1 "scope": Optional, Message(&INSTRUMENTATION_SCOPE);
    2 "spans": Repeated, Message(&SPAN);
    3 "schema_url": Singular, STRING;
});
schema!(SPAN, Span, "Span" {
    1 "trace_id": Singular, BYTES;
    2 "span_id": Singular, BYTES;
    3 "trace_state": Singular, STRING;
    4 "parent_span_id": Singular, BYTES;
    5 "name": Singular, STRING;
    6 "kind": Singular, ENUM;
    7 "start_time_unix_nano": Singular, FIXED64;
    8 "end_time_unix_nano": Singular, FIXED64;
    9 "attributes": Repeated, Message(&KEY_VALUE);
    10 "dropped_attributes_count": Singular, UINT32;
    11 "events": Repeated, Message(&EVENT);
    12 "dropped_events_count": Singular, UINT32;
    13 "links": Repeated, Message(&LINK);
    14 "dropped_links_count": Singular, UINT32;
    15 "status": Optional, Message(&STATUS);
    16 "flags": Singular, FIXED32;
});
schema!(EVENT, Event, "Span.Event" {
    1 "time_unix_nano": Singular, FIXED64;
    2 "name": Singular, STRING;
    3 "attributes": Repeated, Message(&KEY_VALUE);
    4 "dropped_attributes_count": Singular, UINT32;
});
schema!(LINK, Link, "Span.Link" {
    1 "trace_id": Singular, BYTES;
    2 "span_id": Singular, BYTES;
    3 "trace_state": Singular, STRING;
    4 "attributes": Repeated, Message(&KEY_VALUE);
    5 "dropped_attributes_count": Singular, UINT32;
    6 "flags": Singular, FIXED32;
});
schema!(STATUS, Status, "Status" {
    2 "message": Singular, STRING;
    3 "code": Singular, ENUM;
});

// opentelemetry.proto.collector.metrics.v1, opentelemetry.proto.metrics.v1
schema!(EXPORT_METRICS_SERVICE_REQUEST, ExportMetricsServiceRequest, "ExportMetricsServiceRequest" {
    1 "resource_metrics": Repeated, Message(&RESOURCE_METRICS);
});
schema!(RESOURCE_METRICS, ResourceMetrics, "ResourceMetrics" {
    1 "resource": Optional, Message(&RESOURCE);
    2 "scope_metrics": Repeated, Message(&SCOPE_METRICS);
    3 "schema_url": Singular, STRING;
});
schema!(SCOPE_METRICS, ScopeMetrics, "ScopeMetrics" {
    1 "scope": Optional, Message(&INSTRUMENTATION_SCOPE);
    2 "metrics": Repeated, Message(&METRIC);
    3 "schema_url": Singular, STRING;
});
schema!(METRIC, Metric, "Metric" {
    1 "name": Singular, STRING;
    2 "description": Singular, STRING;
    3 "unit": Singular, STRING;
    5 "gauge": Oneof("data"), Message(&GAUGE);
    7 "sum": Oneof("data"), Message(&SUM);
    9 "histogram": Oneof("data"), Message(&HISTOGRAM);
    10 "exponential_histogram": Oneof("data"), Message(&EXPONENTIAL_HISTOGRAM);
    11 "summary": Oneof("data"), Message(&SUMMARY);
    12 "metadata": Repeated, Message(&KEY_VALUE);
});
schema!(GAUGE, Gauge, "Gauge" {
    1 "data_points": Repeated, Message(&NUMBER_DATA_POINT);
});
schema!(SUM, Sum, "Sum" {
    1 "data_points": Repeated, Message(&NUMBER_DATA_POINT);
    2 "aggregation_temporality": Singular, ENUM;
    3 "is_monotonic": Singular, BOOL;
});
schema!(HISTOGRAM, Histogram, "Histogram" {
    1 "data_points": Repeated, Message(&HISTOGRAM_DATA_POINT);
    2 "aggregation_temporality": Singular, ENUM;
});
schema!(EXPONENTIAL_HISTOGRAM, ExponentialHistogram, "ExponentialHistogram" {
    1 "data_points": Repeated, Message(&EXPONENTIAL_HISTOGRAM_DATA_POINT);
    2 "aggregation_temporality": Singular, ENUM;
});
schema!(SUMMARY, Summary, "Summary" {
    1 "data_points": Repeated, Message(&SUMMARY_DATA_POINT);
});
schema!(NUMBER_DATA_POINT, NumberDataPoint, "NumberDataPoint" {
    2 "start_time_unix_nano": Singular, FIXED64;
    3 "time_unix_nano": Singular, FIXED64;
    4 "as_double": Oneof("value"), DOUBLE;
    5 "exemplars": Repeated, Message(&EXEMPLAR);
    6 "as_int": Oneof("value"), SFIXED64;
    7 "attributes": Repeated, Message(&KEY_VALUE);
    8 "flags": Singular, UINT32;
});
schema!(HISTOGRAM_DATA_POINT, HistogramDataPoint, "HistogramDataPoint" {
    2 "start_time_unix_nano": Singular, FIXED64;
    3 "time_unix_nano": Singular, FIXED64;
    4 "count": Singular, FIXED64;
    5 "sum": Optional, DOUBLE;
    6 "bucket_counts": Repeated, FIXED64;
    7 "explicit_bounds": Repeated, DOUBLE;
    8 "exemplars": Repeated, Message(&EXEMPLAR);
    9 "attributes": Repeated, Message(&KEY_VALUE);
    10 "flags": Singular, UINT32;
    11 "min": Optional, DOUBLE;
    12 "max": Optional, DOUBLE;
});
schema!(EXPONENTIAL_HISTOGRAM_DATA_POINT, ExponentialHistogramDataPoint, "ExponentialHistogramDataPoint" {
    1 "attributes": Repeated, Message(&KEY_VALUE);
    2 "start_time_unix_nano": Singular, FIXED64;
    3 "time_unix_nano": Singular, FIXED64;
    4 "count": Singular, FIXED64;
    5 "sum": Optional, DOUBLE;
    6 "scale": Singular, SINT32;
    7 "zero_count": Singular, FIXED64;
    8 "positive": Optional, Message(&BUCKETS);
    9 "negative": Optional, Message(&BUCKETS);
    10 "flags": Singular, UINT32;
    11 "exemplars": Repeated, Message(&EXEMPLAR);
    12 "min": Optional, DOUBLE;
    13 "max": Optional, DOUBLE;
    14 "zero_threshold": Singular, DOUBLE;
});
schema!(BUCKETS, Buckets, "ExponentialHistogramDataPoint.Buckets" {
    1 "offset": Singular, SINT32;
    2 "bucket_counts": Repeated, UINT64;
});
schema!(SUMMARY_DATA_POINT, SummaryDataPoint, "SummaryDataPoint" {
    2 "start_time_unix_nano": Singular, FIXED64;
    3 "time_unix_nano": Singular, FIXED64;
    4 "count": Singular, FIXED64;
    5 "sum": Singular, DOUBLE;
    6 "quantile_values": Repeated, Message(&VALUE_AT_QUANTILE);
    7 "attributes": Repeated, Message(&KEY_VALUE);
    8 "flags": Singular, UINT32;
});
schema!(VALUE_AT_QUANTILE, ValueAtQuantile, "SummaryDataPoint.ValueAtQuantile" {
    1 "quantile": Singular, DOUBLE;
    2 "value": Singular, DOUBLE;
});
schema!(EXEMPLAR, Exemplar, "Exemplar" {
    2 "time_unix_nano": Singular, FIXED64;
    3 "as_double": Oneof("value"), DOUBLE;
    4 "span_id": Singular, BYTES;
    5 "trace_id": Singular, BYTES;
    6 "as_int": Oneof("value"), SFIXED64;
    7 "filtered_attributes": Repeated, Message(&KEY_VALUE);
});

// opentelemetry.proto.collector.logs.v1, opentelemetry.proto.logs.v1
schema!(EXPORT_LOGS_SERVICE_REQUEST, ExportLogsServiceRequest, "ExportLogsServiceRequest" {
    1 "resource_logs": Repeated, Message(&RESOURCE_LOGS);
});
schema!(RESOURCE_LOGS, ResourceLogs, "ResourceLogs" {
    1 "resource": Optional, Message(&RESOURCE);
    2 "scope_logs": Repeated, Message(&SCOPE_LOGS);
    3 "schema_url": Singular, STRING;
});
schema!(SCOPE_LOGS, ScopeLogs, "ScopeLogs" {
    1 "scope": Optional, Message(&INSTRUMENTATION_SCOPE);
    2 "log_records": Repeated, Message(&LOG_RECORD);
    3 "schema_url": Singular, STRING;
});
schema!(LOG_RECORD, LogRecord, "LogRecord" {
    1 "time_unix_nano": Singular, FIXED64;
    2 "severity_number": Singular, ENUM;
    3 "severity_text": Singular, STRING;
    5 "body": Optional, Message(&ANY_VALUE);
    6 "attributes": Repeated, Message(&KEY_VALUE);
    7 "dropped_attributes_count": Singular, UINT32;
    8 "flags": Singular, FIXED32;
    9 "trace_id": Singular, BYTES;
    10 "span_id": Singular, BYTES;
    11 "observed_time_unix_nano": Singular, FIXED64;
    12 "event_name": Singular, STRING;
});

/// Every table, for tests that check them all.
pub static ALL: &[&Schema] = &[
    &ANY_VALUE,
    &ARRAY_VALUE,
    &KEY_VALUE_LIST,
    &KEY_VALUE,
    &INSTRUMENTATION_SCOPE,
    &ENTITY_REF,
    &RESOURCE,
    &EXPORT_TRACE_SERVICE_REQUEST,
    &RESOURCE_SPANS,
    &SCOPE_SPANS,
    &SPAN,
    &EVENT,
    &LINK,
    &STATUS,
    &EXPORT_METRICS_SERVICE_REQUEST,
    &RESOURCE_METRICS,
    &SCOPE_METRICS,
    &METRIC,
    &GAUGE,
    &SUM,
    &HISTOGRAM,
    &EXPONENTIAL_HISTOGRAM,
    &SUMMARY,
    &NUMBER_DATA_POINT,
    &HISTOGRAM_DATA_POINT,
    &EXPONENTIAL_HISTOGRAM_DATA_POINT,
    &BUCKETS,
    &SUMMARY_DATA_POINT,
    &VALUE_AT_QUANTILE,
    &EXEMPLAR,
    &EXPORT_LOGS_SERVICE_REQUEST,
    &RESOURCE_LOGS,
    &SCOPE_LOGS,
    &LOG_RECORD,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_by_number_without_duplicates() {
        for schema in ALL {
            let numbers: Vec<u32> = schema.fields.iter().map(|f| f.number).collect();
            assert!(
                numbers.windows(2).all(|pair| pair[0] < pair[1]),
                "{}: {numbers:?}",
                schema.name
            );
            assert!(numbers.iter().all(|&n| n >= 1), "{}", schema.name);
        }
    }

    #[test]
    fn every_field_is_found_by_its_number_and_no_other() {
        for schema in ALL {
            for number in 0..40 {
                let expected = schema.fields.iter().find(|f| f.number == number);
                let found = schema.field(number);
                assert_eq!(
                    found.map(|f| f.name),
                    expected.map(|f| f.name),
                    "{} {number}",
                    schema.name
                );
            }
            assert!(schema.field(u32::MAX).is_none());
        }
    }

    #[test]
    fn every_message_reached_is_listed() {
        for schema in ALL {
            for field in schema.fields {
                if let Kind::Message(child) = field.kind {
                    assert!(
                        ALL.iter().any(|s| std::ptr::eq(*s, child)),
                        "{}",
                        field.name
                    );
                }
            }
        }
    }
}
