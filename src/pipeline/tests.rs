//! The wire path against the decoded reference: generated trace requests go through both, and
//! what each queues decodes to the same request, with the same metric records and the same
//! held spans.

use super::*;
use crate::config::load_str;
use crate::enrich::hold::HoldBuffer;
use crate::otlp::scan::scan_traces;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use proptest::prelude::*;
use prost::Message;

const CONFIG: &str = "
metrics:
  enabled: true
  resource_keys: [deployment.environment]
  cost_thresholds: [\"0.01\"]
  attribution:
    keys: [user.id, team, feature]
    hold:
      enabled: true
enrich:
  output_dialects: [openinference]
";

fn intake() -> Intake {
    let loaded = load_str(CONFIG, &[], |_| None).unwrap();
    let config = &loaded.config;
    let attribution = &config.metrics.attribution;
    let hold = HoldBuffer::new(
        attribution.keys.clone(),
        attribution.copy_to_span,
        Duration::from_secs(60),
        1000,
        1 << 24,
    );
    Intake::new(
        Enricher::from_config(config).unwrap(),
        Vec::new(),
        None,
        Some(hold),
        Arc::new(AgentCounters::default()),
    )
}

/// What one path made of a request, comparable across paths.
#[derive(Debug, PartialEq)]
struct Outcome {
    queued: ExportTraceServiceRequest,
    items: u64,
    records: Vec<CallRecord>,
    held_spans: Vec<Span>,
}

fn outcome(processed: Processed) -> Outcome {
    let request = processed.request.expect("a request to queue");
    Outcome {
        queued: ExportTraceServiceRequest::decode(&request.bytes[..]).expect("queued bytes decode"),
        items: request.items,
        records: processed.records,
        // The hold releases traces in its map's order, which differs between two holds.
        held_spans: {
            let mut spans: Vec<Span> = processed
                .ready
                .into_iter()
                .map(|(held, _)| held.span)
                .collect();
            spans.sort_by_key(Message::encode_to_vec);
            spans
        },
    }
}

/// Both paths over the same sequence of requests (state carries over: duplicates, the hold).
fn both_paths(requests: &[Vec<u8>]) -> Vec<(Outcome, Outcome)> {
    let (reference, wire) = (intake(), intake());
    requests
        .iter()
        .map(|bytes| {
            let decoded = ExportTraceServiceRequest::decode(&bytes[..]).unwrap();
            let expected = outcome(reference.process(Request::Decoded(Payload::Traces(decoded))));
            let index = scan_traces(bytes).unwrap();
            let scanned = ScannedTraces::new(bytes::Bytes::from(bytes.clone()), index);
            (expected, outcome(wire.process(Request::Traces(scanned))))
        })
        .collect()
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "[a-z0-9 é]{0,12}".prop_map(Value::StringValue),
        any::<bool>().prop_map(Value::BoolValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<f64>().prop_map(Value::DoubleValue),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(Value::BytesValue),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|values| {
                Value::ArrayValue(ArrayValue {
                    values: values
                        .into_iter()
                        .map(|value| AnyValue { value: Some(value) })
                        .collect(),
                })
            }),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..4).prop_map(|pairs| {
                Value::KvlistValue(KeyValueList {
                    values: pairs
                        .into_iter()
                        .map(|(key, value)| kv(&key, value))
                        .collect(),
                })
            }),
        ]
    })
}

/// Token counts as instrumentation writes them, including ones that are not counts.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (0i64..300_000).prop_map(Value::IntValue),
        1 => (0u32..5000).prop_map(|n| Value::DoubleValue(f64::from(n))),
        1 => (0u32..5000).prop_map(|n| Value::StringValue(n.to_string())),
        1 => Just(Value::IntValue(-5)),
        1 => Just(Value::DoubleValue(1.5)),
    ]
}

