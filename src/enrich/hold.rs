//! The attribution hold: a priced span whose attribution keys live on an ancestor that has not
//! arrived yet waits, bounded in time, spans and bytes, for that ancestor to arrive in a later
//! request. It leaves when every key is found, when its chain reaches the trace's root, or when
//! its wait ends — then with what is known.

use crate::metrics::CallRecord;
use crate::otlp::added::Added;
use crate::otlp::view::{Attributes, SpanView, TraceRequestView};
use crate::telemetry::label_values;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A span waiting for its ancestors, with everything needed to send it on its own.
#[derive(Debug, Clone)]
pub struct HeldSpan {
    pub resource: Option<Resource>,
    pub resource_schema_url: String,
    pub scope: Option<InstrumentationScope>,
    pub scope_schema_url: String,
    pub span: Span,
    pub record: CallRecord,
    /// Attribution keys not found yet.
    pub missing: Vec<String>,
    deadline: Instant,
    bytes: usize,
}

impl HeldSpan {
    pub fn new(
        resource: Option<Resource>,
        resource_schema_url: String,
        scope: Option<InstrumentationScope>,
        scope_schema_url: String,
        span: Span,
        record: CallRecord,
        missing: Vec<String>,
    ) -> Self {
        let bytes = span.encoded_len() + resource.as_ref().map_or(0, Message::encoded_len) + 256;
        Self {
            resource,
            resource_schema_url,
            scope,
            scope_schema_url,
            span,
            record,
            missing,
            deadline: Instant::now(),
            bytes,
        }
    }
}

/// Why a held span left the hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Every missing key was found on an ancestor.
    Resolved,
    /// The ancestors up to the trace's root arrived; some keys are on none of them.
    ReachedRoot,
    /// The wait ended before the ancestors arrived.
    Timeout,
    /// The agent is stopping.
    Shutdown,
}

label_values!(Release {
    Resolved => "resolved",
    ReachedRoot => "reached_root",
    Timeout => "timeout",
    Shutdown => "shutdown",
});

/// A span of a trace with held spans: its parent and the attribution values it carries.
#[derive(Debug, Clone)]
struct KnownSpan {
    parent: Vec<u8>,
    values: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct TraceState {
    held: Vec<HeldSpan>,
    known: HashMap<Vec<u8>, KnownSpan>,
    /// Bytes counted for `known`.
    known_bytes: usize,
}

/// Every held span, by trace.
#[derive(Debug)]
pub struct HoldBuffer {
    keys: Vec<String>,
    copy_to_span: bool,
    max_wait: Duration,
    max_spans: usize,
    max_bytes: usize,
    traces: HashMap<Vec<u8>, TraceState>,
    spans: usize,
    bytes: usize,
}

impl HoldBuffer {
    pub fn new(
        keys: Vec<String>,
        copy_to_span: bool,
        max_wait: Duration,
        max_spans: usize,
        max_bytes: usize,
    ) -> Self {
        Self {
            keys,
            copy_to_span,
            max_wait,
            max_spans,
            max_bytes,
            traces: HashMap::new(),
            spans: 0,
            bytes: 0,
        }
    }

    /// Held spans and the bytes they take.
    pub fn size(&self) -> (usize, usize) {
        (self.spans, self.bytes)
    }

    /// Takes `held` in, or gives it back when the hold is full.
    pub fn hold(&mut self, mut held: HeldSpan) -> Result<(), Box<HeldSpan>> {
        held.deadline = Instant::now() + self.max_wait;
        self.put_back(held)
    }

    /// Takes back a span that could not be sent, keeping its deadline (so it is offered again at
    /// the next release), or gives it back when the hold is full.
    pub fn put_back(&mut self, held: HeldSpan) -> Result<(), Box<HeldSpan>> {
        if self.spans + 1 > self.max_spans || self.bytes + held.bytes > self.max_bytes {
            return Err(Box::new(held));
        }
        self.spans += 1;
        self.bytes += held.bytes;
        self.traces
            .entry(held.span.trace_id.clone())
            .or_default()
            .held
            .push(held);
        Ok(())
    }

    /// Remembers the spans of `request` that belong to traces with held spans.
    pub fn observe<'a>(&mut self, request: impl TraceRequestView<'a>) {
        self.observe_spans(request.spans().map(|(_, span)| (span, &[][..] as &[Added])));
    }

