//! Generated requests, encoded by prost, then reshaped (unknown fields and groups at every
//! level, non-minimal varints, duplicated fields, packed fields unpacked) and mutated byte by
//! byte: the scan must say what prost and validate.rs say of every one of them.

use super::strategies::{logs_request, metrics_request, traces_request};
use super::{agree, Signal, Verdict};
use crate::otlp::schema::{self, Kind, Label, Schema, Width};
use crate::otlp::wire::{put_key, Reader, WireType};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use prost::Message;

#[derive(Debug, Clone)]
pub(super) enum Mutation {
    Flip(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
    Splice(Index, Vec<u8>),
    Overwrite(Index, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), vec(any::<u8>(), 1..6))
            .prop_map(|(at, bytes)| Mutation::Splice(at, bytes)),
        (any::<Index>(), vec(any::<u8>(), 1..4))
            .prop_map(|(at, bytes)| Mutation::Overwrite(at, bytes)),
    ]
}

fn mutate(bytes: &[u8], mutation: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = |index: &Index, extra: usize| index.index(out.len() + extra);
    match mutation {
        Mutation::Flip(index, mask) if !out.is_empty() => {
            let i = at(index, 0);
            out[i] ^= mask;
        }
        Mutation::Insert(index, byte) => {
            let i = at(index, 1);
            out.insert(i, *byte);
        }
        Mutation::Delete(index) if !out.is_empty() => {
            let i = at(index, 0);
            out.remove(i);
        }
        Mutation::Truncate(index) if !out.is_empty() => {
            let i = at(index, 0);
            out.truncate(i);
        }
        Mutation::Splice(index, bytes) => {
            let i = at(index, 1);
            out.splice(i..i, bytes.iter().copied());
        }
        Mutation::Overwrite(index, bytes) if !out.is_empty() => {
            let i = at(index, 0);
            for (offset, byte) in bytes.iter().enumerate() {
                if let Some(slot) = out.get_mut(i + offset) {
                    *slot = *byte;
                }
            }
        }
        _ => {}
    }
    out
}

