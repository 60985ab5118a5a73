//! The views over a validated request's bytes: a span, its attributes and its resource are
//! read where they lie, through the index the scan built. A walk over a span's attributes
//! parses them; lookups by key parse them once per request and search the parsed list after
//! (a priced span's attributes are looked up a dozen times).

use super::fields::{FieldValue, Fields};
use super::index::{SpanEntry, TracesIndex};
use super::view::{AttrValue, Attributes, Location, SpanView, TraceRequestView};
use std::cell::OnceCell;

/// `Resource.attributes`, `Span.attributes`.
const RESOURCE_ATTRIBUTES: u32 = 1;
const SPAN_ATTRIBUTES: u32 = 9;

/// Attributes indexed once: each key with its encoded `KeyValue`, still borrowed from the
/// request; a value is read only when its key is looked up.
type Parsed<'a> = Vec<(&'a str, &'a [u8])>;

/// Room for this many attributes is made at once when a span's are indexed.
const TYPICAL_ATTRIBUTES: usize = 16;

/// Each span's and each resource's attributes, parsed on the first lookup by key.
#[derive(Debug, Default)]
pub struct AttributeCache<'a> {
    spans: Vec<OnceCell<Parsed<'a>>>,
    resources: Vec<OnceCell<Parsed<'a>>>,
}

impl AttributeCache<'_> {
    pub fn new(index: &TracesIndex) -> Self {
        Self {
            spans: (0..index.spans.len()).map(|_| OnceCell::new()).collect(),
            resources: (0..index.resource_spans.len())
                .map(|_| OnceCell::new())
                .collect(),
        }
    }
}

/// The `KeyValue`s in field `field` of a message body.
#[derive(Debug, Clone, Copy)]
pub struct WireAttributes<'a> {
    body: &'a [u8],
    field: u32,
    parsed: Option<&'a OnceCell<Parsed<'a>>>,
}

/// Each attribute's key and encoded `KeyValue`, read from the body as it goes.
pub struct KeyValues<'a> {
    fields: Fields<'a>,
    field: u32,
}

impl<'a> Iterator for KeyValues<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let field = self.field;
        self.fields
            .by_ref()
            .find_map(|(number, value)| match value {
                FieldValue::Bytes(kv) if number == field => Some((key_of(kv), kv)),
                _ => None,
            })
    }
}

/// Each attribute's key and value.
pub struct WireAttributeIter<'a>(KeyValues<'a>);

impl<'a> Iterator for WireAttributeIter<'a> {
    type Item = (&'a str, AttrValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, kv)| (key, value_of(kv)))
    }
}

impl<'a> Attributes<'a> for WireAttributes<'a> {
    type Iter = WireAttributeIter<'a>;

    fn entries(self) -> WireAttributeIter<'a> {
        WireAttributeIter(self.walk())
    }

    /// Through the keys parsed once when there is a cache: the lookups that follow reuse
    /// them.
    fn entries_where<F: FnMut(&str) -> bool>(
        self,
        mut wanted: F,
    ) -> impl Iterator<Item = (&'a str, AttrValue<'a>)> {
        let keyed = match self.parsed {
            Some(parsed) => Keyed::Parsed(parsed.get_or_init(|| self.keys()).iter()),
            None => Keyed::Walked(self.walk()),
        };
        keyed
            .filter(move |(key, _)| wanted(key))
            .map(|(key, kv)| (key, value_of(kv)))
    }

    fn get(self, key: &str) -> Option<AttrValue<'a>> {
        let Some(parsed) = self.parsed else {
            return self
                .entries()
                .find(|(name, _)| *name == key)
                .map(|(_, value)| value);
        };
        parsed
            .get_or_init(|| self.keys())
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, key_value)| value_of(key_value))
    }
}

impl<'a> WireAttributes<'a> {
    /// Every attribute's key and encoded `KeyValue`, in order.
    fn keys(self) -> Parsed<'a> {
        let mut keys = Vec::with_capacity(TYPICAL_ATTRIBUTES);
        keys.extend(self.walk());
        keys
    }

    fn walk(self) -> KeyValues<'a> {
        KeyValues {
            fields: Fields::new(self.body),
            field: self.field,
        }
    }
}

/// Keys and encoded `KeyValue`s, from the parsed list or from the body.
enum Keyed<'a> {
    Parsed(std::slice::Iter<'a, (&'a str, &'a [u8])>),
    Walked(KeyValues<'a>),
}

impl<'a> Iterator for Keyed<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Keyed::Parsed(parsed) => parsed.next().copied(),
            Keyed::Walked(walk) => walk.next(),
        }
    }
}

