//! Protobuf wire format, read and written by hand: varints, keys, fixed-width values,
//! length-delimited fields and the skipping of unknown fields, each refusing exactly what prost
//! 0.14 refuses (`prost/src/encoding.rs`, `encoding/varint.rs`). The writing helpers are the few
//! the splice needs to build new headers.
//!
//! A [`Reader`] holds the input cut at the end of the message being read, and positions in the
//! whole input; a length-delimited field gives a reader cut at that field's end. So no read can
//! pass the end of its parent, and a length that would is refused where it is read (prost reads
//! on and refuses when the parent ends: the same inputs are refused).

/// The wire type of a field, the low three bits of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

impl WireType {
    /// The wire type of key bits `value`; 6 and 7 are none.
    pub const fn from_bits(value: u64) -> Option<WireType> {
        match value {
            0 => Some(WireType::Varint),
            1 => Some(WireType::Fixed64),
            2 => Some(WireType::Len),
            3 => Some(WireType::StartGroup),
            4 => Some(WireType::EndGroup),
            5 => Some(WireType::Fixed32),
            _ => None,
        }
    }
}

/// Where the bytes stopped making sense, and why (words close to prost's own messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError {
    /// Offset in the whole input where the unreadable item starts.
    pub at: usize,
    pub what: &'static str,
}

pub const INVALID_VARINT: &str = "invalid varint";
pub const INVALID_KEY: &str = "invalid key value (above u32::MAX)";
pub const INVALID_WIRE_TYPE: &str = "invalid wire type value (6 or 7)";
pub const INVALID_TAG: &str = "invalid tag value: 0";
pub const BUFFER_UNDERFLOW: &str = "buffer underflow";
pub const LENGTH_EXCEEDED: &str = "delimited length exceeded";
pub const UNEXPECTED_WIRE_TYPE: &str = "unexpected wire type";
pub const UNEXPECTED_END_GROUP: &str = "unexpected end group tag";
pub const INVALID_STRING: &str = "invalid string value: data is not UTF-8 encoded";
pub const RECURSION_LIMIT: &str = "recursion limit reached";

/// prost's recursion budget: the root message's fields are read with 100; each nested message,
/// group and skipped unknown field needs a budget above 0, and a nested message or a group's
/// fields are read with one less.
pub const RECURSION_LIMIT_DEPTH: u32 = 100;

