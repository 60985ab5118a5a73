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

use super::index::{ByteRange, Frame, TracesIndex};
use super::schema::{self, Field, Kind, Label, Msg, Schema, Width};
use super::text;
use super::validate::InvalidRequest;
use super::wire::{self, Reader, WireError, WireType};
use signals::{Logs, Metrics, Traces};

mod signals;
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
    let (traces, groups) = walk(
        &schema::EXPORT_TRACE_SERVICE_REQUEST,
        bytes,
        Traces::new(bytes),
    )?;
    Ok(traces.finish(groups)?)
}

/// Validates an `ExportMetricsServiceRequest`; its number of data points.
pub fn scan_metrics(bytes: &[u8]) -> Result<u64, ScanError> {
    let (metrics, _) = walk(
        &schema::EXPORT_METRICS_SERVICE_REQUEST,
        bytes,
        Metrics::new(bytes),
    )?;
    Ok(metrics.finish()?)
}

/// Validates an `ExportLogsServiceRequest`; its number of log records.
pub fn scan_logs(bytes: &[u8]) -> Result<u64, ScanError> {
    let (logs, _) = walk(
        &schema::EXPORT_LOGS_SERVICE_REQUEST,
        bytes,
        Logs::new(bytes),
    )?;
    Ok(logs.finish()?)
}

/// What a signal reads during the walk. `msg` is the message the field belongs to (for
/// `enter`/`exit`, the message entered); every method has a no-op default. A visitor is not
/// told of `KeyValue` and `AnyValue` messages nor of anything inside them, only of each
/// attribute's key: the walk reads attributes on a path of their own.
trait Visitor {
    /// A message field was found; its body is walked next.
    fn enter(&mut self, _msg: Msg, _frame: Frame) {}
    /// The body of the message last entered was walked.
    fn exit(&mut self, _msg: Msg) {}
    /// A scalar field (not packed), as the raw varint or fixed-width bits.
    fn scalar(&mut self, _msg: Msg, _field: u32, _value: u64) {}
    /// A string (already UTF-8 checked) or bytes field.
    fn bytes(&mut self, _msg: Msg, _field: u32, _value: ByteRange) {}
    /// The key of a `KeyValue` in a field of `parent`, as prost keeps it: the last given,
    /// empty when none is.
    fn attribute_key(&mut self, _parent: Msg, _key: &[u8]) {}
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
    /// are the table's. The visitor is told of the key, not of what is inside.
    fn key_value(&mut self, parent: Msg, mut reader: Reader<'_>, budget: u32) -> Result<(), Stop> {
        const SCHEMA: &Schema = &schema::KEY_VALUE;
        let mut key: &[u8] = &[];
        while !reader.is_done() {
            let tag = reader.pos();
            match read!(self, reader.key(), SCHEMA.name) {
                (1, WireType::Len) => key = self.utf8(&mut reader, KEY_VALUE_KEY)?,
                (2, WireType::Len) if budget > 0 => {
                    let body = read!(self, reader.len_delimited(), KEY_VALUE_VALUE);
                    self.any_value(body, budget - 1)?;
                }
                (number, wire_type) => {
                    self.one_slow(SCHEMA, number, wire_type, &mut reader, tag, budget)?
                }
            }
        }
        self.visitor.attribute_key(parent, key);
        Ok(())
    }

    /// An `AnyValue` as [`Self::key_value`] reads a `KeyValue`: scalar and string members
    /// here, arrays, lists and the rest through the table.
    fn any_value(&mut self, mut reader: Reader<'_>, budget: u32) -> Result<(), Stop> {
        const SCHEMA: &Schema = &schema::ANY_VALUE;
        while !reader.is_done() {
            let tag = reader.pos();
            match read!(self, reader.key(), SCHEMA.name) {
                (1, WireType::Len) => {
                    self.utf8(&mut reader, ANY_VALUE_STRING)?;
                }
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

    /// A string field's length and UTF-8 body; the body.
    #[inline(always)]
    fn utf8<'a>(&mut self, reader: &mut Reader<'a>, name: &'static str) -> Result<&'a [u8], Stop> {
        let body = read!(self, reader.len_delimited(), name);
        if text::as_str(body.rest()).is_none() {
            return Err(self.fail_at(body.pos(), wire::INVALID_STRING, name));
        }
        Ok(body.rest())
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
                if matches!(field.kind, Kind::String) && text::as_str(body.rest()).is_none() {
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
                    Msg::KeyValue => self.key_value(msg, body, budget - 1)?,
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