/// The usage attributes of one dialect, some left out.
fn usage_attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    let dialects: [&[&str]; 6] = [
        &[
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_creation.input_tokens",
        ],
        &[
            "gen_ai.usage.prompt_tokens",
            "gen_ai.usage.completion_tokens",
            "gen_ai.usage.cache_read_input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
        ],
        &[
            "llm.token_count.prompt",
            "llm.token_count.completion",
            "llm.token_count.prompt_details.cache_read",
            "llm.token_count.prompt_details.cache_write",
        ],
        &[
            "ai.usage.promptTokens",
            "ai.usage.completionTokens",
            "ai.usage.cachedInputTokens",
            "ai.usage.reasoningTokens",
        ],
        &[
            "ai.usage.inputTokens",
            "ai.usage.outputTokens",
            "ai.usage.inputTokenDetails.cacheReadTokens",
            "ai.usage.inputTokenDetails.cacheWriteTokens",
        ],
        &[
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.output_tokens.reasoning",
            "gen_ai.usage.cost",
        ],
    ];
    (
        0..dialects.len(),
        proptest::collection::vec((any::<bool>(), count()), 4),
    )
        .prop_map(move |(dialect, counts)| {
            dialects[dialect]
                .iter()
                .zip(counts)
                .filter(|(_, (present, _))| *present)
                .map(|(key, (_, value))| kv(key, value))
                .collect()
        })
}

fn optional_text(
    keys: &'static [&'static str],
    values: &'static [&'static str],
) -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec((0..keys.len(), 0..values.len()), 0..=keys.len()).prop_map(
        move |picked| {
            picked
                .into_iter()
                .map(|(key, value)| kv(keys[key], Value::StringValue(values[value].into())))
                .collect()
        },
    )
}

/// One span's attributes: maybe usage, models, operation and attribution keys, and noise.
fn span_attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    (
        proptest::option::weighted(0.7, usage_attributes()),
        optional_text(
            &[
                "gen_ai.request.model",
                "gen_ai.response.model",
                "llm.model_name",
                "ai.model.id",
            ],
            &[
                "claude-sonnet-4-5",
                "gpt-4o",
                "gpt-4o-2024-08-06",
                "unknown-model",
                "claude-haiku-4-5",
            ],
        ),
        optional_text(
            &[
                "gen_ai.operation.name",
                "gen_ai.provider.name",
                "gen_ai.system",
                "openinference.span.kind",
                "gen_ai.response.id",
            ],
            &[
                "chat",
                "invoke_agent",
                "anthropic",
                "openai",
                "LLM",
                "CHAIN",
                "resp-1",
            ],
        ),
        optional_text(
            &["user.id", "team", "feature", "error.type"],
            &["u-1", "u-2", "search", "billing", "timeout"],
        ),
        proptest::collection::vec(("[a-z.]{1,10}", any_value()), 0..4),
    )
        .prop_map(|(usage, models, kinds, keys, noise)| {
            let mut attributes: Vec<KeyValue> = noise
                .into_iter()
                .map(|(key, value)| kv(&key, value))
                .collect();
            attributes.extend(models);
            attributes.extend(kinds);
            attributes.extend(keys);
            attributes.extend(usage.unwrap_or_default());
            attributes
        })
}

fn span(trace: u8, id: u8, parent: u8) -> impl Strategy<Value = Span> {
    (
        span_attributes(),
        prop_oneof![
            Just(0u64),
            1_780_000_000_000_000_000u64..1_790_000_000_000_000_000
        ],
        0u64..5_000_000_000,
        0i32..3,
        proptest::collection::vec(
            (
                "[a-z]{0,5}",
                proptest::collection::vec(("[a-z]{1,4}", any_value()), 0..2),
            ),
            0..2,
        ),
        0usize..2,
        "[a-zA-Z.]{0,12}",
    )
        .prop_map(
            move |(attributes, start, duration, code, events, links, name)| Span {
                trace_id: vec![trace; 16],
                span_id: vec![id; 8],
                parent_span_id: if parent == 0 {
                    Vec::new()
                } else {
                    vec![parent; 8]
                },
                name,
                kind: 3,
                start_time_unix_nano: start,
                end_time_unix_nano: if start == 0 { 0 } else { start + duration },
                attributes,
                dropped_attributes_count: u32::from(id % 3),
                events: events
                    .into_iter()
                    .map(|(name, attributes)| Event {
                        time_unix_nano: start,
                        name,
                        attributes: attributes
                            .into_iter()
                            .map(|(key, value)| kv(&key, value))
                            .collect(),
                        dropped_attributes_count: 0,
                    })
                    .collect(),
                links: (0..links)
                    .map(|_| Link {
                        trace_id: vec![9; 16],
                        span_id: vec![9; 8],
                        ..Default::default()
                    })
                    .collect(),
                status: (code > 0).then(|| Status {
                    message: if code == 2 {
                        "failed".into()
                    } else {
                        String::new()
                    },
                    code,
                }),
                flags: 0x100,
                ..Default::default()
            },
        )
}

