//! Encoding a trace request while taking it apart: each span is freed as soon as its bytes are
//! written, so a large request is not held twice — decoded and encoded — at the end of encoding.
//! The bytes are those `prost` writes for the whole request (fields in number order).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::encoding::{encode_key, encode_varint, message, string, WireType};
use prost::Message;

/// `ExportTraceServiceRequest.resource_spans`, `ResourceSpans.scope_spans`, `ScopeSpans.spans`.
const RESOURCE_SPANS: u32 = 1;
const SCOPE_SPANS: u32 = 2;
const SPANS: u32 = 2;
/// `resource` / `scope`, and `schema_url`, in both.
const HEADER: u32 = 1;
const SCHEMA_URL: u32 = 3;

/// The bytes of `request`, dropping its spans as they are written.
pub fn encode_traces(mut request: ExportTraceServiceRequest) -> Vec<u8> {
    let mut out = Vec::with_capacity(request.encoded_len());
    for resource_spans in request.resource_spans.drain(..) {
        encode_resource_spans(resource_spans, &mut out);
    }
    out
}

fn encode_resource_spans(mut resource_spans: ResourceSpans, out: &mut Vec<u8>) {
    length_delimited(RESOURCE_SPANS, resource_spans.encoded_len(), out);
    if let Some(resource) = &resource_spans.resource {
        message::encode(HEADER, resource, out);
    }
    for scope_spans in resource_spans.scope_spans.drain(..) {
        encode_scope_spans(scope_spans, out);
    }
    if !resource_spans.schema_url.is_empty() {
        string::encode(SCHEMA_URL, &resource_spans.schema_url, out);
    }
}

fn encode_scope_spans(mut scope_spans: ScopeSpans, out: &mut Vec<u8>) {
    length_delimited(SCOPE_SPANS, scope_spans.encoded_len(), out);
    if let Some(scope) = &scope_spans.scope {
        message::encode(HEADER, scope, out);
    }
    for span in scope_spans.spans.drain(..) {
        message::encode(SPANS, &span, out);
    }
    if !scope_spans.schema_url.is_empty() {
        string::encode(SCHEMA_URL, &scope_spans.schema_url, out);
    }
}

fn length_delimited(tag: u32, length: usize, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(length as u64, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{attr, text, traces_request};
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::Span;

    #[test]
    fn the_bytes_are_those_prost_writes() {
        let span = |name: &str| Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: name.into(),
            attributes: vec![
                text("gen_ai.system", "openai"),
                attr("n", Value::IntValue(3)),
            ],
            ..Default::default()
        };
        let mut request = traces_request(vec![span("a"), span("b")]);
        request.resource_spans[0].resource = Some(Resource {
            attributes: vec![text("service.name", "svc")],
            ..Default::default()
        });
        request.resource_spans[0].schema_url = "https://schema/1".into();
        request.resource_spans[0].scope_spans[0].scope = Some(InstrumentationScope {
            name: "scope".into(),
            ..Default::default()
        });
        request.resource_spans[0].scope_spans[0].schema_url = "https://schema/2".into();
        let mut second = request.resource_spans[0].clone();
        second.scope_spans.push(ScopeSpans::default());
        request.resource_spans.push(second);
        request.resource_spans.push(ResourceSpans::default());
        assert_eq!(encode_traces(request.clone()), request.encode_to_vec());
    }
}
