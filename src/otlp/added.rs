//! Attributes the agent adds to a span, before they take a representation: a prost
//! `KeyValue` on the decoded path, or the encoded bytes of one appended to the span on the
//! wire path (the same bytes prost would write for it).

use super::view::{AttrValue, Attributes};
use super::wire::{encoded_varint_len, put_key, put_varint, WireType};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use std::borrow::Cow;

/// One attribute to add.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub key: Cow<'static, str>,
    pub value: AddedValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AddedValue {
    Double(f64),
    Text(Cow<'static, str>),
}

/// `Span.attributes`; `KeyValue.key` / `.value`; `AnyValue.string_value` / `.double_value`.
const SPAN_ATTRIBUTES: u32 = 9;
const KEY: u32 = 1;
const VALUE: u32 = 2;
const STRING_VALUE: u32 = 1;
const DOUBLE_VALUE: u32 = 4;

impl Added {
    pub fn double(key: impl Into<Cow<'static, str>>, value: f64) -> Self {
        Self {
            key: key.into(),
            value: AddedValue::Double(value),
        }
    }

    pub fn text(key: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) -> Self {
        Self {
            key: key.into(),
            value: AddedValue::Text(value.into()),
        }
    }

    pub fn to_key_value(&self) -> KeyValue {
        let value = match &self.value {
            AddedValue::Double(number) => Value::DoubleValue(*number),
            AddedValue::Text(text) => Value::StringValue(text.to_string()),
        };
        KeyValue {
            key: self.key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    /// Appends this attribute as an entry of `Span.attributes` (key, length, `KeyValue`).
    pub fn encode_span_attribute(&self, out: &mut Vec<u8>) {
        let value = match &self.value {
            AddedValue::Double(number) => ValueRef::Double(*number),
            AddedValue::Text(text) => ValueRef::Text(text),
        };
        put_attribute(out, SPAN_ATTRIBUTES, &self.key, value);
    }
}

/// A value [`put_attribute`] writes.
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    Double(f64),
    Text(&'a str),
}

/// Appends a `KeyValue` as entry `field` of the message being written (key, length, the
/// `KeyValue`), the bytes prost would write for it.
pub fn put_attribute(out: &mut Vec<u8>, field: u32, key: &str, value: ValueRef<'_>) {
    let value_len = match value {
        ValueRef::Double(_) => 1 + 8,
        ValueRef::Text(text) => field_len(text.len()),
    };
    // An empty key is the field's default, which prost leaves out.
    let key_len = if key.is_empty() {
        0
    } else {
        field_len(key.len())
    };
    put_key(out, field, WireType::Len);
    put_varint(out, (key_len + field_len(value_len)) as u64);
    if !key.is_empty() {
        put_key(out, KEY, WireType::Len);
        put_varint(out, key.len() as u64);
        out.extend_from_slice(key.as_bytes());
    }
    put_key(out, VALUE, WireType::Len);
    put_varint(out, value_len as u64);
    match value {
        ValueRef::Double(number) => {
            put_key(out, DOUBLE_VALUE, WireType::Fixed64);
            out.extend_from_slice(&number.to_le_bytes());
        }
        ValueRef::Text(text) => {
            put_key(out, STRING_VALUE, WireType::Len);
            put_varint(out, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// A length-delimited field with a one-byte key and a `len`-byte body.
pub fn field_len(len: usize) -> usize {
    1 + encoded_varint_len(len as u64) + len
}

type AddedIter<'a> =
    std::iter::Map<std::slice::Iter<'a, Added>, fn(&'a Added) -> (&'a str, AttrValue<'a>)>;

impl<'a> Attributes<'a> for &'a [Added] {
    type Iter = AddedIter<'a>;

    fn entries(self) -> AddedIter<'a> {
        self.iter().map(|added| {
            let value = match &added.value {
                AddedValue::Double(number) => AttrValue::Double(*number),
                AddedValue::Text(text) => AttrValue::Str(text),
            };
            (&added.key, value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoded_attribute_is_what_prost_writes() {
        let long = "x".repeat(200);
        for added in [
            Added::double("gen_ai.usage.cost.amount", 0.0774),
            Added::double("k", f64::NAN),
            Added::text("gen_ai.usage.cost.price_id", "claude-sonnet-4-6@2026-01-01"),
            Added::text(long.clone(), long.clone()),
            Added::text("", ""),
        ] {
            let mut ours = Vec::new();
            added.encode_span_attribute(&mut ours);
            let mut prost = Vec::new();
            prost::encoding::message::encode(SPAN_ATTRIBUTES, &added.to_key_value(), &mut prost);
            assert_eq!(ours, prost, "{added:?}");
        }
    }
}