    /// Remembers those of `spans` that belong to traces with held spans; each comes with the
    /// attributes enrichment is adding to it (read after its own).
    pub fn observe_spans<'a, 'b>(
        &mut self,
        spans: impl Iterator<Item = (impl SpanView<'a>, &'b [Added])>,
    ) {
        if self.traces.is_empty() {
            return;
        }
        for (span, added) in spans {
            let Some(trace) = self.traces.get_mut(span.trace_id()) else {
                continue;
            };
            let values = self
                .keys
                .iter()
                .filter_map(|key| {
                    span.attributes()
                        .text(key)
                        .or_else(|| added.text(key))
                        .map(|value| (key.clone(), value))
                })
                .collect::<Vec<_>>();
            let added = known_size(&values);
            let known = KnownSpan {
                parent: span.parent_span_id().to_vec(),
                values,
            };
            if trace.known.insert(span.span_id().to_vec(), known).is_none() {
                trace.known_bytes += added;
                self.bytes += added;
            }
        }
    }

    /// Takes out the spans ready to go (all of them with `everything`), with the values found
    /// applied to their records and — when configured — to the spans.
    pub fn take_ready(&mut self, now: Instant, everything: bool) -> Vec<(HeldSpan, Release)> {
        let mut ready = Vec::new();
        let copy_to_span = self.copy_to_span;
        let keys = self.keys.clone();
        let (mut spans, mut bytes) = (self.spans, self.bytes);
        self.traces.retain(|_, trace| {
            let mut waiting = Vec::new();
            for mut held in std::mem::take(&mut trace.held) {
                let (found, reached_root) = walk(&trace.known, &held);
                let release = if found.len() == held.missing.len() {
                    Some(Release::Resolved)
                } else if reached_root {
                    Some(Release::ReachedRoot)
                } else if now >= held.deadline {
                    Some(Release::Timeout)
                } else if everything {
                    Some(Release::Shutdown)
                } else {
                    None
                };
                match release {
                    Some(release) => {
                        spans -= 1;
                        bytes -= held.bytes;
                        apply(&mut held, found, &keys, copy_to_span);
                        ready.push((held, release));
                    }
                    None => waiting.push(held),
                }
            }
            trace.held = waiting;
            let keep = !trace.held.is_empty();
            if !keep {
                bytes -= trace.known_bytes;
            }
            keep
        });
        (self.spans, self.bytes) = (spans, bytes);
        ready
    }
}

/// What a known span counts for in the hold's byte bound.
fn known_size(values: &[(String, String)]) -> usize {
    24 + values
        .iter()
        .map(|(key, value)| key.len() + value.len())
        .sum::<usize>()
}

/// Values of the missing keys found up the known ancestors, nearest first, and whether the walk
/// reached the trace's root.
fn walk(known: &HashMap<Vec<u8>, KnownSpan>, held: &HeldSpan) -> (Vec<(String, String)>, bool) {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut parent = held.span.parent_span_id.clone();
    for _ in 0..64 {
        if parent.is_empty() {
            return (found, true);
        }
        let Some(ancestor) = known.get(&parent) else {
            return (found, false);
        };
        for (key, value) in &ancestor.values {
            if held.missing.contains(key) && !found.iter().any(|(have, _)| have == key) {
                found.push((key.clone(), value.clone()));
            }
        }
        if found.len() == held.missing.len() {
            return (found, false);
        }
        parent = ancestor.parent.clone();
    }
    (found, false)
}