/// A small deterministic generator for the reshaping choices.
pub(super) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// `value` as a varint, sometimes padded to a non-minimal width (at most 10 bytes).
fn varint(out: &mut Vec<u8>, mut value: u64, rng: &mut Rng) {
    let minimal = crate::otlp::wire::encoded_varint_len(value);
    let width = if rng.one_in(6) {
        minimal + rng.below(11 - minimal as u64) as usize
    } else {
        minimal
    };
    for _ in 1..width {
        out.push((value as u8 & 0x7F) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn key(out: &mut Vec<u8>, number: u32, wire_type: WireType, rng: &mut Rng) {
    varint(out, (u64::from(number) << 3) | wire_type as u64, rng);
}

/// An unknown field of `schema`: any wire type, groups nested up to `depth`.
fn unknown(out: &mut Vec<u8>, schema: &Schema, rng: &mut Rng, depth: u32) {
    let candidates = [17, 18, 31, 100, 2047, (1 << 29) - 1];
    let number = candidates[rng.below(candidates.len() as u64) as usize];
    let number = if schema.field(number).is_some() {
        1 << 20
    } else {
        number
    };
    match rng.below(if depth > 0 { 5 } else { 4 }) {
        0 => {
            key(out, number, WireType::Varint, rng);
            let value = rng.next() >> rng.below(64);
            varint(out, value, rng);
        }
        1 => {
            key(out, number, WireType::Fixed32, rng);
            out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        2 => {
            key(out, number, WireType::Fixed64, rng);
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        3 => {
            key(out, number, WireType::Len, rng);
            let len = rng.below(6);
            varint(out, len, rng);
            for _ in 0..len {
                out.push(rng.next() as u8);
            }
        }
        _ => {
            key(out, number, WireType::StartGroup, rng);
            for _ in 0..rng.below(3) {
                unknown(out, schema, rng, depth - 1);
            }
            key(out, number, WireType::EndGroup, rng);
        }
    }
}

/// Re-encodes a message prost encoded: the same fields in the same order, with unknown fields
/// between them, varints padded, a field now and then given twice, packed fields sometimes
/// unpacked. None when the bytes do not parse (they always do when prost wrote them).
pub(super) fn reshape(
    schema: &'static Schema,
    bytes: &[u8],
    rng: &mut Rng,
    duplicates: bool,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let mut reader = Reader::new(bytes);
    while !reader.is_done() {
        if rng.one_in(10) {
            unknown(&mut out, schema, rng, 2);
        }
        let (number, wire_type) = reader.key().ok()?;
        let field = schema.field(number)?;
        let mut encoded = Vec::new();
        match (field.kind, wire_type) {
            (Kind::Scalar(scalar), WireType::Len) if field.label == Label::Repeated => {
                let mut packed = reader.len_delimited().ok()?;
                let body = packed.rest();
                if rng.one_in(2) {
                    while !packed.is_done() {
                        match scalar.width() {
                            Width::Varint => {
                                let value = packed.varint().ok()?;
                                key(&mut encoded, number, WireType::Varint, rng);
                                varint(&mut encoded, value, rng);
                            }
                            Width::Fixed32 => {
                                let value = packed.fixed32().ok()?;
                                key(&mut encoded, number, WireType::Fixed32, rng);
                                encoded.extend_from_slice(&value.to_le_bytes());
                            }
                            Width::Fixed64 => {
                                let value = packed.fixed64().ok()?;
                                key(&mut encoded, number, WireType::Fixed64, rng);
                                encoded.extend_from_slice(&value.to_le_bytes());
                            }
                        }
                    }
                } else {
                    key(&mut encoded, number, WireType::Len, rng);
                    varint(&mut encoded, body.len() as u64, rng);
                    encoded.extend_from_slice(body);
                }
            }
            (Kind::Scalar(_), WireType::Varint) => {
                let value = reader.varint().ok()?;
                key(&mut encoded, number, wire_type, rng);
                varint(&mut encoded, value, rng);
            }
            (Kind::Scalar(_), WireType::Fixed32) => {
                let value = reader.fixed32().ok()?;
                key(&mut encoded, number, wire_type, rng);
                encoded.extend_from_slice(&value.to_le_bytes());
            }
            (Kind::Scalar(_), WireType::Fixed64) => {
                let value = reader.fixed64().ok()?;
                key(&mut encoded, number, wire_type, rng);
                encoded.extend_from_slice(&value.to_le_bytes());
            }
            (Kind::String | Kind::Bytes, WireType::Len) => {
                let body = reader.len_delimited().ok()?.rest();
                key(&mut encoded, number, wire_type, rng);
                varint(&mut encoded, body.len() as u64, rng);
                encoded.extend_from_slice(body);
            }
            (Kind::Message(child), WireType::Len) => {
                let body = reader.len_delimited().ok()?.rest();
                let body = reshape(child, body, rng, duplicates)?;
                key(&mut encoded, number, wire_type, rng);
                varint(&mut encoded, body.len() as u64, rng);
                encoded.extend_from_slice(&body);
            }
            _ => return None,
        }
        out.extend_from_slice(&encoded);
        if duplicates && rng.one_in(25) {
            out.extend_from_slice(&encoded);
        }
    }
    if rng.one_in(8) {
        unknown(&mut out, schema, rng, 2);
    }
    Some(out)
}

/// `bytes`, its reshaped form and mutations of both agree with prost and validate.rs.
fn all_agree(
    signal: Signal,
    root: &'static Schema,
    bytes: &[u8],
    mutations: &[Mutation],
    seed: u64,
) -> Result<(), TestCaseError> {
    let verdict = agree(signal, bytes).map_err(TestCaseError::fail)?;
    prop_assert_ne!(&verdict, &Verdict::Malformed);
    if signal == Signal::Traces && verdict == Verdict::Accepted {
        let index = crate::otlp::scan::scan_traces(bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!index.unusual, "prost's own encoding is not unusual");
    }
    let mut rng = Rng(seed | 1);
    let reshaped = reshape(root, bytes, &mut rng, true).ok_or(TestCaseError::fail("reshape"))?;
    agree(signal, &reshaped).map_err(|e| TestCaseError::fail(format!("reshaped: {e}")))?;
    for mutation in mutations {
        for base in [bytes, &reshaped[..]] {
            let mutated = mutate(base, mutation);
            agree(signal, &mutated)
                .map_err(|e| TestCaseError::fail(format!("{mutation:?} of {base:?}: {e}")))?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn traces_scan_agrees_with_prost_and_validate(
        request in traces_request(),
        mutations in vec(mutation(), 1..5),
        seed in any::<u64>(),
    ) {
        let bytes = request.encode_to_vec();
        all_agree(Signal::Traces, &schema::EXPORT_TRACE_SERVICE_REQUEST, &bytes, &mutations, seed)?;
    }

    #[test]
    fn metrics_scan_agrees_with_prost_and_validate(
        request in metrics_request(),
        mutations in vec(mutation(), 1..5),
        seed in any::<u64>(),
    ) {
        let bytes = request.encode_to_vec();
        all_agree(Signal::Metrics, &schema::EXPORT_METRICS_SERVICE_REQUEST, &bytes, &mutations, seed)?;
    }

    #[test]
    fn logs_scan_agrees_with_prost_and_validate(
        request in logs_request(),
        mutations in vec(mutation(), 1..5),
        seed in any::<u64>(),
    ) {
        let bytes = request.encode_to_vec();
        all_agree(Signal::Logs, &schema::EXPORT_LOGS_SERVICE_REQUEST, &bytes, &mutations, seed)?;
    }

    /// Reshaping without duplicates keeps what prost decodes (unknown fields, padding and
    /// unpacking are invisible to it), and so the scan's verdict.
    #[test]
    fn reshaping_without_duplicates_keeps_the_verdict(
        request in traces_request(),
        seed in any::<u64>(),
    ) {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        let bytes = request.encode_to_vec();
        let mut rng = Rng(seed | 1);
        let root = &schema::EXPORT_TRACE_SERVICE_REQUEST;
        let reshaped = reshape(root, &bytes, &mut rng, false).unwrap();
        let decoded = ExportTraceServiceRequest::decode(&reshaped[..]).unwrap();
        prop_assert_eq!(decoded.encode_to_vec(), bytes.clone());
        let verdict = agree(Signal::Traces, &bytes).map_err(TestCaseError::fail)?;
        prop_assert_eq!(agree(Signal::Traces, &reshaped).map_err(TestCaseError::fail)?, verdict);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// What OpenLLMetry and OpenInference really sent (the SDK's own encoder), reshaped and
    /// mutated.
    #[test]
    fn captured_requests_of_real_instrumentation_agree(
        mutations in vec(mutation(), 1..5),
        seed in any::<u64>(),
    ) {
        for (name, bytes) in crate::test_support::instrumentation_corpus() {
            prop_assert_eq!(agree(Signal::Traces, &bytes), Ok(Verdict::Accepted), "{}", name);
            // Read as the other signals too, as the fuzz target reads its seeds.
            for signal in [Signal::Metrics, Signal::Logs] {
                agree(signal, &bytes).map_err(TestCaseError::fail)?;
            }
            all_agree(Signal::Traces, &schema::EXPORT_TRACE_SERVICE_REQUEST, &bytes, &mutations, seed)?;
        }
    }
}

#[test]
fn the_varint_padding_stays_within_ten_bytes() {
    let mut rng = Rng(7);
    for value in [0, 1, 300, u64::MAX, 1 << 63] {
        for _ in 0..50 {
            let mut out = Vec::new();
            varint(&mut out, value, &mut rng);
            assert!(out.len() <= 10);
            assert_eq!(Reader::new(&out).varint(), Ok(value));
        }
    }
    let mut out = Vec::new();
    put_key(&mut out, 1, WireType::Len);
    assert_eq!(out, [0x0A]);
}
