//! The validating scan: one pass over an export request's bytes that accepts exactly what
//! `prost::Message::decode` of the opentelemetry-proto 0.33 type accepts (wire rules in
//! [`super::wire`], fields from the tables in [`super::schema`], UTF-8 checked in every string
//! at any depth, the recursion budget spent where prost spends it), then refuses what
//! [`crate::receiver::validate`] refuses, with the same [`InvalidRequest`]. For traces it also
//! builds the [`TracesIndex`] the views and the splice read.
//!
//! The walk is recursive, one call per nested message, at most 100 deep (prost's limit) plus
//! groups inside unknown fields, which prost also bounds by the same budget. Each signal has
//! a small visitor told of the messages and fields it reads; the id checks run on the values
//! the decoded request would hold (the last occurrence of a field; a metric's data as its last
//! oneof member, merged with the ones before it when they are the same member).

use super::index::{
    ByteRange, Children, Frame, ResourceSpansEntry, ScopeSpansEntry, SpanEntry, TracesIndex,
};
use super::schema::{self, Field, Kind, Label, Msg, Schema, Width};
use super::wire::{self, Reader, WireError, WireType};
use crate::receiver::validate::{check_id, SPAN_ID_LEN, TRACE_ID_LEN};
use crate::receiver::InvalidRequest;

#[cfg(test)]
mod tests;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// prost would not decode it: `what` went wrong at byte `at`, in message or field `within`.
    #[error("malformed protobuf at byte {at} in {within}: {what}")]
    Malformed {
        at: usize,
        what: &'static str,
        within: &'static str,
    },
    /// It decodes, but breaks a rule of [`crate::receiver::validate`].
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
}

/// Validates an `ExportTraceServiceRequest` and indexes its resource spans, scope spans and
/// spans.
pub fn scan_traces(bytes: &[u8]) -> Result<TracesIndex, ScanError> {
    let traces = Traces {
        input: bytes,
        index: TracesIndex {
            spans: Vec::with_capacity(bytes.len() / 256),
            ..TracesIndex::default()
        },
        ..Traces::default()
    };
    let (traces, groups) = walk(&schema::EXPORT_TRACE_SERVICE_REQUEST, bytes, traces)?;
    if let Some(invalid) = traces.invalid {
        return Err(ScanError::Invalid(invalid));
    }
    let mut index = traces.index;
    index.unusual |= groups;
    Ok(index)
}

/// Validates an `ExportMetricsServiceRequest`; its number of data points.
pub fn scan_metrics(bytes: &[u8]) -> Result<u64, ScanError> {
    let metrics = Metrics {
        input: bytes,
        ..Metrics::default()
    };
    let (metrics, _) = walk(&schema::EXPORT_METRICS_SERVICE_REQUEST, bytes, metrics)?;
    match metrics.invalid {
        Some(invalid) => Err(ScanError::Invalid(invalid)),
        None => Ok(metrics.total),
    }
}

/// Validates an `ExportLogsServiceRequest`; its number of log records.
pub fn scan_logs(bytes: &[u8]) -> Result<u64, ScanError> {
    let logs = Logs {
        input: bytes,
        ..Logs::default()
    };
    let (logs, _) = walk(&schema::EXPORT_LOGS_SERVICE_REQUEST, bytes, logs)?;
    match logs.invalid {
        Some(invalid) => Err(ScanError::Invalid(invalid)),
        None => Ok(logs.total),
    }
}

/// What a signal reads during the walk. `msg` is the message the field belongs to (for
/// `enter`/`exit`, the message entered); every method has a no-op default. A visitor is not
/// told of `KeyValue` and `AnyValue` messages nor of anything inside them: the walk reads
/// attributes on a path of their own.
trait Visitor {
    /// A message field was found; its body is walked next.
    fn enter(&mut self, _msg: Msg, _frame: Frame) {}
    /// The body of the message last entered was walked.
    fn exit(&mut self, _msg: Msg) {}
    /// A scalar field (not packed), as the raw varint or fixed-width bits.
    fn scalar(&mut self, _msg: Msg, _field: u32, _value: u64) {}
    /// A string (already UTF-8 checked) or bytes field.
    fn bytes(&mut self, _msg: Msg, _field: u32, _value: ByteRange) {}
}