/// Spans of two traces; parents are earlier spans, absent ones (the hold) or none.
fn spans() -> impl Strategy<Value = Vec<Span>> {
    proptest::collection::vec((1u8..3, 0u8..12), 1..10).prop_flat_map(|shape| {
        shape
            .into_iter()
            .enumerate()
            .map(|(i, (trace, parent))| {
                // An earlier span of the request, the root, or one not in it (the hold).
                let parent = if usize::from(parent) < i {
                    10 + parent
                } else if parent % 2 == 0 {
                    0
                } else {
                    200 + parent
                };
                span(trace, i as u8 + 10, parent)
            })
            .collect::<Vec<_>>()
    })
}

fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    let resource = (
        optional_text(
            &[
                "service.name",
                "deployment.environment",
                "team",
                "telemetry.sdk.name",
            ],
            &["chat-app", "prod", "search", "openlit", "opentelemetry"],
        ),
        proptest::option::of(Just(())),
        "[a-z:/.]{0,10}",
    );
    let scope = (
        prop_oneof![
            Just(""),
            Just("openlit.instrumentation.anthropic"),
            Just("opentelemetry.instrumentation.anthropic"),
            Just("ai")
        ],
        "[0-9.]{0,5}",
        proptest::option::of(Just(())),
        spans(),
    );
    proptest::collection::vec((resource, proptest::collection::vec(scope, 0..3)), 1..3).prop_map(
        |resources| ExportTraceServiceRequest {
            resource_spans: resources
                .into_iter()
                .map(
                    |((attributes, present, schema_url), scopes)| ResourceSpans {
                        resource: (present.is_some() || !attributes.is_empty()).then(|| Resource {
                            attributes,
                            ..Default::default()
                        }),
                        scope_spans: scopes
                            .into_iter()
                            .map(|(name, version, present, spans)| ScopeSpans {
                                scope: present.map(|_| InstrumentationScope {
                                    name: name.into(),
                                    version,
                                    ..Default::default()
                                }),
                                spans,
                                schema_url: String::new(),
                            })
                            .collect(),
                        schema_url,
                    },
                )
                .collect(),
        },
    )
}