/// The key and the `AnyValue` body of a `KeyValue` laid out as encoders write it: one key,
/// then one value that ends the message, both lengths a single byte. Then the key is the
/// last one given and the value the only one, as prost would read them.
#[inline]
fn usual_layout(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let [0x0A, key_len, rest @ ..] = bytes else {
        return None;
    };
    let key_len = usize::from(*key_len);
    let (key, rest) = rest.split_at_checked(key_len)?;
    let [0x12, value_len, value @ ..] = rest else {
        return None;
    };
    (key_len < 0x80 && usize::from(*value_len) == value.len() && value.len() < 0x80)
        .then_some((key, value))
}

/// A `KeyValue`'s key (the last given).
fn key_of(bytes: &[u8]) -> &str {
    if let Some((key, _)) = usual_layout(bytes) {
        return text_of(key);
    }
    Fields::new(bytes)
        .filter_map(|(number, field)| match (number, field) {
            (1, FieldValue::Bytes(text)) => Some(text),
            _ => None,
        })
        .last()
        .map_or("", text_of)
}

/// A `KeyValue`'s value: what its `AnyValue`s set last.
fn value_of(bytes: &[u8]) -> AttrValue<'_> {
    if let Some((_, value)) = usual_layout(bytes) {
        return any_value(value).unwrap_or(AttrValue::Empty);
    }
    Fields::new(bytes)
        .filter_map(|(number, field)| match (number, field) {
            (2, FieldValue::Bytes(any)) => any_value(any),
            _ => None,
        })
        .last()
        .unwrap_or(AttrValue::Empty)
}

/// The value an `AnyValue` body sets last; `None` when it sets none.
fn any_value(bytes: &[u8]) -> Option<AttrValue<'_>> {
    let mut value = None;
    for (number, field) in Fields::new(bytes) {
        value = Some(match (number, field) {
            (1, FieldValue::Bytes(text)) => AttrValue::Str(text_of(text)),
            (2, FieldValue::Varint(flag)) => AttrValue::Bool(flag != 0),
            (3, FieldValue::Varint(number)) => AttrValue::Int(number as i64),
            (4, FieldValue::Fixed64(bits)) => AttrValue::Double(f64::from_bits(bits)),
            (5..=7, _) => AttrValue::Other,
            _ => continue,
        });
    }
    value
}

/// A string field the scan has checked.
fn text_of(bytes: &[u8]) -> &str {
    super::text::as_str(bytes).unwrap_or_default()
}

/// One span of a scanned request.
#[derive(Debug, Clone, Copy)]
pub struct WireSpan<'a> {
    bytes: &'a [u8],
    entry: &'a SpanEntry,
    parsed: Option<&'a OnceCell<Parsed<'a>>>,
}

impl<'a> WireSpan<'a> {
    /// The span's encoded body.
    pub fn body(self) -> &'a [u8] {
        self.entry.frame.body.of(self.bytes)
    }
}

impl<'a> SpanView<'a> for WireSpan<'a> {
    type Attributes = WireAttributes<'a>;

    fn attributes(self) -> WireAttributes<'a> {
        WireAttributes {
            body: self.body(),
            field: SPAN_ATTRIBUTES,
            parsed: self.parsed,
        }
    }
    fn name(self) -> &'a str {
        text_of(self.entry.name.of(self.bytes))
    }
    fn trace_id(self) -> &'a [u8] {
        self.entry.trace_id.of(self.bytes)
    }
    fn span_id(self) -> &'a [u8] {
        self.entry.span_id.of(self.bytes)
    }
    fn parent_span_id(self) -> &'a [u8] {
        self.entry.parent_span_id.of(self.bytes)
    }
    fn start_time_unix_nano(self) -> u64 {
        self.entry.start_time_unix_nano
    }
    fn end_time_unix_nano(self) -> u64 {
        self.entry.end_time_unix_nano
    }
    fn status_code(self) -> i32 {
        self.entry.status_code
    }
    fn may_carry_gen_ai(self) -> bool {
        self.entry.gen_ai_keys
    }
}

/// A scanned trace request: its bytes, their index and, when given, a cache of parsed
/// attributes.
#[derive(Debug, Clone, Copy)]
pub struct WireRequest<'a> {
    bytes: &'a [u8],
    index: &'a TracesIndex,
    cache: Option<&'a AttributeCache<'a>>,
}

impl<'a> WireRequest<'a> {
    /// `index` must be what the scan built for `bytes`; `cache`, one made for `index`.
    pub fn new(
        bytes: &'a [u8],
        index: &'a TracesIndex,
        cache: Option<&'a AttributeCache<'a>>,
    ) -> Self {
        Self {
            bytes,
            index,
            cache,
        }
    }