/// A cursor over one message of the input: `bytes` is the input cut at the message's end,
/// `pos` an offset in the whole input.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the whole of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// The offset of the next byte to read.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The offset just past this reader's message.
    #[inline]
    pub fn end(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the whole message has been read.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn error(&self, at: usize, what: &'static str) -> WireError {
        WireError { at, what }
    }

    /// A varint as prost decodes one: at most 10 bytes, the 10th at most 0x01; non-minimal
    /// encodings are accepted.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, WireError> {
        match self.bytes.get(self.pos) {
            Some(&byte) if byte < 0x80 => {
                self.pos += 1;
                Ok(u64::from(byte))
            }
            _ => self.varint_slow(),
        }
    }

    #[inline(never)]
    fn varint_slow(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut value = 0u64;
        for count in 0..10 {
            let Some(&byte) = self.bytes.get(start + count) else {
                return Err(self.error(start, INVALID_VARINT));
            };
            value |= u64::from(byte & 0x7F) << (count * 7);
            if byte < 0x80 {
                if count == 9 && byte >= 0x02 {
                    return Err(self.error(start, INVALID_VARINT));
                }
                self.pos = start + count + 1;
                return Ok(value);
            }
        }
        Err(self.error(start, INVALID_VARINT))
    }

    /// A field key: its field number and wire type. Refused: a key above `u32::MAX`, wire types
    /// 6 and 7, field number 0.
    #[inline]
    pub fn key(&mut self) -> Result<(u32, WireType), WireError> {
        let start = self.pos;
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(self.error(start, INVALID_KEY));
        }
        let Some(wire_type) = WireType::from_bits(key & 0x07) else {
            return Err(self.error(start, INVALID_WIRE_TYPE));
        };
        let number = (key as u32) >> 3;
        if number == 0 {
            return Err(self.error(start, INVALID_TAG));
        }
        Ok((number, wire_type))
    }

    /// The next `N` bytes.
    #[inline]
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let end = self.pos.checked_add(N);
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(slice) => {
                let mut out = [0u8; N];
                out.copy_from_slice(slice);
                self.pos += N;
                Ok(out)
            }
            None => Err(self.error(self.pos, BUFFER_UNDERFLOW)),
        }
    }

    /// A little-endian 32-bit value (fixed32, sfixed32, float).
    #[inline]
    pub fn fixed32(&mut self) -> Result<u32, WireError> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    /// A little-endian 64-bit value (fixed64, sfixed64, double).
    #[inline]
    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    /// A length-delimited field's body (after its key): a reader over it, this reader moved
    /// past it. A length past this reader's end is refused.
    #[inline]
    pub fn len_delimited(&mut self) -> Result<Reader<'a>, WireError> {
        let start = self.pos;
        let len = self.varint()?;
        let body = self.pos;
        let available = (self.bytes.len() - body) as u64;
        if len > available {
            return Err(self.error(start, LENGTH_EXCEEDED));
        }
        let end = body + len as usize;
        let Some(bytes) = self.bytes.get(..end) else {
            return Err(self.error(start, LENGTH_EXCEEDED));
        };
        self.pos = end;
        Ok(Reader { bytes, pos: body })
    }

    /// The bytes from this reader's position to its end.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// Skips the value of an unknown field whose key (`number`, `wire_type`) was just read, as
    /// prost's `skip_field` does with `budget` left: refused when the budget is spent, and for
    /// a group, when its end tag is missing or names another field. Sets `groups` when a
    /// group was skipped.
    pub fn skip(
        &mut self,
        number: u32,
        wire_type: WireType,
        budget: u32,
        groups: &mut bool,
    ) -> Result<(), WireError> {
        let at = self.pos;
        if budget == 0 {
            return Err(self.error(at, RECURSION_LIMIT));
        }
        match wire_type {
            WireType::Varint => self.varint().map(|_| ()),
            WireType::Fixed32 => self.fixed32().map(|_| ()),
            WireType::Fixed64 => self.fixed64().map(|_| ()),
            WireType::Len => self.len_delimited().map(|_| ()),
            WireType::StartGroup => {
                *groups = true;
                loop {
                    let key_at = self.pos;
                    let (inner, inner_type) = self.key()?;
                    if inner_type == WireType::EndGroup {
                        if inner != number {
                            return Err(self.error(key_at, UNEXPECTED_END_GROUP));
                        }
                        return Ok(());
                    }
                    self.skip(inner, inner_type, budget - 1, groups)?;
                }
            }
            WireType::EndGroup => Err(self.error(at, UNEXPECTED_END_GROUP)),
        }
    }
}

