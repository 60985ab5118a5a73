//! The scan against its oracle, prost plus validate.rs: hand-built edge cases of the wire
//! format here, generated and mutated requests in `differential`, and a sweep of every field
//! of every message in `probe`.

mod differential;
mod probe;
mod strategies;

use super::*;
use crate::otlp::index::{
    in_gen_ai_namespace, Children, ResourceSpansEntry, ScopeSpansEntry, SpanEntry,
    GEN_AI_KEY_PREFIXES,
};
use crate::otlp::validate::{check_logs, check_metrics, check_traces};
use crate::otlp::wire::{put_key, put_varint};
use crate::otlp::Payload;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    Traces,
    Metrics,
    Logs,
}

/// What both sides said about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    Accepted,
    Invalid(InvalidRequest),
    Malformed,
}

/// Scans `bytes` and checks the outcome against prost's decode and validate.rs: the same
/// accept or refuse, the same `InvalidRequest`, and for accepted traces an index that agrees
/// with the decoded request; for metrics and logs the same item count.
pub(super) fn agree(signal: Signal, bytes: &[u8]) -> Result<Verdict, String> {
    match signal {
        Signal::Traces => {
            let scanned = scan_traces(bytes);
            let decoded = ExportTraceServiceRequest::decode(bytes);
            settle(decoded, check_traces, scanned, |request, index| {
                index_agrees(bytes, request, index)
            })
        }
        Signal::Metrics => {
            let scanned = scan_metrics(bytes);
            let decoded = ExportMetricsServiceRequest::decode(bytes);
            settle(decoded, check_metrics, scanned, |request, count| {
                let expected = Payload::Metrics(request.clone()).item_count() as u64;
                (*count == expected)
                    .then_some(())
                    .ok_or(format!("{count} data points, prost {expected}"))
            })
        }
        Signal::Logs => {
            let scanned = scan_logs(bytes);
            let decoded = ExportLogsServiceRequest::decode(bytes);
            settle(decoded, check_logs, scanned, |request, count| {
                let expected = Payload::Logs(request.clone()).item_count() as u64;
                (*count == expected)
                    .then_some(())
                    .ok_or(format!("{count} log records, prost {expected}"))
            })
        }
    }
}

fn settle<R, T: std::fmt::Debug>(
    decoded: Result<R, prost::DecodeError>,
    check: fn(&R) -> Result<(), InvalidRequest>,
    scanned: Result<T, ScanError>,
    same: impl FnOnce(&R, &T) -> Result<(), String>,
) -> Result<Verdict, String> {
    let request = match decoded {
        Err(error) => {
            return match scanned {
                Err(ScanError::Malformed { .. }) => Ok(Verdict::Malformed),
                other => Err(format!("prost refuses ({error}), the scan: {other:?}")),
            }
        }
        Ok(request) => request,
    };
    match check(&request) {
        Err(invalid) => match scanned {
            Err(ScanError::Invalid(got)) if got == invalid => Ok(Verdict::Invalid(invalid)),
            other => Err(format!("validate refuses ({invalid}), the scan: {other:?}")),
        },
        Ok(()) => match scanned {
            Ok(value) => same(&request, &value).map(|()| Verdict::Accepted),
            Err(error) => Err(format!("prost and validate accept, the scan: {error}")),
        },
    }
}

/// The frame's header is a length-delimited key of `field` whose length is the body's.
fn header_agrees(bytes: &[u8], frame: Frame, field: u32) -> Result<(), String> {
    let header = bytes
        .get(frame.tag as usize..frame.body.start as usize)
        .ok_or(format!("header of {frame:?}"))?;
    let mut at = wire::Reader::new(header);
    let key = at.key().map_err(|e| format!("header key: {e:?}"))?;
    let len = at.varint().map_err(|e| format!("header length: {e:?}"))?;
    if key != (field, WireType::Len) || len != frame.body.len() as u64 || !at.is_done() {
        return Err(format!("header {header:?} of {frame:?}"));
    }
    Ok(())
}

fn encoded<M: Message>(message: &M) -> Vec<u8> {
    message.encode_to_vec()
}