fn walk<V: Visitor>(
    schema: &'static Schema,
    bytes: &[u8],
    visitor: V,
) -> Result<(V, bool), ScanError> {
    if u32::try_from(bytes.len()).is_err() {
        return Err(ScanError::Malformed {
            at: 0,
            what: "request of 4 GiB or more",
            within: schema.name,
        });
    }
    let mut walker = Walker {
        visitor,
        groups: false,
        failure: None,
    };
    match walker.message(schema, Reader::new(bytes), wire::RECURSION_LIMIT_DEPTH) {
        Ok(()) => Ok((walker.visitor, walker.groups)),
        Err(Stop) => {
            let (error, within) = walker.failure.unwrap_or((
                WireError {
                    at: 0,
                    what: "refused",
                },
                schema.name,
            ));
            Err(ScanError::Malformed {
                at: error.at,
                what: error.what,
                within,
            })
        }
    }
}

/// Field names the fast paths report, as the tables spell them.
const KEY_VALUE_KEY: &str = "KeyValue.key";
const KEY_VALUE_VALUE: &str = "KeyValue.value";
const ANY_VALUE_STRING: &str = "AnyValue.string_value";

/// The name of field `number` of `schema`, for an error.
#[cold]
fn field_name(schema: &'static Schema, number: u32) -> &'static str {
    schema.field(number).map_or(schema.name, |field| field.name)
}

/// The walk stopped; why is in [`Walker::failure`]. (A unit error keeps the walk's results
/// small.)
struct Stop;

struct Walker<V> {
    visitor: V,
    /// A group was skipped somewhere.
    groups: bool,
    /// The refusal, and the message or field it was in.
    failure: Option<(WireError, &'static str)>,
}

/// Offsets fit in u32: [`walk`] refuses larger inputs.
#[inline(always)]
fn range(start: usize, end: usize) -> ByteRange {
    ByteRange {
        start: start as u32,
        end: end as u32,
    }
}

/// Whether `bytes` is UTF-8. Short ASCII strings, most keys and values, are settled here
/// without a call; the rest by the standard library (which has its own ASCII path).
#[inline(always)]
fn is_utf8(bytes: &[u8]) -> bool {
    (bytes.len() <= 32 && is_ascii_short(bytes)) || std::str::from_utf8(bytes).is_ok()
}

/// Whether no byte of `bytes` (at most 32 long, not checked) has its high bit set, reading
/// whole words, the last one overlapping the one before.
#[inline(always)]
fn is_ascii_short(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|word| <[u8; 8]>::try_from(word).ok())
            .map_or(HIGH, u64::from_le_bytes)
    };
    let half = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|half| <[u8; 4]>::try_from(half).ok())
            .map_or(HIGH, |half| u64::from(u32::from_le_bytes(half)))
    };
    let n = bytes.len();
    let high = if n >= 8 {
        let mut high = word(n - 8);
        let mut at = 0;
        while at + 8 < n {
            high |= word(at);
            at += 8;
        }
        high
    } else if n >= 4 {
        half(0) | half(n - 4)
    } else {
        bytes.iter().fold(0, |high, &byte| high | u64::from(byte))
    };
    high & HIGH == 0
}

/// `Ok` of a wire read, or a stop recording its error as within `$within`.
macro_rules! read {
    ($self:ident, $result:expr, $within:expr) => {
        match $result {
            Ok(value) => value,
            Err(error) => return Err($self.fail(error, $within)),
        }
    };
}

impl<V: Visitor> Walker<V> {
    #[cold]
    #[inline(never)]
    fn fail(&mut self, error: WireError, within: &'static str) -> Stop {
        self.failure = Some((error, within));
        Stop
    }

    #[cold]
    #[inline(never)]
    fn fail_at(&mut self, at: usize, what: &'static str, within: &'static str) -> Stop {
        self.fail(WireError { at, what }, within)
    }

    /// Walks the fields of one message; `budget` is prost's recursion count for them.
    fn message(
        &mut self,
        schema: &'static Schema,
        mut reader: Reader<'_>,
        budget: u32,
    ) -> Result<(), Stop> {
        while !reader.is_done() {
            let tag = reader.pos();
            let (number, wire_type) = read!(self, reader.key(), schema.name);
            self.one(schema, number, wire_type, &mut reader, tag, budget)?;
        }
        Ok(())
    }

