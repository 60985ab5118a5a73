//! The validating scan: one pass over an export request's bytes that accepts exactly what
//! `prost::Message::decode` of the opentelemetry-proto 0.33 type accepts (wire rules in
//! [`super::wire`], fields from the tables in [`super::schema`], UTF-8 checked in every string
//! at any depth, the recursion budget spent where prost spends it), then refuses what
//! [`super::validate`] refuses, with the same [`InvalidRequest`]. For traces it also
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
use super::validate::InvalidRequest;
use super::validate::{check_id, SPAN_ID_LEN, TRACE_ID_LEN};
use super::wire::{self, Reader, WireError, WireType};

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
    /// It decodes, but breaks a rule of [`super::validate`].
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
/// `enter`/`exit`, the message entered); every method has a no-op default.
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
    };
    walker.message(schema, Reader::new(bytes), wire::RECURSION_LIMIT_DEPTH)?;
    Ok((walker.visitor, walker.groups))
}

struct Walker<V> {
    visitor: V,
    /// A group was skipped somewhere.
    groups: bool,
}

fn malformed(error: WireError, within: &'static str) -> ScanError {
    ScanError::Malformed {
        at: error.at,
        what: error.what,
        within,
    }
}

/// Offsets fit in u32: [`walk`] refuses larger inputs.
fn range(start: usize, end: usize) -> ByteRange {
    ByteRange {
        start: start as u32,
        end: end as u32,
    }
}

impl<V: Visitor> Walker<V> {
    /// Walks the fields of one message; `budget` is prost's recursion count for them.
    fn message(
        &mut self,
        schema: &'static Schema,
        mut reader: Reader<'_>,
        budget: u32,
    ) -> Result<(), ScanError> {
        while !reader.is_done() {
            let tag = reader.pos();
            let (number, wire_type) = reader.key().map_err(|e| malformed(e, schema.name))?;
            match schema.field(number) {
                Some(field) => self
                    .field(schema.msg, field, wire_type, &mut reader, tag, budget)
                    .map_err(|e| match e {
                        Failure::Wire(e) => malformed(e, field.name),
                        Failure::Scan(e) => e,
                    })?,
                None => reader
                    .skip(number, wire_type, budget, &mut self.groups)
                    .map_err(|e| malformed(e, schema.name))?,
            }
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
    ) -> Result<(), Failure> {
        let unexpected = || {
            Failure::Wire(WireError {
                at: tag,
                what: wire::UNEXPECTED_WIRE_TYPE,
            })
        };
        match field.kind {
            Kind::Scalar(scalar) => {
                let width = scalar.width();
                if wire_type == WireType::Len && field.label == Label::Repeated {
                    let mut packed = reader.len_delimited()?;
                    while !packed.is_done() {
                        match width {
                            Width::Varint => packed.varint().map(drop)?,
                            Width::Fixed32 => packed.fixed32().map(drop)?,
                            Width::Fixed64 => packed.fixed64().map(drop)?,
                        }
                    }
                    return Ok(());
                }
                let value = match (width, wire_type) {
                    (Width::Varint, WireType::Varint) => reader.varint()?,
                    (Width::Fixed32, WireType::Fixed32) => u64::from(reader.fixed32()?),
                    (Width::Fixed64, WireType::Fixed64) => reader.fixed64()?,
                    _ => return Err(unexpected()),
                };
                self.visitor.scalar(msg, field.number, value);
            }
            Kind::String | Kind::Bytes => {
                if wire_type != WireType::Len {
                    return Err(unexpected());
                }
                let body = reader.len_delimited()?;
                if matches!(field.kind, Kind::String) && std::str::from_utf8(body.rest()).is_err() {
                    return Err(Failure::Wire(WireError {
                        at: body.pos(),
                        what: wire::INVALID_STRING,
                    }));
                }
                self.visitor
                    .bytes(msg, field.number, range(body.pos(), body.end()));
            }
            Kind::Message(child) => {
                if wire_type != WireType::Len {
                    return Err(unexpected());
                }
                if budget == 0 {
                    return Err(Failure::Wire(WireError {
                        at: tag,
                        what: wire::RECURSION_LIMIT,
                    }));
                }
                let body = reader.len_delimited()?;
                let frame = Frame {
                    tag: tag as u32,
                    body: range(body.pos(), body.end()),
                };
                self.visitor.enter(child.msg, frame);
                self.message(child, body, budget - 1)
                    .map_err(Failure::Scan)?;
                self.visitor.exit(child.msg);
            }
        }
        Ok(())
    }
}

/// A field's own bytes were wrong (named after the field), or something inside it (already
/// named).
enum Failure {
    Wire(WireError),
    Scan(ScanError),
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Self {
        Failure::Wire(error)
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
