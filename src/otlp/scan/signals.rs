//! What each signal reads during the scan: the trace visitor builds the index and checks span
//! and link ids; the metrics visitor counts data points and checks exemplar ids; the logs
//! visitor counts log records and checks their ids. Ids are checked on the values the decoded
//! request would hold, and the first refusal in validate.rs's order is kept.

use super::Visitor;
use crate::otlp::index::{
    in_gen_ai_namespace, ByteRange, Children, Frame, ResourceSpansEntry, ScopeSpansEntry,
    SpanEntry, TracesIndex,
};
use crate::otlp::schema::Msg;
use crate::otlp::validate::InvalidRequest;
use crate::otlp::validate::{check_id, SPAN_ID_LEN, TRACE_ID_LEN};

/// Records `check`'s refusal in `slot` unless one is there already.
fn first(slot: &mut Option<InvalidRequest>, check: impl FnOnce() -> Result<(), InvalidRequest>) {
    if slot.is_none() {
        *slot = check().err();
    }
}

/// The traces visitor: builds the index, checks span and link ids.
#[derive(Default)]
pub(super) struct Traces<'a> {
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

impl<'a> Traces<'a> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        Traces {
            input,
            index: TracesIndex {
                spans: Vec::with_capacity(input.len() / 256),
                ..TracesIndex::default()
            },
            ..Traces::default()
        }
    }

    /// The index, `unusual` also when the walk skipped a group; or the first refused id.
    pub(super) fn finish(self, groups: bool) -> Result<TracesIndex, InvalidRequest> {
        if let Some(invalid) = self.invalid {
            return Err(invalid);
        }
        let mut index = self.index;
        index.unusual |= groups;
        Ok(index)
    }

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

    #[inline]
    fn attribute_key(&mut self, parent: Msg, key: &[u8]) {
        if parent == Msg::Span && !self.span.gen_ai_keys {
            self.span.gen_ai_keys = in_gen_ai_namespace(key);
        }
    }
}

/// The metrics visitor: counts data points and checks exemplar ids, both on each metric's
/// last data member (a member given again right after itself is merged: its points append).
#[derive(Default)]
pub(super) struct Metrics<'a> {
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

impl<'a> Metrics<'a> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        Metrics {
            input,
            ..Metrics::default()
        }
    }

    /// The number of data points, or the first refused exemplar id.
    pub(super) fn finish(self) -> Result<u64, InvalidRequest> {
        self.invalid.map_or(Ok(self.total), Err)
    }
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
pub(super) struct Logs<'a> {
    input: &'a [u8],
    resources: usize,
    scopes: usize,
    records: usize,
    trace_id: ByteRange,
    span_id: ByteRange,
    total: u64,
    invalid: Option<InvalidRequest>,
}

impl<'a> Logs<'a> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        Logs {
            input,
            ..Logs::default()
        }
    }

    /// The number of log records, or the first refused id.
    pub(super) fn finish(self) -> Result<u64, InvalidRequest> {
        self.invalid.map_or(Ok(self.total), Err)
    }
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