/// Adds the found values to the record (keeping the configured key order) and the span.
fn apply(held: &mut HeldSpan, found: Vec<(String, String)>, keys: &[String], copy_to_span: bool) {
    if copy_to_span {
        for (key, value) in &found {
            held.span.attributes.push(KeyValue {
                key: key.clone(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue(value.clone())),
                }),
                ..Default::default()
            });
        }
    }
    let dimensions = &mut held.record.dimensions;
    dimensions.extend(found.into_iter().map(|(key, value)| (key.into(), value)));
    let (mut attribution, base): (Vec<_>, Vec<_>) = dimensions
        .drain(..)
        .partition(|(key, _)| keys.iter().any(|k| **k == **key));
    attribution.sort_by_key(|(key, _)| keys.iter().position(|k| **k == **key));
    *dimensions = base.into_iter().chain(attribution).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::parent_id;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    fn held(trace: u8, id: u8, parent: u8) -> HeldSpan {
        let span = Span {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            parent_span_id: vec![parent; 8],
            name: "chat claude-sonnet-4-6".into(),
            attributes: (0..10)
                .map(|n| KeyValue {
                    key: format!("gen_ai.attribute.{n}"),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue("a typical value".into())),
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let record = CallRecord {
            span: Default::default(),
            price_id: None,
            dimensions: vec![("service.name".into(), "chat".into())],
            usage: None,
            cost: None,
            duration_seconds: None,
            unpriced: None,
            thresholds_exceeded: Vec::new(),
        };
        HeldSpan::new(
            None,
            String::new(),
            None,
            String::new(),
            span,
            record,
            vec!["user.id".into(), "team".into()],
        )
    }

    fn buffer(max_spans: usize, max_bytes: usize) -> HoldBuffer {
        HoldBuffer::new(
            vec!["user.id".into(), "team".into()],
            true,
            Duration::from_secs(60),
            max_spans,
            max_bytes,
        )
    }

    #[test]
    fn the_hold_refuses_spans_beyond_its_bounds() {
        let mut hold = buffer(2, 1 << 20);
        assert!(hold.hold(held(1, 2, 1)).is_ok());
        assert!(hold.hold(held(1, 3, 1)).is_ok());
        assert!(hold.hold(held(1, 4, 1)).is_err());
        let mut small = buffer(100, 1_000);
        assert!(small.hold(held(1, 2, 1)).is_ok());
        assert!(
            small.hold(held(1, 3, 1)).is_err(),
            "a span of about 700 bytes does not fit twice in 1,000"
        );
    }

    #[test]
    fn keys_are_found_up_the_chain_nearest_first_and_kept_in_configured_order() {
        let mut hold = buffer(10, 1 << 20);
        hold.hold(held(1, 3, 2)).unwrap();
        let ancestor = |id: u8, parent: u8, attributes: Vec<KeyValue>| Span {
            trace_id: vec![1; 16],
            span_id: vec![id; 8],
            parent_span_id: parent_id(parent),
            attributes,
            ..Default::default()
        };
        let kv = |key: &str, value: &str| KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(value.into())),
            }),
            ..Default::default()
        };
        let request = |spans| ExportTraceServiceRequest {
            resource_spans: vec![opentelemetry_proto::tonic::trace::v1::ResourceSpans {
                scope_spans: vec![opentelemetry_proto::tonic::trace::v1::ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        hold.observe(&request(vec![ancestor(2, 1, vec![kv("team", "near")])]));
        assert!(
            hold.take_ready(Instant::now(), false).is_empty(),
            "user.id still missing and the root not reached"
        );
        hold.observe(&request(vec![ancestor(
            1,
            0,
            vec![kv("team", "far"), kv("user.id", "u1")],
        )]));
        let ready = hold.take_ready(Instant::now(), false);
        assert_eq!(ready.len(), 1);
        let (released, how) = &ready[0];
        assert_eq!(*how, Release::Resolved);
        assert_eq!(
            released.record.dimensions,
            vec![
                ("service.name".into(), "chat".to_string()),
                ("user.id".into(), "u1".to_string()),
                ("team".into(), "near".to_string())
            ]
        );
        assert_eq!(hold.size(), (0, 0));
    }

    #[test]
    fn memory_per_held_span_is_measured() {
        let mut hold = buffer(100_000, 1 << 30);
        for id in 0..10_000u32 {
            let mut span = held((id % 250) as u8, 2, 1);
            span.span.span_id = id.to_be_bytes().repeat(2);
            hold.hold(span).unwrap();
        }
        let (spans, bytes) = hold.size();
        assert_eq!(spans, 10_000);
        // Each span here: 10 attributes of ~40 bytes, ids, name — about 700 bytes as counted.
        println!("10,000 held spans: {bytes} bytes");
        assert!(
            (6_000_000..8_000_000).contains(&bytes),
            "{bytes} bytes for 10,000 held spans"
        );
    }
}