    /// The position of the span at `location` in [`TracesIndex::spans`].
    pub fn span_index(self, (r, s, i): Location) -> usize {
        self.scope_entry(r, s).spans.start as usize + i
    }

    /// The encoded body of a `ResourceSpans`.
    pub fn resource_spans_body(self, resource: usize) -> &'a [u8] {
        self.index.resource_spans[resource]
            .frame
            .body
            .of(self.bytes)
    }

    /// The encoded body of a `ScopeSpans`.
    pub fn scope_spans_body(self, resource: usize, scope: usize) -> &'a [u8] {
        self.scope_entry(resource, scope).frame.body.of(self.bytes)
    }

    fn scope_entry(self, resource: usize, scope: usize) -> &'a super::index::ScopeSpansEntry {
        let first = self.index.resource_spans[resource].scope_spans.start as usize;
        &self.index.scope_spans[first + scope]
    }
}

impl<'a> TraceRequestView<'a> for WireRequest<'a> {
    type Span = WireSpan<'a>;
    type Attributes = WireAttributes<'a>;

    fn resource_count(self) -> usize {
        self.index.resource_spans.len()
    }
    fn resource_attributes(self, resource: usize) -> WireAttributes<'a> {
        WireAttributes {
            body: self.index.resource_spans[resource].resource.of(self.bytes),
            field: RESOURCE_ATTRIBUTES,
            parsed: self.cache.and_then(|cache| cache.resources.get(resource)),
        }
    }
    fn scope_count(self, resource: usize) -> usize {
        self.index.resource_spans[resource]
            .scope_spans
            .range()
            .len()
    }
    fn scope(self, resource: usize, scope: usize) -> (&'a str, &'a str) {
        let entry = self.scope_entry(resource, scope);
        (
            text_of(entry.scope_name.of(self.bytes)),
            text_of(entry.scope_version.of(self.bytes)),
        )
    }
    fn span_count(self, resource: usize, scope: usize) -> usize {
        self.scope_entry(resource, scope).spans.range().len()
    }
    fn span(self, location: Location) -> WireSpan<'a> {
        let at = self.span_index(location);
        WireSpan {
            bytes: self.bytes,
            entry: &self.index.spans[at],
            parsed: self.cache.and_then(|cache| cache.spans.get(at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::wire::{put_key, put_varint, WireType};

    fn field(out: &mut Vec<u8>, number: u32, body: &[u8]) {
        put_key(out, number, WireType::Len);
        put_varint(out, body.len() as u64);
        out.extend_from_slice(body);
    }

    fn string_value(text: &str) -> Vec<u8> {
        let mut any = Vec::new();
        field(&mut any, 1, text.as_bytes());
        any
    }

    /// The key and value read field by field, as the general path does.
    fn walked(bytes: &[u8]) -> (&str, AttrValue<'_>) {
        let key = Fields::new(bytes)
            .filter_map(|(number, value)| match (number, value) {
                (1, FieldValue::Bytes(text)) => Some(text_of(text)),
                _ => None,
            })
            .last()
            .unwrap_or("");
        let value = Fields::new(bytes)
            .filter_map(|(number, value)| match (number, value) {
                (2, FieldValue::Bytes(any)) => any_value(any),
                _ => None,
            })
            .last()
            .unwrap_or(AttrValue::Empty);
        (key, value)
    }

    #[test]
    fn the_usual_layout_reads_as_the_field_walk_does() {
        let long = "k".repeat(200);
        let mut cases: Vec<Vec<u8>> = Vec::new();
        let mut kv = |parts: &[(u32, &[u8])]| {
            let mut out = Vec::new();
            for (number, body) in parts {
                field(&mut out, *number, body);
            }
            cases.push(out);
        };
        kv(&[(1, b"gen_ai.system"), (2, &string_value("anthropic"))]);
        kv(&[(1, b"empty.value"), (2, b"")]);
        kv(&[(1, long.as_bytes()), (2, &string_value("v"))]);
        kv(&[(1, b"long.value"), (2, &string_value(&long))]);
        kv(&[(2, &string_value("first")), (1, b"value.before.key")]);
        kv(&[(1, b"a"), (1, b"b"), (2, &string_value("twice"))]);
        kv(&[
            (1, b"a"),
            (2, &string_value("one")),
            (2, &string_value("two")),
        ]);
        kv(&[(1, b"no.value")]);
        for case in &cases {
            assert_eq!((key_of(case), value_of(case)), walked(case), "{case:?}");
        }
        assert!(usual_layout(&cases[0]).is_some());
        assert!(usual_layout(&cases[2]).is_none() && usual_layout(&cases[3]).is_none());
    }
}
