//! Where the parts of a validated `ExportTraceServiceRequest` sit in its bytes: each resource
//! spans, scope spans and span as a frame (its key and length header, then its body), and the
//! few span fields the pipeline reads without parsing again. Built by [`super::scan`] in the
//! same pass that validates the request; read by the views and the splice.

/// A byte range of the request, `start..end`. Requests are bounded far below 4 GiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u32,
    pub end: u32,
}

impl ByteRange {
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn of(self, bytes: &[u8]) -> &[u8] {
        &bytes[self.start as usize..self.end as usize]
    }
}

/// A length-delimited field: its key and length varint start at `tag`; its body is `body`
/// (so the header is `tag..body.start` and the whole field `tag..body.end`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Frame {
    pub tag: u32,
    pub body: ByteRange,
}

/// Indexes into one of the index's vectors, `start..end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Children {
    pub start: u32,
    pub end: u32,
}

impl Children {
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One `ResourceSpans` (field 1 of the request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceSpansEntry {
    pub frame: Frame,
    /// The body of its `Resource` (field 1), empty when absent.
    pub resource: ByteRange,
    /// Its scope spans in [`TracesIndex::scope_spans`].
    pub scope_spans: Children,
}

/// One `ScopeSpans` (field 2 of a `ResourceSpans`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSpansEntry {
    pub frame: Frame,
    /// The scope's `name` and `version` strings (empty when absent).
    pub scope_name: ByteRange,
    pub scope_version: ByteRange,
    /// Its spans in [`TracesIndex::spans`].
    pub spans: Children,
}

/// One `Span` (field 2 of a `ScopeSpans`) and the fields read without parsing it again. Bytes
/// fields hold the last occurrence, as prost would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanEntry {
    pub frame: Frame,
    pub trace_id: ByteRange,
    pub span_id: ByteRange,
    pub parent_span_id: ByteRange,
    pub name: ByteRange,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    /// `status.code` (0 when there is no status).
    pub status_code: i32,
    /// Some attribute key lies in a gen_ai namespace ([`in_gen_ai_namespace`]).
    pub gen_ai_keys: bool,
}

/// The namespaces of every attribute name a usage dialect uses: a span none of whose
/// attribute keys lies in one carries no usage and says nothing of a model call.
pub const GEN_AI_KEY_PREFIXES: [&str; 6] = [
    "gen_ai.",
    "llm.",
    "ai.",
    "anthropic.",
    "openinference.",
    "traceloop.",
];

/// Whether `key` starts with one of [`GEN_AI_KEY_PREFIXES`].
#[inline]
pub fn in_gen_ai_namespace(key: &[u8]) -> bool {
    GEN_AI_KEY_PREFIXES
        .iter()
        .any(|prefix| key.starts_with(prefix.as_bytes()))
}

/// The index of one request. `unusual` marks valid input the views do not model (a singular
/// message field given twice, which prost merges; groups in unknown fields): such a request
/// takes the decoding path instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TracesIndex {
    pub resource_spans: Vec<ResourceSpansEntry>,
    pub scope_spans: Vec<ScopeSpansEntry>,
    pub spans: Vec<SpanEntry>,
    pub unusual: bool,
}