/// The index says what the decoded request says. Messages are compared by their encoding, so
/// NaN doubles compare equal to themselves.
fn index_agrees(
    bytes: &[u8],
    request: &ExportTraceServiceRequest,
    index: &TracesIndex,
) -> Result<(), String> {
    let fail = |what: String| Err(format!("index: {what}"));
    if index.resource_spans.len() != request.resource_spans.len() {
        return fail(format!("{} resource spans", index.resource_spans.len()));
    }
    let (mut next_scope, mut next_span) = (0u32, 0u32);
    for (r, (entry, resource)) in index
        .resource_spans
        .iter()
        .zip(&request.resource_spans)
        .enumerate()
    {
        header_agrees(bytes, entry.frame, 1)?;
        let body = entry.frame.body.of(bytes);
        match ResourceSpans::decode(body) {
            Ok(decoded) if encoded(&decoded) == encoded(resource) => {}
            other => return fail(format!("resource_spans[{r}] body decodes to {other:?}")),
        }
        if !index.unusual {
            let expected = resource.resource.clone().unwrap_or_default();
            match Resource::decode(entry.resource.of(bytes)) {
                Ok(decoded) if encoded(&decoded) == encoded(&expected) => {}
                other => return fail(format!("resource_spans[{r}].resource: {other:?}")),
            }
        }
        if entry.scope_spans.start != next_scope
            || entry.scope_spans.range().len() != resource.scope_spans.len()
        {
            return fail(format!(
                "resource_spans[{r}] children {:?}",
                entry.scope_spans
            ));
        }
        next_scope = entry.scope_spans.end;
        for (s, (entry, scope)) in index.scope_spans[entry.scope_spans.range()]
            .iter()
            .zip(&resource.scope_spans)
            .enumerate()
        {
            header_agrees(bytes, entry.frame, 2)?;
            match ScopeSpans::decode(entry.frame.body.of(bytes)) {
                Ok(decoded) if encoded(&decoded) == encoded(scope) => {}
                other => return fail(format!("scope_spans[{s}] body decodes to {other:?}")),
            }
            let expected = scope.scope.clone().unwrap_or_default();
            if entry.scope_name.of(bytes) != expected.name.as_bytes()
                || entry.scope_version.of(bytes) != expected.version.as_bytes()
            {
                return fail(format!("scope_spans[{s}] scope {entry:?}"));
            }
            if entry.spans.start != next_span || entry.spans.range().len() != scope.spans.len() {
                return fail(format!("scope_spans[{s}] children {:?}", entry.spans));
            }
            next_span = entry.spans.end;
            for (i, (entry, span)) in index.spans[entry.spans.range()]
                .iter()
                .zip(&scope.spans)
                .enumerate()
            {
                span_agrees(bytes, entry, span).map_err(|e| format!("spans[{i}]: {e}"))?;
            }
        }
    }
    if next_scope as usize != index.scope_spans.len() || next_span as usize != index.spans.len() {
        return fail("entries outside any parent".into());
    }
    Ok(())
}

fn span_agrees(bytes: &[u8], entry: &SpanEntry, span: &Span) -> Result<(), String> {
    header_agrees(bytes, entry.frame, 2)?;
    match Span::decode(entry.frame.body.of(bytes)) {
        Ok(decoded) if encoded(&decoded) == encoded(span) => {}
        other => return Err(format!("body decodes to {other:?}")),
    }
    let code = span.status.as_ref().map_or(0, |status| status.code);
    let same = entry.trace_id.of(bytes) == span.trace_id.as_slice()
        && entry.span_id.of(bytes) == span.span_id.as_slice()
        && entry.parent_span_id.of(bytes) == span.parent_span_id.as_slice()
        && entry.name.of(bytes) == span.name.as_bytes()
        && entry.start_time_unix_nano == span.start_time_unix_nano
        && entry.end_time_unix_nano == span.end_time_unix_nano
        && entry.status_code == code
        && entry.gen_ai_keys
            == span
                .attributes
                .iter()
                .any(|attribute| in_gen_ai_namespace(attribute.key.as_bytes()));
    let within = |range: ByteRange| {
        range.is_empty()
            || (entry.frame.body.start <= range.start && range.end <= entry.frame.body.end)
    };
    let inside = [
        entry.trace_id,
        entry.span_id,
        entry.parent_span_id,
        entry.name,
    ]
    .into_iter()
    .all(within);
    if !same || !inside {
        return Err(format!("{entry:?} for {span:?}"));
    }
    Ok(())
}

// Hand-built requests.

fn key(number: u32, wire_type: WireType) -> Vec<u8> {
    let mut out = Vec::new();
    put_key(&mut out, number, wire_type);
    out
}