/// Everything the pipeline reads of a request, through either view.
fn walk<'a>(request: impl crate::otlp::view::TraceRequestView<'a>) -> Vec<String> {
    use crate::otlp::view::{Attributes, SpanView};
    let mut seen = Vec::new();
    for r in 0..request.resource_count() {
        let resource: Vec<_> = request.resource_attributes(r).entries().collect();
        seen.push(format!("resource {r}: {resource:?}"));
        for s in 0..request.scope_count(r) {
            seen.push(format!("scope {r}.{s}: {:?}", request.scope(r, s)));
        }
    }
    for (location, span) in request.spans() {
        let attributes: Vec<_> = span.attributes().entries().collect();
        seen.push(format!(
            "span {location:?}: {} {:?} {:?} {:?} {} {} {} {attributes:?}",
            span.name(),
            span.trace_id(),
            span.span_id(),
            span.parent_span_id(),
            span.start_time_unix_nano(),
            span.end_time_unix_nano(),
            span.status_code(),
        ));
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn both_views_read_the_same(request in request()) {
        let bytes = request.encode_to_vec();
        let index = scan_traces(&bytes).unwrap();
        let cache = crate::otlp::wire_view::AttributeCache::new(&index);
        let wire = crate::otlp::wire_view::WireRequest::new(&bytes, &index, Some(&cache));
        let (decoded, wire) = (walk(&request), walk(wire));
        if let Some((a, b)) = decoded.iter().zip(&wire).find(|(a, b)| a != b) {
            return Err(TestCaseError::fail(format!("decoded: {a}\nwire:    {b}")));
        }
        prop_assert_eq!(decoded.len(), wire.len());
    }

    #[test]
    fn the_wire_path_queues_what_the_decoded_path_queues(requests in proptest::collection::vec(request(), 1..4)) {
        let encoded: Vec<Vec<u8>> = requests.iter().map(Message::encode_to_vec).collect();
        for (expected, wire) in both_paths(&encoded) {
            if let Some(difference) = first_difference(&expected, &wire) {
                return Err(TestCaseError::fail(difference));
            }
        }
    }
}

/// What OpenLLMetry and OpenInference really sent, one request after the other through each
/// path; the calls in them are priced and recorded alike.
#[test]
fn captured_requests_of_real_instrumentation_take_both_paths_alike() {
    let corpus = crate::test_support::instrumentation_corpus();
    let requests: Vec<Vec<u8>> = corpus.iter().map(|(_, bytes)| bytes.clone()).collect();
    let mut records = 0;
    for ((name, _), (expected, wire)) in corpus.iter().zip(both_paths(&requests)) {
        if let Some(difference) = first_difference(&expected, &wire) {
            panic!("{name}: {difference}");
        }
        records += expected.records.len();
    }
    assert!(records >= 10, "only {records} calls recorded");
}

/// The first thing two outcomes differ in, briefly.
fn first_difference(expected: &Outcome, wire: &Outcome) -> Option<String> {
    if expected.items != wire.items {
        return Some(format!("items: {} vs {}", expected.items, wire.items));
    }
    let spans = |outcome: &Outcome| -> Vec<(usize, usize, Span)> {
        let mut all = Vec::new();
        for (r, resource) in outcome.queued.resource_spans.iter().enumerate() {
            for (s, scope) in resource.scope_spans.iter().enumerate() {
                all.extend(scope.spans.iter().map(|span| (r, s, span.clone())));
            }
        }
        all
    };
    let (left, right) = (spans(expected), spans(wire));
    if left.len() != right.len() {
        return Some(format!("span count: {} vs {}", left.len(), right.len()));
    }
    if let Some((a, b)) = left.iter().zip(&right).find(|(a, b)| a != b) {
        return Some(format!("span differs:\n decoded: {a:?}\n wire:    {b:?}"));
    }
    if expected.queued != wire.queued {
        return Some("resources or scopes differ".into());
    }
    if expected.records != wire.records {
        return Some(format!(
            "records:\n decoded: {:?}\n wire:    {:?}",
            expected.records, wire.records
        ));
    }
    (expected.held_spans != wire.held_spans).then(|| {
        format!(
            "held:\n decoded: {:?}\n wire:    {:?}",
            expected.held_spans, wire.held_spans
        )
    })
}

#[test]
fn a_request_without_usage_is_queued_as_the_bytes_received() {
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "GET /".into(),
                    attributes: vec![kv("http.method", Value::StringValue("GET".into()))],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let bytes = bytes::Bytes::from(request.encode_to_vec());
    let scanned = ScannedTraces::new(bytes.clone(), scan_traces(&bytes).unwrap());
    let queued = intake().process(Request::Traces(scanned)).request.unwrap();
    assert_eq!(
        queued.bytes.as_ptr(),
        bytes.as_ptr(),
        "the same buffer, not a copy"
    );
    assert_eq!(queued.items, 1);
}

/// Unknown fields in a span (a newer schema's) survive enrichment byte for byte.
#[test]
fn unknown_fields_of_an_enriched_span_survive() {
    let span = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: "chat".into(),
        start_time_unix_nano: 1_780_000_000_000_000_000,
        attributes: vec![
            kv(
                "gen_ai.request.model",
                Value::StringValue("claude-sonnet-4-5".into()),
            ),
            kv("gen_ai.usage.input_tokens", Value::IntValue(1000)),
            kv("gen_ai.usage.output_tokens", Value::IntValue(100)),
        ],
        ..Default::default()
    };
    let mut span_bytes = span.encode_to_vec();
    // Field 99 (length-delimited, 3 bytes) and field 98 (varint 7), unknown to the schema.
    let unknown = [0x9a, 0x06, 0x03, b'x', b'y', b'z', 0x90, 0x06, 0x07];
    span_bytes.extend_from_slice(&unknown);
    let mut scope = vec![0x12];
    put_len(&mut scope, span_bytes.len());
    scope.extend_from_slice(&span_bytes);
    let mut resource = vec![0x12];
    put_len(&mut resource, scope.len());
    resource.extend_from_slice(&scope);
    let mut request = vec![0x0a];
    put_len(&mut request, resource.len());
    request.extend_from_slice(&resource);
    let scanned = ScannedTraces::new(request.clone().into(), scan_traces(&request).unwrap());
    let queued = intake().process(Request::Traces(scanned)).request.unwrap();
    let found = queued
        .bytes
        .windows(unknown.len())
        .any(|window| window == unknown);
    assert!(found, "the unknown fields are still in the span's bytes");
    let decoded = ExportTraceServiceRequest::decode(&queued.bytes[..]).unwrap();
    let attributes = &decoded.resource_spans[0].scope_spans[0].spans[0].attributes;
    assert!(attributes
        .iter()
        .any(|kv| kv.key == "gen_ai.usage.cost.amount"));
}

fn put_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push(len as u8 | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}
