//! Rewriting a scanned trace request without decoding it: attributes appended to chosen spans
//! (encoded `KeyValue` fields added at the end of the span's body, where prost appends them to
//! the repeated field) and spans removed; the lengths of every enclosing span, scope spans and
//! resource spans are rewritten, everything else is copied byte for byte.

use super::index::{Frame, TracesIndex};
use super::wire::{encoded_varint_len, put_key, put_varint, WireType};

/// What happens to one span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Encoded fields (e.g. `Span.attributes` entries) added at the end of the span's body.
    Append(Vec<u8>),
    /// The span leaves the request.
    Remove,
}

/// `ResourceSpans` in the request, `ScopeSpans` in a resource, `Span` in a scope: field 1, 2, 2.
const RESOURCE_SPANS_FIELD: u32 = 1;
const SCOPE_SPANS_FIELD: u32 = 2;
const SPANS_FIELD: u32 = 2;

/// The request with `edits` applied; `edits` are (span index in [`TracesIndex::spans`], edit),
/// in ascending span order, one per span.
pub fn splice(bytes: &[u8], index: &TracesIndex, edits: &[(usize, Edit)]) -> Vec<u8> {
    let growth: usize = edits
        .iter()
        .map(|(_, edit)| match edit {
            Edit::Append(extra) => extra.len() + 10,
            Edit::Remove => 0,
        })
        .sum();
    let mut out = Vec::with_capacity(bytes.len() + growth + 20 * index.resource_spans.len());
    let mut cursor = 0usize;
    let mut edits = edits.iter().peekable();
    for resource in &index.resource_spans {
        let scopes = &index.scope_spans[resource.scope_spans.range()];
        let last_span = scopes.last().map_or(0, |scope| scope.spans.end as usize);
        if edits.peek().is_none_or(|(span, _)| *span >= last_span) {
            continue;
        }
        // Each scope's edits, and how much its body changes.
        let mut planned = Vec::with_capacity(scopes.len());
        for scope in scopes {
            let mut mine = Vec::new();
            while let Some((span, edit)) =
                edits.next_if(|(span, _)| *span < scope.spans.end as usize)
            {
                mine.push((&index.spans[*span].frame, edit));
            }
            let body = scope.frame.body.len() as i64
                + mine
                    .iter()
                    .map(|(frame, edit)| span_change(frame, edit))
                    .sum::<i64>();
            planned.push((scope, mine, body as usize));
        }
        let resource_body = resource.frame.body.len() as i64
            + planned
                .iter()
                .filter(|(_, mine, _)| !mine.is_empty())
                .map(|(scope, _, body)| field_len(*body) as i64 - whole_len(&scope.frame) as i64)
                .sum::<i64>();
        out.extend_from_slice(&bytes[cursor..resource.frame.tag as usize]);
        put_header(&mut out, RESOURCE_SPANS_FIELD, resource_body as usize);
        let mut inner = resource.frame.body.start as usize;
        for (scope, mine, body) in planned {
            if mine.is_empty() {
                continue;
            }
            out.extend_from_slice(&bytes[inner..scope.frame.tag as usize]);
            put_header(&mut out, SCOPE_SPANS_FIELD, body);
            let mut at = scope.frame.body.start as usize;
            for (frame, edit) in mine {
                out.extend_from_slice(&bytes[at..frame.tag as usize]);
                if let Edit::Append(extra) = edit {
                    put_header(&mut out, SPANS_FIELD, frame.body.len() + extra.len());
                    out.extend_from_slice(frame.body.of(bytes));
                    out.extend_from_slice(extra);
                }
                at = frame.body.end as usize;
            }
            out.extend_from_slice(&bytes[at..scope.frame.body.end as usize]);
            inner = scope.frame.body.end as usize;
        }
        out.extend_from_slice(&bytes[inner..resource.frame.body.end as usize]);
        cursor = resource.frame.body.end as usize;
    }
    out.extend_from_slice(&bytes[cursor..]);
    out
}

/// How many bytes a span's whole field grows (negative: shrinks) by `edit`.
fn span_change(frame: &Frame, edit: &Edit) -> i64 {
    let new = match edit {
        Edit::Append(extra) => field_len(frame.body.len() + extra.len()),
        Edit::Remove => 0,
    };
    new as i64 - whole_len(frame) as i64
}

/// A frame's key, length and body as received.
fn whole_len(frame: &Frame) -> usize {
    (frame.body.end - frame.tag) as usize
}

/// A length-delimited field with a one-byte key and a `body`-byte body, as written here.
fn field_len(body: usize) -> usize {
    1 + encoded_varint_len(body as u64) + body
}

fn put_header(out: &mut Vec<u8>, field: u32, len: usize) {
    put_key(out, field, WireType::Len);
    put_varint(out, len as u64);
}