    /// One field of `schema` whose key (at `tag`) was just read: known, or skipped.
    #[inline(always)]
    fn one(
        &mut self,
        schema: &'static Schema,
        number: u32,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        tag: usize,
        budget: u32,
    ) -> Result<(), Stop> {
        match schema.field(number) {
            Some(field) => self.field(schema.msg, field, wire_type, reader, tag, budget),
            None => {
                read!(
                    self,
                    reader.skip(number, wire_type, budget, &mut self.groups),
                    schema.name
                );
                Ok(())
            }
        }
    }

    /// [`Self::one`] out of line, for the fast paths' rare cases.
    #[inline(never)]
    fn one_slow(
        &mut self,
        schema: &'static Schema,
        number: u32,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        tag: usize,
        budget: u32,
    ) -> Result<(), Stop> {
        self.one(schema, number, wire_type, reader, tag, budget)
    }

    /// A `KeyValue`, the bulk of every request, read without the table for its usual fields
    /// (a key, an `AnyValue`); anything else goes through [`Self::one_slow`], so the rules
    /// are the table's. The visitor is not told of what is inside attributes.
    fn key_value(&mut self, mut reader: Reader<'_>, budget: u32) -> Result<(), Stop> {
        const SCHEMA: &Schema = &schema::KEY_VALUE;
        while !reader.is_done() {
            let tag = reader.pos();
            match read!(self, reader.key(), SCHEMA.name) {
                (1, WireType::Len) => self.utf8(&mut reader, KEY_VALUE_KEY)?,
                (2, WireType::Len) if budget > 0 => {
                    let body = read!(self, reader.len_delimited(), KEY_VALUE_VALUE);
                    self.any_value(body, budget - 1)?;
                }
                (number, wire_type) => {
                    self.one_slow(SCHEMA, number, wire_type, &mut reader, tag, budget)?
                }
            }
        }
        Ok(())
    }

    /// An `AnyValue` as [`Self::key_value`] reads a `KeyValue`: scalar and string members
    /// here, arrays, lists and the rest through the table.
    fn any_value(&mut self, mut reader: Reader<'_>, budget: u32) -> Result<(), Stop> {
        const SCHEMA: &Schema = &schema::ANY_VALUE;
        while !reader.is_done() {
            let tag = reader.pos();
            match read!(self, reader.key(), SCHEMA.name) {
                (1, WireType::Len) => self.utf8(&mut reader, ANY_VALUE_STRING)?,
                (number @ (2 | 3 | 8), WireType::Varint) => {
                    if let Err(error) = reader.varint() {
                        return Err(self.fail(error, field_name(SCHEMA, number)));
                    }
                }
                (4, WireType::Fixed64) => {
                    if let Err(error) = reader.fixed64() {
                        return Err(self.fail(error, field_name(SCHEMA, 4)));
                    }
                }
                (7, WireType::Len) => {
                    if let Err(error) = reader.len_delimited() {
                        return Err(self.fail(error, field_name(SCHEMA, 7)));
                    }
                }
                (number, wire_type) => {
                    self.one_slow(SCHEMA, number, wire_type, &mut reader, tag, budget)?
                }
            }
        }
        Ok(())
    }

    /// A string field's length and UTF-8 body.
    #[inline(always)]
    fn utf8(&mut self, reader: &mut Reader<'_>, name: &'static str) -> Result<(), Stop> {
        let body = read!(self, reader.len_delimited(), name);
        if !is_utf8(body.rest()) {
            return Err(self.fail_at(body.pos(), wire::INVALID_STRING, name));
        }
        Ok(())
    }