/// How many bytes `value` takes as a minimal varint (1 to 10).
#[inline]
pub const fn encoded_varint_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends `value` as a minimal varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7F) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the key of field `field` with `wire_type`. `field` must be 1..=2^29-1.
#[inline]
pub fn put_key(out: &mut Vec<u8>, field: u32, wire_type: WireType) {
    debug_assert!((1..1 << 29).contains(&field));
    put_varint(out, (u64::from(field) << 3) | wire_type as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<(u64, usize), WireError> {
        let mut reader = Reader::new(bytes);
        reader.varint().map(|value| (value, reader.pos()))
    }

    #[test]
    fn varints_follow_prost_at_the_tenth_byte() {
        let mut ten = vec![0xFF; 9];
        ten.push(0x01);
        assert_eq!(read(&ten), Ok((u64::MAX, 10)));
        ten[9] = 0x02;
        assert_eq!(read(&ten).unwrap_err().what, INVALID_VARINT);
        let eleven = [
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
        ];
        assert_eq!(read(&eleven).unwrap_err().what, INVALID_VARINT);
        assert_eq!(read(&[0x80, 0x80]).unwrap_err().what, INVALID_VARINT);
        assert_eq!(read(&[]).unwrap_err().what, INVALID_VARINT);
        // Non-minimal: 0 written in three bytes.
        assert_eq!(read(&[0x80, 0x80, 0x00]), Ok((0, 3)));
    }

    #[test]
    fn keys_refuse_what_prost_refuses() {
        let key = |bytes: &[u8]| Reader::new(bytes).key();
        assert_eq!(key(&[0x08]), Ok((1, WireType::Varint)));
        assert_eq!(key(&[0x00]).unwrap_err().what, INVALID_TAG);
        assert_eq!(key(&[0x0E]).unwrap_err().what, INVALID_WIRE_TYPE);
        assert_eq!(key(&[0x0F]).unwrap_err().what, INVALID_WIRE_TYPE);
        // 2^32 = five bytes 0x80 0x80 0x80 0x80 0x10.
        assert_eq!(
            key(&[0x80, 0x80, 0x80, 0x80, 0x10]).unwrap_err().what,
            INVALID_KEY
        );
        // u32::MAX: field 2^29 - 1, wire type 7.
        assert_eq!(
            key(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).unwrap_err().what,
            INVALID_WIRE_TYPE
        );
        assert_eq!(
            key(&[0xFD, 0xFF, 0xFF, 0xFF, 0x0F]),
            Ok(((1 << 29) - 1, WireType::Fixed32))
        );
    }

    #[test]
    fn a_length_past_the_parent_is_refused() {
        let bytes = [0x03, 1, 2, 3, 9];
        let mut outer = Reader::new(&bytes);
        let mut body = outer.len_delimited().unwrap();
        assert_eq!((body.pos(), body.end(), outer.pos()), (1, 4, 4));
        assert_eq!(body.fixed32().unwrap_err().what, BUFFER_UNDERFLOW);
        let mut short = Reader::new(&[0x05, 1, 2]);
        assert_eq!(short.len_delimited().unwrap_err().what, LENGTH_EXCEEDED);
    }

    #[test]
    fn groups_are_skipped_when_matched_within_the_budget() {
        // Group 1 holding a varint field 2 and an empty group 3.
        let bytes = [0x10, 0x05, 0x1B, 0x1C, 0x0C, 0xFF];
        let mut groups = false;
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.skip(1, WireType::StartGroup, 3, &mut groups), Ok(()));
        assert_eq!((reader.pos(), groups), (5, true));
        // The fields inside a group are skipped with one less: a budget of 1 is not enough.
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.skip(1, WireType::StartGroup, 2, &mut groups), Ok(()));
        let mut reader = Reader::new(&bytes);
        let error = reader.skip(1, WireType::StartGroup, 1, &mut groups);
        assert_eq!(error.unwrap_err().what, RECURSION_LIMIT);
        // An end tag naming another field.
        let mut reader = Reader::new(&[0x14]);
        let error = reader.skip(1, WireType::StartGroup, 5, &mut groups);
        assert_eq!(error.unwrap_err().what, UNEXPECTED_END_GROUP);
        let mut reader = Reader::new(&[]);
        let error = reader.skip(1, WireType::EndGroup, 5, &mut groups);
        assert_eq!(error.unwrap_err().what, UNEXPECTED_END_GROUP);
    }

    #[test]
    fn written_varints_are_minimal() {
        for value in [0, 1, 127, 128, 16383, 16384, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out.len(), encoded_varint_len(value));
            assert_eq!(out.len(), prost::encoding::encoded_len_varint(value));
            assert_eq!(read(&out), Ok((value, out.len())));
        }
        let mut out = Vec::new();
        put_key(&mut out, 15, WireType::Len);
        put_key(&mut out, 16, WireType::Fixed32);
        assert_eq!(out, [0x7A, 0x85, 0x01]);
    }
}
