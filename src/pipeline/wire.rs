//! Trace requests that stay bytes: enrichment reads the spans through the wire views, the
//! attributes it adds are appended to the spans' bytes, held spans are cut out, and a request
//! in which nothing changed is queued as the very bytes received.

use super::held::HeldParts;
use super::{Intake, Processed, Request};
use crate::exporter::Amount;
use crate::otlp::added::Added;
use crate::otlp::fields::{FieldValue, Fields};
use crate::otlp::index::TracesIndex;
use crate::otlp::splice::{splice, Edit};
use crate::otlp::view::{Location, TraceRequestView};
use crate::otlp::wire_view::{AttributeCache, WireRequest};
use crate::otlp::Signal;
use crate::otlp::{EncodedRequest, Payload};
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// `ResourceSpans.resource` and `ScopeSpans.scope`; both messages' `schema_url`.
const RESOURCE_OR_SCOPE: u32 = 1;
const SCHEMA_URL: u32 = 3;

/// A trace request's protobuf bytes, validated, and the index of its spans.
#[derive(Debug)]
pub struct ScannedTraces {
    bytes: Bytes,
    index: TracesIndex,
}

impl ScannedTraces {
    /// `index` must be what the scan built for `bytes`.
    pub fn new(bytes: Bytes, index: TracesIndex) -> Self {
        Self { bytes, index }
    }

    pub(super) fn wanted(&self) -> Amount {
        Amount {
            items: self.index.spans.len() as u64,
            bytes: self.bytes.len() as u64,
        }
    }

    fn view<'a>(&'a self, cache: &'a AttributeCache<'a>) -> WireRequest<'a> {
        WireRequest::new(&self.bytes, &self.index, Some(cache))
    }
}

impl Intake {
    pub(super) fn process_scanned(&self, traces: ScannedTraces) -> Processed {
        if traces.index.unusual {
            // Valid input the views do not model (merged duplicates, groups): decode it.
            return match ExportTraceServiceRequest::decode(&traces.bytes[..]) {
                Ok(decoded) => self.process(Request::Decoded(Payload::Traces(decoded))),
                Err(_) => as_received(traces),
            };
        }
        let cache = AttributeCache::new(&traces.index);
        let view = traces.view(&cache);
        let (outcome, additions) = self.enricher.enrich(view, &self.counters);
        if outcome.records.is_empty() && additions.is_empty() && outcome.awaiting.is_empty() {
            let records = self.observe_and_take(view, Vec::new());
            return Processed {
                request: Some(as_received_ref(&traces)),
                records: records.0,
                ready: records.1,
            };
        }
        let mut removed = Vec::new();
        let kept = self.hold_each(
            outcome,
            |location| held_parts(view, location, added_at(&additions, location)),
            |location| removed.push(location),
        );
        // The spans just held are not known ancestors (as on the decoded path, where they
        // have left the request before the hold looks at it).
        // The hold sees the attributes being added too, as the decoded path's hold does.
        let staying = view
            .spans()
            .filter(|(location, _)| !removed.contains(location))
            .map(|(location, span)| (span, added_at(&additions, location)));
        let (records, ready) = self.observe_and_take_spans(staying, kept);
        let edits = edits(view, &additions, &removed);
        let request = if edits.is_empty() {
            as_received_ref(&traces)
        } else {
            EncodedRequest {
                signal: Signal::Traces,
                items: (traces.index.spans.len() - removed.len()) as u64,
                bytes: splice(&traces.bytes, &traces.index, &edits).into(),
            }
        };
        Processed {
            request: Some(request),
            records,
            ready,
        }
    }
}

fn as_received(traces: ScannedTraces) -> Processed {
    Processed {
        request: Some(as_received_ref(&traces)),
        records: Vec::new(),
        ready: Vec::new(),
    }
}

fn as_received_ref(traces: &ScannedTraces) -> EncodedRequest {
    EncodedRequest {
        signal: Signal::Traces,
        items: traces.index.spans.len() as u64,
        bytes: traces.bytes.clone(),
    }
}

/// The attributes being added to the span at `location` (additions are in request order).
fn added_at(additions: &[(Location, Vec<Added>)], location: Location) -> &[Added] {
    additions
        .binary_search_by_key(&location, |(at, _)| *at)
        .map_or(&[][..], |found| &additions[found].1)
}

/// The splice's edits in span order: appended attributes, removed (held) spans.
fn edits(
    view: WireRequest<'_>,
    additions: &[(Location, Vec<Added>)],
    removed: &[Location],
) -> Vec<(usize, Edit)> {
    let mut edits: Vec<(usize, Edit)> = Vec::with_capacity(additions.len() + removed.len());
    for location in removed {
        edits.push((view.span_index(*location), Edit::Remove));
    }
    for (location, attributes) in additions {
        if removed.contains(location) {
            continue;
        }
        let mut encoded = Vec::with_capacity(64 * attributes.len());
        for attribute in attributes {
            attribute.encode_span_attribute(&mut encoded);
        }
        edits.push((view.span_index(*location), Edit::Append(encoded)));
    }
    edits.sort_by_key(|(span, _)| *span);
    edits
}

/// A held span's resource, scope and span, decoded from the request's bytes (the span with
/// the attributes enrichment added).
fn held_parts(view: WireRequest<'_>, location: Location, added: &[Added]) -> HeldParts {
    let (r, s, _) = location;
    let resource_spans = view.resource_spans_body(r);
    let scope_spans = view.scope_spans_body(r, s);
    let mut span = Span::decode(view.span(location).body()).unwrap_or_default();
    span.attributes
        .extend(added.iter().map(Added::to_key_value));
    HeldParts {
        resource: last_message(resource_spans, RESOURCE_OR_SCOPE)
            .map(|body| Resource::decode(body).unwrap_or_default()),
        resource_schema_url: last_string(resource_spans, SCHEMA_URL),
        scope: last_message(scope_spans, RESOURCE_OR_SCOPE)
            .map(|body| InstrumentationScope::decode(body).unwrap_or_default()),
        scope_schema_url: last_string(scope_spans, SCHEMA_URL),
        span,
    }
}

fn last_message(body: &[u8], field: u32) -> Option<&[u8]> {
    Fields::new(body)
        .filter_map(|(number, value)| match value {
            FieldValue::Bytes(bytes) if number == field => Some(bytes),
            _ => None,
        })
        .last()
}

fn last_string(body: &[u8], field: u32) -> String {
    last_message(body, field)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .unwrap_or_default()
        .to_string()
}
