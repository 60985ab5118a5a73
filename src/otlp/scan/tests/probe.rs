//! A sweep of every message reachable from each export request, at its place in a request:
//! each field number 1 to 17 (and two unknown ones) with every wire type and a few payloads
//! (empty, invalid UTF-8, a partial element, a nested message, groups). prost is the oracle;
//! the sweep checks the schema tables as much as the scan.

use super::{agree, cat, key, len, varint, Signal, Verdict};
use crate::otlp::schema::{self, Kind, Msg, Schema};
use crate::otlp::wire::WireType;
use std::collections::HashMap;

/// Every message reachable from `root` once, with the field numbers leading to it.
fn reachable(root: &'static Schema) -> Vec<(&'static Schema, Vec<(&'static Schema, u32)>)> {
    let mut found: Vec<(&'static Schema, Vec<(&'static Schema, u32)>)> = vec![(root, Vec::new())];
    let mut next = 0;
    while next < found.len() {
        let (schema, path) = found[next].clone();
        for field in schema.fields {
            if let Kind::Message(child) = field.kind {
                if !found.iter().any(|(s, _)| std::ptr::eq(*s, child)) {
                    let mut path = path.clone();
                    path.push((schema, field.number));
                    found.push((child, path));
                }
            }
        }
        next += 1;
    }
    found
}

/// Fields a message needs to pass validate.rs, put before the probe.
fn filler(schema: &Schema) -> Vec<u8> {
    match schema.msg {
        Msg::Span | Msg::Link => cat(&[&len(1, &[1; 16]), &len(2, &[2; 8])]),
        _ => Vec::new(),
    }
}

/// `inner` as the body of the last message of `path`, wrapped up to the request.
fn wrap(target: &Schema, path: &[(&'static Schema, u32)], inner: &[u8]) -> Vec<u8> {
    let mut body = cat(&[&filler(target), inner]);
    for (schema, number) in path.iter().rev() {
        body = cat(&[&filler(schema), &len(*number, &body)]);
    }
    body
}

fn probes(number: u32) -> Vec<Vec<u8>> {
    let mut ten = key(number, WireType::Varint);
    ten.extend_from_slice(&[0xFF; 9]);
    ten.push(0x01);
    let mut overrun = key(number, WireType::Len);
    overrun.extend_from_slice(&[0x05, 0x01]);
    let start = key(number, WireType::StartGroup);
    let end = key(number, WireType::EndGroup);
    vec![
        varint(number, 1),
        ten,
        cat(&[&key(number, WireType::Fixed32), &[1, 2, 3, 4]]),
        cat(&[&key(number, WireType::Fixed64), &[0; 8]]),
        len(number, &[]),
        len(number, &[0xFF]),
        len(number, &[0x61]),
        len(number, &[0; 4]),
        len(number, &[0; 8]),
        len(number, &[0xC3, 0xA9]),
        len(number, &[0x08, 0x01]),
        len(number, &[0x0A, 0x00]),
        len(number, &[0x12, 0x01, 0x80]),
        cat(&[&start, &end]),
        cat(&[&start, &varint(1, 1), &end]),
        cat(&[&start, &key(number + 1, WireType::EndGroup)]),
        end.clone(),
        overrun,
    ]
}

#[test]
fn every_field_of_every_message_is_read_as_prost_reads_it() {
    let roots = [
        (Signal::Traces, &schema::EXPORT_TRACE_SERVICE_REQUEST),
        (Signal::Metrics, &schema::EXPORT_METRICS_SERVICE_REQUEST),
        (Signal::Logs, &schema::EXPORT_LOGS_SERVICE_REQUEST),
    ];
    let mut seen: HashMap<&'static str, (usize, usize)> = HashMap::new();
    for (signal, root) in roots {
        for (target, path) in reachable(root) {
            for number in (1..=17).chain([100, (1 << 29) - 2]) {
                for probe in probes(number) {
                    let bytes = wrap(target, &path, &probe);
                    let verdict = agree(signal, &bytes).unwrap_or_else(|error| {
                        panic!("{} field {number}, probe {probe:?}: {error}", target.name)
                    });
                    let tally = seen.entry(target.name).or_default();
                    match verdict {
                        Verdict::Malformed => tally.1 += 1,
                        _ => tally.0 += 1,
                    }
                }
            }
        }
    }
    // Every message was reached, and each had probes both ways.
    assert_eq!(seen.len(), schema::ALL.len());
    for (name, (decoded, refused)) in seen {
        assert!(decoded > 0 && refused > 0, "{name}: {decoded} {refused}");
    }
}
