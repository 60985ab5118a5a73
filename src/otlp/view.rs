//! What the pipeline reads of a trace request, whatever holds it: the decoded prost structs
//! ([`super::decoded`]) or the received bytes ([`super::wire_view`]). Usage, pricing,
//! attribution and the hold read spans only through these traits, so one set of rules serves
//! both paths.

/// An attribute's value as the pipeline reads it. Bytes, arrays and key-value lists are
/// `Other`: nothing the agent reads is one of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrValue<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Other,
    /// The key is present with no value.
    Empty,
}

impl AttrValue<'_> {
    /// The value as text whatever its type (ids are often integers); `None` for the others.
    pub fn to_text(self) -> Option<String> {
        match self {
            AttrValue::Str(text) => Some(text.to_string()),
            AttrValue::Int(number) => Some(number.to_string()),
            AttrValue::Bool(flag) => Some(flag.to_string()),
            AttrValue::Double(number) => Some(number.to_string()),
            AttrValue::Other | AttrValue::Empty => None,
        }
    }
}

/// A list of attributes, in the order they were sent.
pub trait Attributes<'a>: Copy {
    type Iter: Iterator<Item = (&'a str, AttrValue<'a>)>;

    fn entries(self) -> Self::Iter;

    /// The attributes whose key `wanted` accepts, in order (a representation may skip
    /// reading the values of the others).
    fn entries_where<F: FnMut(&str) -> bool>(
        self,
        mut wanted: F,
    ) -> impl Iterator<Item = (&'a str, AttrValue<'a>)> {
        self.entries().filter(move |(key, _)| wanted(key))
    }

    /// The value of the first attribute named `key`.
    fn get(self, key: &str) -> Option<AttrValue<'a>> {
        self.entries()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value)
    }

    /// The string value of `key`.
    fn str(self, key: &str) -> Option<&'a str> {
        match self.get(key)? {
            AttrValue::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The double value of `key`.
    fn double(self, key: &str) -> Option<f64> {
        match self.get(key)? {
            AttrValue::Double(number) => Some(number),
            _ => None,
        }
    }

    /// The value of `key` as text whatever its type.
    fn text(self, key: &str) -> Option<String> {
        self.get(key)?.to_text()
    }
}

/// One span.
pub trait SpanView<'a>: Copy {
    type Attributes: Attributes<'a>;

    fn attributes(self) -> Self::Attributes;
    fn name(self) -> &'a str;
    fn trace_id(self) -> &'a [u8];
    fn span_id(self) -> &'a [u8];
    fn parent_span_id(self) -> &'a [u8];
    fn start_time_unix_nano(self) -> u64;
    fn end_time_unix_nano(self) -> u64;
    /// `status.code`, 0 (unset) without a status.
    fn status_code(self) -> i32;
    /// False only when no attribute key of the span lies in a gen_ai namespace
    /// ([`super::index::GEN_AI_KEY_PREFIXES`]): then it is no model call and carries no usage,
    /// which a view that knows it saves reading the attributes to find out.
    fn may_carry_gen_ai(self) -> bool {
        true
    }
}

/// Where a span sits in its request: (resource, scope, span) indexes.
pub type Location = (usize, usize, usize);

/// A trace export request: resource spans, their scope spans, their spans.
pub trait TraceRequestView<'a>: Copy {
    type Span: SpanView<'a>;
    type Attributes: Attributes<'a>;

    fn resource_count(self) -> usize;
    /// The resource's attributes (empty without a resource).
    fn resource_attributes(self, resource: usize) -> Self::Attributes;
    fn scope_count(self, resource: usize) -> usize;
    /// The instrumentation scope's name and version (empty when absent).
    fn scope(self, resource: usize, scope: usize) -> (&'a str, &'a str);
    fn span_count(self, resource: usize, scope: usize) -> usize;
    fn span(self, location: Location) -> Self::Span;

    /// How many spans the request holds.
    fn total_spans(self) -> usize {
        (0..self.resource_count())
            .map(|r| {
                (0..self.scope_count(r))
                    .map(|s| self.span_count(r, s))
                    .sum::<usize>()
            })
            .sum()
    }

    /// Every span with its location, in request order.
    fn spans(self) -> impl Iterator<Item = (Location, Self::Span)> {
        (0..self.resource_count()).flat_map(move |r| {
            (0..self.scope_count(r)).flat_map(move |s| {
                (0..self.span_count(r, s)).map(move |i| ((r, s, i), self.span((r, s, i))))
            })
        })
    }
}