/// A length-delimited field.
fn len(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = key(number, WireType::Len);
    put_varint(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

fn varint(number: u32, value: u64) -> Vec<u8> {
    let mut out = key(number, WireType::Varint);
    put_varint(&mut out, value);
    out
}

fn fixed64(number: u32, value: u64) -> Vec<u8> {
    let mut out = key(number, WireType::Fixed64);
    out.extend_from_slice(&value.to_le_bytes());
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A span with valid ids, then `rest`.
fn span(rest: &[u8]) -> Vec<u8> {
    cat(&[&len(1, &[0x11; 16]), &len(2, &[0x22; 8]), rest])
}

/// A request holding one span of body `span`.
fn request_of_span(span: &[u8]) -> Vec<u8> {
    len(1, &len(2, &len(2, span)))
}

fn traces(bytes: &[u8]) -> Verdict {
    agree(Signal::Traces, bytes).unwrap()
}

fn malformed(bytes: &[u8]) -> (&'static str, &'static str) {
    assert_eq!(traces(bytes), Verdict::Malformed);
    match scan_traces(bytes) {
        Err(ScanError::Malformed { what, within, .. }) => (what, within),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_attribute_fast_path_names_the_fields_the_tables_name() {
    let name = |schema: &Schema, number| schema.field(number).map(|field| field.name);
    assert_eq!(name(&schema::KEY_VALUE, 1), Some(KEY_VALUE_KEY));
    assert_eq!(name(&schema::KEY_VALUE, 2), Some(KEY_VALUE_VALUE));
    assert_eq!(name(&schema::ANY_VALUE, 1), Some(ANY_VALUE_STRING));
    let kind = |schema: &Schema, number| schema.field(number).map(|field| field.kind);
    assert!(matches!(kind(&schema::KEY_VALUE, 1), Some(Kind::String)));
    assert!(
        matches!(kind(&schema::KEY_VALUE, 2), Some(Kind::Message(s)) if s.msg == Msg::AnyValue)
    );
    assert!(matches!(kind(&schema::ANY_VALUE, 1), Some(Kind::String)));
    assert!(matches!(kind(&schema::ANY_VALUE, 7), Some(Kind::Bytes)));
    for (number, width) in [
        (2, Width::Varint),
        (3, Width::Varint),
        (8, Width::Varint),
        (4, Width::Fixed64),
    ] {
        assert!(
            matches!(kind(&schema::ANY_VALUE, number), Some(Kind::Scalar(s)) if s.width() == width),
            "AnyValue field {number}"
        );
    }
}

#[test]
fn an_empty_request_is_accepted_and_indexes_nothing() {
    assert_eq!(scan_traces(&[]), Ok(TracesIndex::default()));
    assert_eq!(scan_metrics(&[]), Ok(0));
    assert_eq!(scan_logs(&[]), Ok(0));
}

#[test]
fn the_index_locates_every_frame_and_the_span_fields() {
    let span_body = span(&cat(&[
        &len(4, &[0x33; 8]),
        &len(5, b"chat"),
        &fixed64(7, 10),
        &fixed64(8, 20),
        &len(15, &varint(3, 2)),
    ]));
    let scope = cat(&[
        &len(1, &cat(&[&len(1, b"lib"), &len(2, b"1.2")])),
        &len(2, &span_body),
    ]);
    let resource = cat(&[&len(1, &varint(2, 7)), &len(2, &scope)]);
    let bytes = len(1, &resource);
    assert_eq!(traces(&bytes), Verdict::Accepted);
    let index = scan_traces(&bytes).unwrap();
    let at = |needle: &[u8]| {
        let start = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap() as u32;
        ByteRange {
            start,
            end: start + needle.len() as u32,
        }
    };
    let (span_at, scope_at, resource_at) = (at(&span_body), at(&scope), at(&resource));
    assert_eq!(
        index,
        TracesIndex {
            resource_spans: vec![ResourceSpansEntry {
                frame: Frame {
                    tag: 0,
                    body: resource_at
                },
                resource: at(&varint(2, 7)),
                scope_spans: Children { start: 0, end: 1 },
            }],
            scope_spans: vec![ScopeSpansEntry {
                frame: Frame {
                    tag: scope_at.start - 2,
                    body: scope_at
                },
                scope_name: at(b"lib"),
                scope_version: at(b"1.2"),
                spans: Children { start: 0, end: 1 },
            }],
            spans: vec![SpanEntry {
                frame: Frame {
                    tag: span_at.start - 2,
                    body: span_at
                },
                trace_id: at(&[0x11; 16]),
                span_id: at(&[0x22; 8]),
                parent_span_id: at(&[0x33; 8]),
                name: at(b"chat"),
                start_time_unix_nano: 10,
                end_time_unix_nano: 20,
                status_code: 2,
                gen_ai_keys: false,
            }],
            unusual: false,
        }
    );
}

#[test]
fn a_span_is_marked_by_the_keys_of_its_own_attributes_as_prost_keeps_them() {
    let string = |text: &[u8]| len(1, text);
    let attribute = |key: &[u8]| len(9, &cat(&[&len(1, key), &len(2, &string(b"v"))]));
    let marked = |rest: &[u8]| {
        let bytes = request_of_span(&span(rest));
        assert_eq!(traces(&bytes), Verdict::Accepted);
        scan_traces(&bytes).unwrap().spans[0].gen_ai_keys
    };
    for key in GEN_AI_KEY_PREFIXES {
        assert!(marked(&attribute(format!("{key}x").as_bytes())), "{key}");
    }
    assert!(marked(&cat(&[
        &attribute(b"http.method"),
        &attribute(b"llm.model_name")
    ])));
    assert!(!marked(&attribute(b"http.method")));
    assert!(!marked(&attribute(b"gen_ai")));
    assert!(!marked(&attribute(b"xgen_ai.system")));
    // An event's attribute, or a key inside a value, is not the span's.
    let event = len(
        11,
        &len(3, &cat(&[&len(1, b"gen_ai.system"), &len(2, b"")])),
    );
    assert!(!marked(&event));
    let nested = cat(&[&len(1, b"gen_ai.system"), &len(2, &string(b"v"))]);
    let list = len(6, &len(1, &nested));
    assert!(!marked(&len(
        9,
        &cat(&[&len(1, b"http.body"), &len(2, &list)])
    )));
    // A key given twice: the last one counts, as prost keeps it.
    let twice = |first: &[u8], last: &[u8]| len(9, &cat(&[&len(1, first), &len(1, last)]));
    assert!(!marked(&twice(b"gen_ai.system", b"http.method")));
    assert!(marked(&twice(b"http.method", b"gen_ai.system")));
}

#[test]
fn the_tenth_varint_byte_may_be_one_but_not_two() {
    let mut ten = key(6, WireType::Varint);
    ten.extend_from_slice(&[0xFF; 9]);
    ten.push(0x01);
    assert_eq!(traces(&request_of_span(&span(&ten))), Verdict::Accepted);
    *ten.last_mut().unwrap() = 0x02;
    assert_eq!(
        malformed(&request_of_span(&span(&ten))),
        (wire::INVALID_VARINT, "Span.kind")
    );
}

#[test]
fn an_eleven_byte_varint_is_refused() {
    let mut eleven = key(10, WireType::Varint);
    eleven.extend_from_slice(&[0x80; 10]);
    eleven.push(0x00);
    assert_eq!(
        malformed(&request_of_span(&span(&eleven))),
        (wire::INVALID_VARINT, "Span.dropped_attributes_count")
    );
}

#[test]
fn int32_and_enum_values_are_truncated_not_refused() {
    // Status.code = 2^32 + 1 reads as 1; a negative kind as ten bytes.
    let bytes = request_of_span(&span(&cat(&[
        &varint(6, u64::MAX),
        &len(15, &varint(3, (1 << 32) + 1)),
    ])));
    assert_eq!(traces(&bytes), Verdict::Accepted);
    assert_eq!(scan_traces(&bytes).unwrap().spans[0].status_code, 1);
}

#[test]
fn keys_above_u32_or_with_field_zero_are_refused() {
    let two_to_32 = [0x80, 0x80, 0x80, 0x80, 0x10, 0x00];
    assert_eq!(
        malformed(&two_to_32),
        (wire::INVALID_KEY, "ExportTraceServiceRequest")
    );
    // The largest field number, as an unknown fixed32: accepted.
    let largest = [0xFD, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3, 4];
    assert_eq!(traces(&largest), Verdict::Accepted);
    for tag_zero in [&[0x00, 0x00][..], &[0x02, 0x00], &[0x05, 0, 0, 0, 0]] {
        assert_eq!(malformed(tag_zero).0, wire::INVALID_TAG);
    }
    // Field zero inside a span.
    assert_eq!(
        malformed(&request_of_span(&span(&[0x00, 0x01]))),
        (wire::INVALID_TAG, "Span")
    );
}

#[test]
fn wire_types_three_to_seven_are_refused_on_known_fields() {
    // Field 1 of the request (resource_spans) with each wire type but 2.
    for (wire_type, what) in [
        (0, wire::UNEXPECTED_WIRE_TYPE),
        (1, wire::UNEXPECTED_WIRE_TYPE),
        (3, wire::UNEXPECTED_WIRE_TYPE),
        (4, wire::UNEXPECTED_WIRE_TYPE),
        (5, wire::UNEXPECTED_WIRE_TYPE),
        (6, wire::INVALID_WIRE_TYPE),
        (7, wire::INVALID_WIRE_TYPE),
    ] {
        let bytes = [0x08 | wire_type, 0, 0, 0, 0, 0, 0, 0, 0, 0x0C];
        assert_eq!(malformed(&bytes).0, what, "wire type {wire_type}");
    }
}

#[test]
fn unknown_fields_take_groups_but_not_stray_end_groups() {
    // Field 20 as a group holding a varint and a nested group: accepted, marked unusual.
    let group = cat(&[
        &key(20, WireType::StartGroup),
        &varint(1, 5),
        &key(2, WireType::StartGroup),
        &key(2, WireType::EndGroup),
        &key(20, WireType::EndGroup),
    ]);
    let bytes = request_of_span(&span(&group));
    assert_eq!(traces(&bytes), Verdict::Accepted);
    assert!(scan_traces(&bytes).unwrap().unusual);
    assert_eq!(
        malformed(&request_of_span(&span(&key(20, WireType::EndGroup)))),
        (wire::UNEXPECTED_END_GROUP, "Span")
    );
    let mismatched = cat(&[&key(20, WireType::StartGroup), &key(19, WireType::EndGroup)]);
    assert_eq!(
        malformed(&request_of_span(&span(&mismatched))).0,
        wire::UNEXPECTED_END_GROUP
    );
    let unterminated = key(20, WireType::StartGroup);
    assert_eq!(
        malformed(&request_of_span(&span(&unterminated))).0,
        wire::INVALID_VARINT
    );
    // Unknown wire types 6 and 7 on an unknown field.
    assert_eq!(malformed(&[0x4E, 0x00]).0, wire::INVALID_WIRE_TYPE);
    assert_eq!(malformed(&[0x4F, 0x00]).0, wire::INVALID_WIRE_TYPE);
}

#[test]
fn a_child_overrunning_its_parent_is_refused() {
    // The span name claims 5 bytes; the span holds 4 of them, the request one more.
    let mut inner = span(&[]);
    inner.extend_from_slice(&[0x2A, 0x05, b'a', b'b', b'c', b'd']);
    let mut bytes = request_of_span(&inner);
    bytes.extend_from_slice(&[0x10, 0x01]);
    assert_eq!(malformed(&bytes), (wire::LENGTH_EXCEEDED, "Span.name"));
    // A span overrunning its scope spans by one byte: the byte after it is a field of the
    // request, so only the length is wrong.
    let scope = len(2, &span(&[]));
    let mut resource = len(2, &scope);
    resource[1] -= 1;
    let mut bytes = len(1, &resource);
    bytes.extend_from_slice(&[0x18]);
    assert_eq!(traces(&bytes), Verdict::Malformed);
}

#[test]
fn non_minimal_lengths_and_keys_are_accepted() {
    let body = span(&len(5, b"n"));
    // The span's length in five bytes, then in ten (the tenth 0x00), and its key in two.
    for width in [5, 10] {
        let mut field = vec![0x12];
        let mut length = body.len() as u64;
        for i in 0..width {
            let last = i == width - 1;
            field.push((length as u8 & 0x7F) | if last { 0 } else { 0x80 });
            length >>= 7;
        }
        field.extend_from_slice(&body);
        let bytes = len(1, &len(2, &field));
        assert_eq!(traces(&bytes), Verdict::Accepted, "width {width}");
        let index = scan_traces(&bytes).unwrap();
        assert_eq!(index.spans[0].frame.body.len(), body.len());
        assert_eq!(
            index.spans[0].frame.body.start - index.spans[0].frame.tag,
            1 + width as u32
        );
    }
    let mut eleven = vec![0x12];
    eleven.extend_from_slice(&[0x80; 10]);
    eleven.push(0x00);
    assert_eq!(malformed(&len(1, &eleven)).0, wire::INVALID_VARINT);
    // Span.name's key 0x2A written in two bytes.
    let long_key = cat(&[&span(&[]), &[0xAA, 0x00, 0x01, b'x']]);
    assert_eq!(traces(&request_of_span(&long_key)), Verdict::Accepted);
}

#[test]
fn every_kind_of_string_is_utf8_checked() {
    let bad = [0xC3, 0x28];
    let attribute = |value: &[u8]| len(9, &cat(&[&len(1, b"k"), &len(2, value)]));
    let nested_array = |value: &[u8]| len(2, &len(5, &len(1, &len(1, value))));
    let nested_kvlist = |value: &[u8]| {
        len(
            2,
            &len(6, &len(1, &cat(&[&len(1, b"k"), &len(2, &len(1, value))]))),
        )
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (span(&len(5, &bad)), "Span.name"),
        (span(&len(3, &bad)), "Span.trace_state"),
        (span(&len(9, &len(1, &bad))), "KeyValue.key"),
        (span(&attribute(&len(1, &bad))), "AnyValue.string_value"),
        (
            span(&len(9, &cat(&[&len(1, b"k"), &nested_array(&bad)]))),
            "AnyValue.string_value",
        ),
        (
            span(&len(9, &cat(&[&len(1, b"k"), &nested_kvlist(&bad)]))),
            "AnyValue.string_value",
        ),
        (span(&len(11, &len(2, &bad))), "Span.Event.name"),
        (span(&len(13, &len(3, &bad))), "Span.Link.trace_state"),
        (span(&len(15, &len(2, &bad))), "Status.message"),
    ];
    for (body, within) in cases {
        assert_eq!(
            malformed(&request_of_span(&body)),
            (wire::INVALID_STRING, within)
        );
    }
    let resource_level: Vec<(Vec<u8>, &str)> = vec![
        (len(3, &bad), "ResourceSpans.schema_url"),
        (len(2, &len(3, &bad)), "ScopeSpans.schema_url"),
        (len(2, &len(1, &len(1, &bad))), "InstrumentationScope.name"),
        (
            len(2, &len(1, &len(2, &bad))),
            "InstrumentationScope.version",
        ),
        (len(1, &len(3, &len(2, &bad))), "EntityRef.type"),
        (len(1, &len(3, &len(3, &bad))), "EntityRef.id_keys"),
    ];
    for (body, within) in resource_level {
        assert_eq!(malformed(&len(1, &body)), (wire::INVALID_STRING, within));
    }
    // Bytes are not checked: a bytes attribute value and ids of any content.
    let bytes = request_of_span(&span(&attribute(&len(7, &bad))));
    assert_eq!(traces(&bytes), Verdict::Accepted);
}

/// A log record whose body is `arrays` nested array values around `innermost` (the fields of
/// the deepest AnyValue); the request is depth 0, the body AnyValue depth 4.
fn nested_log_body(arrays: usize, innermost: &[u8]) -> Vec<u8> {
    let mut value = innermost.to_vec();
    for _ in 0..arrays {
        value = len(5, &len(1, &value));
    }
    len(1, &len(2, &len(2, &len(5, &value))))
}

#[test]
fn nesting_fails_exactly_where_prost_fails() {
    let logs = |bytes: &[u8]| agree(Signal::Logs, bytes).unwrap();
    let unknown = varint(15, 1);
    let empty_array = len(5, &[]);
    // The deepest AnyValue is at depth 4 + 2 * arrays; an empty ArrayValue in it one deeper.
    let cases: Vec<(usize, Vec<u8>, usize, Verdict)> = vec![
        (47, vec![], 98, Verdict::Accepted),
        (47, unknown.clone(), 98, Verdict::Accepted),
        (47, empty_array.clone(), 99, Verdict::Accepted),
        (47, len(5, &unknown), 99, Verdict::Accepted),
        (48, vec![], 100, Verdict::Accepted),
        (48, varint(2, 1), 100, Verdict::Accepted),
        (48, unknown.clone(), 100, Verdict::Malformed),
        (48, empty_array.clone(), 101, Verdict::Malformed),
        (49, vec![], 102, Verdict::Malformed),
    ];
    for (arrays, innermost, depth, expected) in cases {
        let bytes = nested_log_body(arrays, &innermost);
        assert_eq!(logs(&bytes), expected, "depth {depth}");
    }
    // A group spends the budget too: an empty one at depth 99 fits, one holding a field does
    // not; at depth 98 it does.
    let group = |inner: &[u8]| {
        cat(&[
            &key(15, WireType::StartGroup),
            inner,
            &key(15, WireType::EndGroup),
        ])
    };
    let deepest = |depth_99: bool, inner: &[u8]| {
        if depth_99 {
            nested_log_body(47, &len(5, &group(inner)))
        } else {
            nested_log_body(47, &group(inner))
        }
    };
    assert_eq!(logs(&deepest(true, &[])), Verdict::Accepted);
    assert_eq!(logs(&deepest(true, &varint(1, 1))), Verdict::Malformed);
    assert_eq!(logs(&deepest(false, &varint(1, 1))), Verdict::Accepted);
    match scan_logs(&deepest(true, &varint(1, 1))) {
        Err(ScanError::Malformed { what, .. }) => assert_eq!(what, wire::RECURSION_LIMIT),
        other => panic!("{other:?}"),
    }
}

#[test]
fn packed_fields_end_on_an_element_boundary() {
    // HistogramDataPoint.bucket_counts (fixed64) and Buckets.bucket_counts (uint64).
    let metric = |data: &[u8]| len(1, &len(2, &len(2, data)));
    let histogram = |point: &[u8]| metric(&len(9, &len(1, point)));
    let exponential = |buckets: &[u8]| metric(&len(10, &len(1, &len(8, buckets))));
    let metrics = |bytes: &[u8]| agree(Signal::Metrics, bytes).unwrap();
    assert_eq!(metrics(&histogram(&len(6, &[0; 16]))), Verdict::Accepted);
    assert_eq!(metrics(&histogram(&len(6, &[0; 12]))), Verdict::Malformed);
    assert_eq!(metrics(&histogram(&len(7, &[0; 7]))), Verdict::Malformed);
    // Unpacked elements are accepted too.
    let unpacked = cat(&[&fixed64(6, 1), &fixed64(6, 2)]);
    assert_eq!(metrics(&histogram(&unpacked)), Verdict::Accepted);
    assert_eq!(
        metrics(&exponential(&len(2, &[0x01, 0x80, 0x01]))),
        Verdict::Accepted
    );
    assert_eq!(
        metrics(&exponential(&len(2, &[0x01, 0x80]))),
        Verdict::Malformed
    );
    assert_eq!(metrics(&exponential(&varint(2, 3))), Verdict::Accepted);
    // A singular scalar given packed is a wrong wire type.
    assert_eq!(metrics(&exponential(&len(1, &[0x02]))), Verdict::Malformed);
    assert_eq!(scan_metrics(&histogram(&unpacked)), Ok(1));
}

#[test]
fn merged_singular_messages_mark_the_index_unusual() {
    let status = cat(&[&len(15, &varint(3, 2)), &len(15, &len(2, b"m"))]);
    let bytes = request_of_span(&span(&status));
    assert_eq!(traces(&bytes), Verdict::Accepted);
    let index = scan_traces(&bytes).unwrap();
    // prost merges the two: the code of the first stays.
    assert_eq!((index.unusual, index.spans[0].status_code), (true, 2));

    let scope = cat(&[
        &len(1, &len(1, b"a")),
        &len(1, &len(2, b"v")),
        &len(2, &span(&[])),
    ]);
    let bytes = len(1, &len(2, &scope));
    assert_eq!(traces(&bytes), Verdict::Accepted);
    let index = scan_traces(&bytes).unwrap();
    let entry = index.scope_spans[0];
    assert!(index.unusual);
    assert_eq!(
        (entry.scope_name.of(&bytes), entry.scope_version.of(&bytes)),
        (&b"a"[..], &b"v"[..])
    );

    let bytes = len(1, &cat(&[&len(1, &[]), &len(1, &varint(2, 1))]));
    assert!(scan_traces(&bytes).unwrap().unusual);
    // A prost-encoded request is not unusual.
    let request = crate::test_support::traces_request(vec![Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        status: Some(Default::default()),
        ..Default::default()
    }]);
    let mut request = request;
    request.resource_spans[0].resource = Some(Resource::default());
    request.resource_spans[0].scope_spans[0].scope = Some(InstrumentationScope::default());
    assert!(!scan_traces(&request.encode_to_vec()).unwrap().unusual);
}

#[test]
fn ids_are_checked_on_their_last_occurrence() {
    let short_then_full = request_of_span(&cat(&[&len(1, &[1; 3]), &span(&[])]));
    assert_eq!(traces(&short_then_full), Verdict::Accepted);
    let full_then_short = request_of_span(&span(&len(1, &[1; 3])));
    assert_eq!(
        traces(&full_then_short),
        Verdict::Invalid(InvalidRequest {
            path: "resource_spans[0].scope_spans[0].spans[0].trace_id".into(),
            length: 3,
            expected: "must be 16",
        })
    );
    // A bad link is reported after the span's own ids, whatever the order in the bytes.
    let link = len(13, &cat(&[&len(1, &[1; 16]), &len(2, &[2; 7])]));
    let bytes = request_of_span(&cat(&[&link, &span(&len(4, &[3; 2]))]));
    match traces(&bytes) {
        Verdict::Invalid(invalid) => assert_eq!(
            invalid.path,
            "resource_spans[0].scope_spans[0].spans[0].parent_span_id"
        ),
        other => panic!("{other:?}"),
    }
    let two = len(
        1,
        &len(2, &cat(&[&len(2, &span(&[])), &len(2, &span(&link))])),
    );
    assert_eq!(
        traces(&two),
        Verdict::Invalid(InvalidRequest {
            path: "resource_spans[0].scope_spans[0].spans[1].links[0].span_id".into(),
            length: 7,
            expected: "must be 8",
        })
    );
}

#[test]
fn exemplars_are_checked_on_the_metric_data_prost_keeps() {
    let metrics = |bytes: &[u8]| agree(Signal::Metrics, bytes).unwrap();
    let bad_exemplar = len(5, &len(4, &[1; 3]));
    let point = |exemplar: &[u8]| len(1, exemplar);
    let request = |metric: &[u8]| len(1, &len(2, &len(2, metric)));
    // A gauge with a bad exemplar replaced by a sum: accepted, one point.
    let replaced = request(&cat(&[
        &len(5, &point(&bad_exemplar)),
        &len(7, &point(&[])),
    ]));
    assert_eq!(metrics(&replaced), Verdict::Accepted);
    assert_eq!(scan_metrics(&replaced), Ok(1));
    // Two gauges merge: the bad exemplar is in the third point.
    let two_points = cat(&[&point(&[]), &point(&[])]);
    let merged = request(&cat(&[
        &len(5, &two_points),
        &len(5, &point(&bad_exemplar)),
    ]));
    assert_eq!(
        metrics(&merged),
        Verdict::Invalid(InvalidRequest {
            path: "resource_metrics[0].scope_metrics[0].metrics[0].data_points[2].exemplars[0].span_id"
                .into(),
            length: 3,
            expected: "must be 8 or empty",
        })
    );
    // Gauge, sum, gauge again: only the last gauge's point counts.
    let back = request(&cat(&[
        &len(5, &two_points),
        &len(7, &two_points),
        &len(5, &point(&[])),
    ]));
    assert_eq!(scan_metrics(&back), Ok(1));
    assert_eq!(metrics(&back), Verdict::Accepted);
}

#[test]
fn log_record_ids_are_empty_or_full_length() {
    let logs = |bytes: &[u8]| agree(Signal::Logs, bytes).unwrap();
    let record = |trace: usize, span: usize| {
        len(
            2,
            &cat(&[&len(9, &vec![1; trace]), &len(10, &vec![2; span])]),
        )
    };
    let request = |records: &[u8]| len(1, &len(2, records));
    assert_eq!(
        logs(&request(&cat(&[&record(0, 0), &record(16, 8)]))),
        Verdict::Accepted
    );
    assert_eq!(
        scan_logs(&request(&cat(&[&record(0, 0), &record(16, 8)]))),
        Ok(2)
    );
    assert_eq!(
        logs(&request(&cat(&[&record(16, 8), &record(16, 5)]))),
        Verdict::Invalid(InvalidRequest {
            path: "resource_logs[0].scope_logs[0].log_records[1].span_id".into(),
            length: 5,
            expected: "must be 8 or empty",
        })
    );
}

#[test]
fn malformed_wins_over_invalid_ids() {
    let bytes = cat(&[&request_of_span(&len(1, &[1; 3])), &[0x80]]);
    assert_eq!(malformed(&bytes).0, wire::INVALID_VARINT);
}

/// Run with `cargo test --release --lib scan_time_per_span -- --ignored --nocapture`.
#[test]
#[ignore = "a timing, meaningful in release only"]
fn scan_time_per_span() {
    use crate::test_support::{int, text};
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::trace::v1::Status;
    let spans: Vec<Span> = (0..1000u64)
        .map(|i| Span {
            trace_id: vec![1; 16],
            span_id: i.to_le_bytes().to_vec(),
            parent_span_id: vec![3; 8],
            name: format!("chat gpt-4o {i}"),
            kind: 3,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i,
            end_time_unix_nano: 1_700_000_000_500_000_000 + i,
            attributes: vec![
                text("gen_ai.system", "openai"),
                text("gen_ai.request.model", "gpt-4o"),
                text("gen_ai.response.model", "gpt-4o-2024-08-06"),
                int("gen_ai.usage.input_tokens", 1200),
                int("gen_ai.usage.output_tokens", 300),
                text("http.method", "POST"),
                text("server.address", "api.openai.com"),
                int("server.port", 443),
                crate::test_support::attr("sampled", Value::BoolValue(true)),
                crate::test_support::attr("temperature", Value::DoubleValue(0.7)),
            ],
            status: Some(Status {
                code: 1,
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let bytes = crate::test_support::traces_request(spans).encode_to_vec();
    // The fastest of many short batches: the machine is shared.
    let timed = |f: &dyn Fn() -> bool| {
        (0..200)
            .map(|_| {
                let start = std::time::Instant::now();
                for _ in 0..5 {
                    assert!(std::hint::black_box(f()));
                }
                start.elapsed().as_nanos() as f64 / 5000.0
            })
            .fold(f64::MAX, f64::min)
    };
    let scan = timed(&|| scan_traces(std::hint::black_box(&bytes)).is_ok());
    if std::env::var_os("SCAN_ONLY").is_some() {
        for _ in 0..20 {
            timed(&|| scan_traces(std::hint::black_box(&bytes)).is_ok());
        }
        return;
    }
    let decode =
        timed(&|| ExportTraceServiceRequest::decode(std::hint::black_box(&bytes[..])).is_ok());
    eprintln!(
        "{} bytes per span: scan_traces {scan:.0} ns per span, prost decode {decode:.0} ns per span",
        bytes.len() / 1000
    );
}

/// A log body of `arrays` array values around `lists` key-value lists, the deepest holding
/// one `KeyValue` of fields `innermost`: that `KeyValue` is at depth 6 + 2 * arrays +
/// 3 * (lists - 1).
fn nested_kvlist_body(arrays: usize, lists: usize, innermost: &[u8]) -> Vec<u8> {
    let mut key_value = innermost.to_vec();
    let mut value = Vec::new();
    for _ in 0..lists {
        value = len(6, &len(1, &key_value));
        key_value = len(2, &value);
    }
    for _ in 0..arrays {
        value = len(5, &len(1, &value));
    }
    len(1, &len(2, &len(2, &len(5, &value))))
}

#[test]
fn nesting_through_attributes_fails_where_prost_fails() {
    let logs = |bytes: &[u8]| agree(Signal::Logs, bytes).unwrap();
    let empty_value = len(2, &[]);
    let cases: Vec<(usize, usize, Vec<u8>, Verdict)> = vec![
        // KeyValue at 99, its AnyValue at 100.
        (0, 32, empty_value.clone(), Verdict::Accepted),
        // KeyValue at 100: a key and an int32 fit, a value or an unknown field do not.
        (2, 31, len(1, b"k"), Verdict::Accepted),
        (2, 31, varint(3, 7), Verdict::Accepted),
        (2, 31, empty_value.clone(), Verdict::Malformed),
        (2, 31, varint(9, 1), Verdict::Malformed),
        // KeyValue at 98, its AnyValue at 99 holding an unknown field.
        (1, 31, len(2, &varint(9, 1)), Verdict::Accepted),
        // KeyValue at 99, its AnyValue at 100 holding an unknown field.
        (0, 32, len(2, &varint(9, 1)), Verdict::Malformed),
    ];
    for (arrays, lists, innermost, expected) in cases {
        let bytes = nested_kvlist_body(arrays, lists, &innermost);
        assert_eq!(logs(&bytes), expected, "{arrays} arrays, {lists} lists");
    }
}