    /// One known field whose key (at `tag`) was just read.
    #[inline(always)]
    fn field(
        &mut self,
        msg: Msg,
        field: &'static Field,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        tag: usize,
        budget: u32,
    ) -> Result<(), Stop> {
        let name = field.name;
        match field.kind {
            Kind::Scalar(scalar) => {
                let width = scalar.width();
                if wire_type == WireType::Len && field.label == Label::Repeated {
                    let mut packed = read!(self, reader.len_delimited(), name);
                    while !packed.is_done() {
                        match width {
                            Width::Varint => read!(self, packed.varint().map(drop), name),
                            Width::Fixed32 => read!(self, packed.fixed32().map(drop), name),
                            Width::Fixed64 => read!(self, packed.fixed64().map(drop), name),
                        }
                    }
                    return Ok(());
                }
                let value = match (width, wire_type) {
                    (Width::Varint, WireType::Varint) => read!(self, reader.varint(), name),
                    (Width::Fixed32, WireType::Fixed32) => {
                        u64::from(read!(self, reader.fixed32(), name))
                    }
                    (Width::Fixed64, WireType::Fixed64) => read!(self, reader.fixed64(), name),
                    _ => return Err(self.fail_at(tag, wire::UNEXPECTED_WIRE_TYPE, name)),
                };
                self.visitor.scalar(msg, field.number, value);
            }
            Kind::String | Kind::Bytes => {
                if wire_type != WireType::Len {
                    return Err(self.fail_at(tag, wire::UNEXPECTED_WIRE_TYPE, name));
                }
                let body = read!(self, reader.len_delimited(), name);
                if matches!(field.kind, Kind::String) && !is_utf8(body.rest()) {
                    return Err(self.fail_at(body.pos(), wire::INVALID_STRING, name));
                }
                self.visitor
                    .bytes(msg, field.number, range(body.pos(), body.end()));
            }
            Kind::Message(child) => {
                if wire_type != WireType::Len {
                    return Err(self.fail_at(tag, wire::UNEXPECTED_WIRE_TYPE, name));
                }
                if budget == 0 {
                    return Err(self.fail_at(tag, wire::RECURSION_LIMIT, name));
                }
                let body = read!(self, reader.len_delimited(), name);
                let frame = Frame {
                    tag: tag as u32,
                    body: range(body.pos(), body.end()),
                };
                match child.msg {
                    Msg::KeyValue => self.key_value(body, budget - 1)?,
                    Msg::AnyValue => self.any_value(body, budget - 1)?,
                    _ => {
                        self.visitor.enter(child.msg, frame);
                        self.message(child, body, budget - 1)?;
                        self.visitor.exit(child.msg);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Records `check`'s refusal in `slot` unless one is there already.
fn first(slot: &mut Option<InvalidRequest>, check: impl FnOnce() -> Result<(), InvalidRequest>) {
    if slot.is_none() {
        *slot = check().err();
    }
}

/// The traces visitor: builds the index, checks span and link ids.
#[derive(Default)]
struct Traces<'a> {
    input: &'a [u8],
    index: TracesIndex,
    /// The span being walked, pushed when it ends.
    span: SpanEntry,
    /// Singular messages seen in the current parent (a second one is merged by prost).
    resource_seen: bool,
    scope_seen: bool,
    status_seen: bool,
    /// The current link's ids and the number of links before it in the span.
    link_trace_id: ByteRange,
    link_span_id: ByteRange,
    links: usize,
    /// The span's first refused link: reported after its own ids, as validate.rs does.
    bad_link: Option<InvalidRequest>,
    invalid: Option<InvalidRequest>,
}

impl Traces<'_> {
    /// `resource_spans[r].scope_spans[s].spans[i]` of the span being walked.
    fn span_path(&self) -> String {
        let index = &self.index;
        let r = index.resource_spans.len().saturating_sub(1);
        let (s, i) = match (index.resource_spans.last(), index.scope_spans.last()) {
            (Some(resource), Some(scope)) => (
                (index.scope_spans.len() - 1).saturating_sub(resource.scope_spans.start as usize),
                index.spans.len().saturating_sub(scope.spans.start as usize),
            ),
            _ => (0, 0),
        };
        format!("resource_spans[{r}].scope_spans[{s}].spans[{i}]")
    }
}

impl Visitor for Traces<'_> {
    #[inline]
    fn enter(&mut self, msg: Msg, frame: Frame) {
        let index = &mut self.index;
        match msg {
            Msg::ResourceSpans => {
                let next = index.scope_spans.len() as u32;
                index.resource_spans.push(ResourceSpansEntry {
                    frame,
                    resource: ByteRange::default(),
                    scope_spans: Children {
                        start: next,
                        end: next,
                    },
                });
                self.resource_seen = false;
            }
            Msg::Resource => {
                index.unusual |= self.resource_seen;
                self.resource_seen = true;
                if let Some(resource) = index.resource_spans.last_mut() {
                    resource.resource = frame.body;
                }
            }
            Msg::ScopeSpans => {
                let next = index.spans.len() as u32;
                index.scope_spans.push(ScopeSpansEntry {
                    frame,
                    spans: Children {
                        start: next,
                        end: next,
                    },
                    ..ScopeSpansEntry::default()
                });
                self.scope_seen = false;
            }
            Msg::InstrumentationScope => {
                index.unusual |= self.scope_seen;
                self.scope_seen = true;
            }
            Msg::Span => {
                self.span = SpanEntry {
                    frame,
                    ..SpanEntry::default()
                };
                self.status_seen = false;
                self.links = 0;
                self.bad_link = None;
            }
            Msg::Status => {
                index.unusual |= self.status_seen;
                self.status_seen = true;
            }
            Msg::Link => {
                self.link_trace_id = ByteRange::default();
                self.link_span_id = ByteRange::default();
            }
            _ => {}
        }
    }

    #[inline]
    fn exit(&mut self, msg: Msg) {
        match msg {
            Msg::ResourceSpans => {
                let end = self.index.scope_spans.len() as u32;
                if let Some(resource) = self.index.resource_spans.last_mut() {
                    resource.scope_spans.end = end;
                }
            }
            Msg::ScopeSpans => {
                let end = self.index.spans.len() as u32;
                if let Some(scope) = self.index.scope_spans.last_mut() {
                    scope.spans.end = end;
                }
            }
            Msg::Link => {
                let l = self.links;
                self.links += 1;
                if self.invalid.is_some() {
                    return;
                }
                let (trace_id, span_id) = (
                    self.link_trace_id.of(self.input),
                    self.link_span_id.of(self.input),
                );
                let mut bad_link = self.bad_link.take();
                first(&mut bad_link, || {
                    check_id(trace_id, TRACE_ID_LEN, false, || {
                        format!("{}.links[{l}].trace_id", self.span_path())
                    })?;
                    check_id(span_id, SPAN_ID_LEN, false, || {
                        format!("{}.links[{l}].span_id", self.span_path())
                    })
                });
                self.bad_link = bad_link;
            }
            Msg::Span => {
                if self.invalid.is_none() {
                    let span = &self.span;
                    let input = self.input;
                    let path = || self.span_path();
                    let own = check_id(span.trace_id.of(input), TRACE_ID_LEN, false, || {
                        format!("{}.trace_id", path())
                    })
                    .and_then(|()| {
                        check_id(span.span_id.of(input), SPAN_ID_LEN, false, || {
                            format!("{}.span_id", path())
                        })
                    })
                    .and_then(|()| {
                        check_id(span.parent_span_id.of(input), SPAN_ID_LEN, true, || {
                            format!("{}.parent_span_id", path())
                        })
                    });
                    self.invalid = own.err().or(self.bad_link.take());
                }
                self.index.spans.push(self.span);
            }
            _ => {}
        }
    }

    #[inline]
    fn scalar(&mut self, msg: Msg, field: u32, value: u64) {
        match (msg, field) {
            (Msg::Span, 7) => self.span.start_time_unix_nano = value,
            (Msg::Span, 8) => self.span.end_time_unix_nano = value,
            // An enum: prost keeps the low 32 bits.
            (Msg::Status, 3) => self.span.status_code = value as i32,
            _ => {}
        }
    }

    #[inline]
    fn bytes(&mut self, msg: Msg, field: u32, value: ByteRange) {
        match (msg, field) {
            (Msg::Span, 1) => self.span.trace_id = value,
            (Msg::Span, 2) => self.span.span_id = value,
            (Msg::Span, 4) => self.span.parent_span_id = value,
            (Msg::Span, 5) => self.span.name = value,
            (Msg::Link, 1) => self.link_trace_id = value,
            (Msg::Link, 2) => self.link_span_id = value,
            (Msg::InstrumentationScope, 1 | 2) => {
                if let Some(scope) = self.index.scope_spans.last_mut() {
                    if field == 1 {
                        scope.scope_name = value;
                    } else {
                        scope.scope_version = value;
                    }
                }
            }
            _ => {}
        }
    }
}

/// The metrics visitor: counts data points and checks exemplar ids, both on each metric's
/// last data member (a member given again right after itself is merged: its points append).
#[derive(Default)]
struct Metrics<'a> {
    input: &'a [u8],
    /// Indices of the current resource, scope and metric, and counts within their parents.
    resources: usize,
    scopes: usize,
    metrics: usize,
    /// The metric's data member and its points so far.
    data: Option<Msg>,
    points: usize,
    /// The current point's index and its exemplars so far.
    point: usize,
    exemplars: usize,
    exemplar_trace_id: ByteRange,
    exemplar_span_id: ByteRange,
    /// The first refused exemplar of the metric's current data member.
    pending: Option<InvalidRequest>,
    total: u64,
    invalid: Option<InvalidRequest>,
}

impl Visitor for Metrics<'_> {
    #[inline]
    fn enter(&mut self, msg: Msg, _frame: Frame) {
        match msg {
            Msg::ResourceMetrics => {
                self.resources += 1;
                self.scopes = 0;
            }
            Msg::ScopeMetrics => {
                self.scopes += 1;
                self.metrics = 0;
            }
            Msg::Metric => {
                self.metrics += 1;
                self.data = None;
                self.points = 0;
                self.pending = None;
            }
            // Another data member replaces the one before; the same one again merges.
            Msg::Gauge | Msg::Sum | Msg::Histogram | Msg::ExponentialHistogram | Msg::Summary
                if self.data != Some(msg) =>
            {
                self.data = Some(msg);
                self.points = 0;
                self.pending = None;
            }
            Msg::NumberDataPoint
            | Msg::HistogramDataPoint
            | Msg::ExponentialHistogramDataPoint
            | Msg::SummaryDataPoint => {
                self.point = self.points;
                self.points += 1;
                self.exemplars = 0;
            }
            Msg::Exemplar => {
                self.exemplar_trace_id = ByteRange::default();
                self.exemplar_span_id = ByteRange::default();
            }
            _ => {}
        }
    }

    #[inline]
    fn exit(&mut self, msg: Msg) {
        match msg {
            Msg::Exemplar => {
                let e = self.exemplars;
                self.exemplars += 1;
                if self.invalid.is_some() {
                    return;
                }
                let (r, s, m, p) = (
                    self.resources.saturating_sub(1),
                    self.scopes.saturating_sub(1),
                    self.metrics.saturating_sub(1),
                    self.point,
                );
                let at = || {
                    format!(
                        "resource_metrics[{r}].scope_metrics[{s}].metrics[{m}].data_points[{p}].exemplars[{e}]"
                    )
                };
                let trace_id = self.exemplar_trace_id.of(self.input);
                let span_id = self.exemplar_span_id.of(self.input);
                first(&mut self.pending, || {
                    check_id(trace_id, TRACE_ID_LEN, true, || {
                        format!("{}.trace_id", at())
                    })?;
                    check_id(span_id, SPAN_ID_LEN, true, || format!("{}.span_id", at()))
                });
            }
            Msg::Metric => {
                self.total += self.points as u64;
                if self.invalid.is_none() {
                    self.invalid = self.pending.take();
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn bytes(&mut self, msg: Msg, field: u32, value: ByteRange) {
        match (msg, field) {
            (Msg::Exemplar, 4) => self.exemplar_span_id = value,
            (Msg::Exemplar, 5) => self.exemplar_trace_id = value,
            _ => {}
        }
    }
}

/// The logs visitor: counts log records and checks their ids.
#[derive(Default)]
struct Logs<'a> {
    input: &'a [u8],
    resources: usize,
    scopes: usize,
    records: usize,
    trace_id: ByteRange,
    span_id: ByteRange,
    total: u64,
    invalid: Option<InvalidRequest>,
}

impl Visitor for Logs<'_> {
    #[inline]
    fn enter(&mut self, msg: Msg, _frame: Frame) {
        match msg {
            Msg::ResourceLogs => {
                self.resources += 1;
                self.scopes = 0;
            }
            Msg::ScopeLogs => {
                self.scopes += 1;
                self.records = 0;
            }
            Msg::LogRecord => {
                self.trace_id = ByteRange::default();
                self.span_id = ByteRange::default();
            }
            _ => {}
        }
    }

    #[inline]
    fn exit(&mut self, msg: Msg) {
        if msg != Msg::LogRecord {
            return;
        }
        let i = self.records;
        self.records += 1;
        self.total += 1;
        let (r, s) = (
            self.resources.saturating_sub(1),
            self.scopes.saturating_sub(1),
        );
        let at = || format!("resource_logs[{r}].scope_logs[{s}].log_records[{i}]");
        let (trace_id, span_id) = (self.trace_id.of(self.input), self.span_id.of(self.input));
        first(&mut self.invalid, || {
            check_id(trace_id, TRACE_ID_LEN, true, || {
                format!("{}.trace_id", at())
            })?;
            check_id(span_id, SPAN_ID_LEN, true, || format!("{}.span_id", at()))
        });
    }

    #[inline]
    fn bytes(&mut self, msg: Msg, field: u32, value: ByteRange) {
        match (msg, field) {
            (Msg::LogRecord, 9) => self.trace_id = value,
            (Msg::LogRecord, 10) => self.span_id = value,
            _ => {}
        }
    }
}
