//! The views over decoded prost structs: the path of OTLP/JSON requests, of requests the wire
//! path does not model, and of the tests' reference.

use super::view::{AttrValue, Attributes, Location, SpanView, TraceRequestView};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

type DecodedIter<'a> =
    std::iter::Map<std::slice::Iter<'a, KeyValue>, fn(&'a KeyValue) -> (&'a str, AttrValue<'a>)>;

impl<'a> Attributes<'a> for &'a [KeyValue] {
    type Iter = DecodedIter<'a>;

    fn entries(self) -> DecodedIter<'a> {
        self.iter().map(|kv| (kv.key.as_str(), value_of(kv)))
    }
}

impl<'a> Attributes<'a> for &'a Vec<KeyValue> {
    type Iter = DecodedIter<'a>;

    fn entries(self) -> DecodedIter<'a> {
        Attributes::entries(self.as_slice())
    }
}

fn value_of(kv: &KeyValue) -> AttrValue<'_> {
    match kv.value.as_ref().and_then(|any| any.value.as_ref()) {
        Some(Value::StringValue(text)) => AttrValue::Str(text),
        Some(Value::BoolValue(flag)) => AttrValue::Bool(*flag),
        Some(Value::IntValue(number)) => AttrValue::Int(*number),
        Some(Value::DoubleValue(number)) => AttrValue::Double(*number),
        Some(_) => AttrValue::Other,
        None => AttrValue::Empty,
    }
}

impl<'a> SpanView<'a> for &'a Span {
    type Attributes = &'a [KeyValue];

    fn attributes(self) -> &'a [KeyValue] {
        &self.attributes
    }
    fn name(self) -> &'a str {
        &self.name
    }
    fn trace_id(self) -> &'a [u8] {
        &self.trace_id
    }
    fn span_id(self) -> &'a [u8] {
        &self.span_id
    }
    fn parent_span_id(self) -> &'a [u8] {
        &self.parent_span_id
    }
    fn start_time_unix_nano(self) -> u64 {
        self.start_time_unix_nano
    }
    fn end_time_unix_nano(self) -> u64 {
        self.end_time_unix_nano
    }
    fn status_code(self) -> i32 {
        self.status.as_ref().map_or(0, |status| status.code)
    }
}

impl<'a> TraceRequestView<'a> for &'a ExportTraceServiceRequest {
    type Span = &'a Span;
    type Attributes = &'a [KeyValue];

    fn resource_count(self) -> usize {
        self.resource_spans.len()
    }
    fn resource_attributes(self, resource: usize) -> &'a [KeyValue] {
        self.resource_spans[resource]
            .resource
            .as_ref()
            .map_or(&[][..], |resource| &resource.attributes)
    }
    fn scope_count(self, resource: usize) -> usize {
        self.resource_spans[resource].scope_spans.len()
    }
    fn scope(self, resource: usize, scope: usize) -> (&'a str, &'a str) {
        self.resource_spans[resource].scope_spans[scope]
            .scope
            .as_ref()
            .map_or(("", ""), |scope| (&scope.name, &scope.version))
    }
    fn span_count(self, resource: usize, scope: usize) -> usize {
        self.resource_spans[resource].scope_spans[scope].spans.len()
    }
    fn span(self, (r, s, i): Location) -> &'a Span {
        &self.resource_spans[r].scope_spans[s].spans[i]
    }
}
