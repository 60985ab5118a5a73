//! Micro benchmarks of the wire path's stages, per span, on one request shaped like the load
//! benchmark's (256 spans, half of them model calls with usage and three attribution keys):
//! the validating scan, a walk of every span's attributes through the wire views, enrichment
//! over the views, the splice, joining requests into a batch — and, for comparison, prost
//! decoding and encoding the same request.
//!
//! `cargo bench --bench stages` (add `-- --iterations N` to change the count). Times are the
//! median of the iterations, in nanoseconds per span.

use genai_cost_agent::config::load_str;
use genai_cost_agent::enrich::Enricher;
use genai_cost_agent::exporter::Batch;
use genai_cost_agent::otlp::added::Added;
use genai_cost_agent::otlp::scan::scan_traces;
use genai_cost_agent::otlp::splice::{splice, Edit};
use genai_cost_agent::otlp::view::{Attributes, SpanView, TraceRequestView};
use genai_cost_agent::otlp::wire_view::{AttributeCache, WireRequest};
use genai_cost_agent::otlp::{EncodedRequest, Signal};
use genai_cost_agent::telemetry::AgentCounters;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::hint::black_box;
use std::time::Instant;

/// The agent's allocator, so allocation costs are the agent's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPANS: usize = 256;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.into()))
}

fn request(round: u64) -> ExportTraceServiceRequest {
    let spans = (0..SPANS as u64)
        .map(|i| {
            let mut attributes = vec![
                text("http.method", "POST"),
                text("http.route", "/v1/chat"),
                kv("http.status_code", Value::IntValue(200)),
                text("net.peer.name", "api.example.com"),
            ];
            if i % 2 == 1 {
                attributes.extend([
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.provider.name", "anthropic"),
                    text("gen_ai.request.model", "claude-sonnet-4-5"),
                    kv(
                        "gen_ai.usage.input_tokens",
                        Value::IntValue(1200 + i as i64),
                    ),
                    kv("gen_ai.usage.output_tokens", Value::IntValue(300)),
                    kv("gen_ai.usage.cache_read.input_tokens", Value::IntValue(800)),
                    text("user.id", &format!("user-{}", (i * 7 + round) % 1000)),
                    text("team", &format!("team-{}", i % 20)),
                    text("feature", &format!("feature-{}", (i + round) % 50)),
                ]);
            }
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&round.to_be_bytes());
            Span {
                trace_id: trace_id.to_vec(),
                span_id: (i + 1 + round * 1000).to_be_bytes().to_vec(),
                parent_span_id: if i == 0 {
                    Vec::new()
                } else {
                    (round * 1000 + 1).to_be_bytes().to_vec()
                },
                name: if i % 2 == 1 {
                    "chat claude-sonnet-4-5".into()
                } else {
                    "POST /v1/chat".into()
                },
                start_time_unix_nano: 1_780_000_000_000_000_000 + i,
                end_time_unix_nano: 1_780_000_001_000_000_000 + i,
                attributes,
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "chat-app"),
                    text("telemetry.sdk.name", "opentelemetry"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The median time of `iterations` runs of `f`, in nanoseconds per span.
fn per_span(iterations: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut times: Vec<f64> = (0..iterations)
        .map(|i| {
            let started = Instant::now();
            f(i);
            started.elapsed().as_nanos() as f64 / SPANS as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let mut iterations = 2000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--iterations" {
            iterations = args
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(iterations);
        }
    }
    let config = "metrics:\n  enabled: true\n  attribution:\n    keys: [user.id, team, feature]\n";
    let loaded = load_str(config, &[], |_| None).expect("the benchmark's configuration");
    let enricher = Enricher::from_config(&loaded.config).expect("an enricher");
    let counters = AgentCounters::default();
    // A fresh request per iteration (new trace and span ids, as the duplicate memory sees them).
    let requests: Vec<Vec<u8>> = (0..iterations as u64)
        .map(|round| request(round).encode_to_vec())
        .collect();
    let bytes = &requests[0];
    let index = scan_traces(bytes).expect("a valid request");

    let rows = [
        (
            "prost decode",
            per_span(iterations, |i| {
                black_box(ExportTraceServiceRequest::decode(&requests[i][..]).ok());
            }),
        ),
        ("prost encode", {
            let decoded = ExportTraceServiceRequest::decode(&bytes[..]).expect("decodes");
            per_span(iterations, |_| {
                black_box(decoded.encode_to_vec());
            })
        }),
        (
            "scan (validate + index)",
            per_span(iterations, |i| {
                black_box(scan_traces(&requests[i]).ok());
            }),
        ),
        (
            "view: walk every span's attributes",
            per_span(iterations, |_| {
                let view = WireRequest::new(bytes, &index, None);
                let mut seen = 0usize;
                for (_, span) in view.spans() {
                    seen += span.attributes().entries().count();
                }
                black_box(seen);
            }),
        ),
        ("enrich over the views (fresh ids)", {
            let indexes: Vec<_> = requests
                .iter()
                .map(|bytes| scan_traces(bytes).expect("valid"))
                .collect();
            per_span(iterations, |i| {
                let cache = AttributeCache::new(&indexes[i]);
                let view = WireRequest::new(&requests[i], &indexes[i], Some(&cache));
                black_box(enricher.enrich(view, &counters));
            })
        }),
        ("splice (12 attributes on half the spans)", {
            let added: Vec<u8> = {
                let mut out = Vec::new();
                for n in 0..12 {
                    Added::double("gen_ai.usage.cost.amount", f64::from(n))
                        .encode_span_attribute(&mut out);
                }
                out
            };
            let edits: Vec<(usize, Edit)> = (1..SPANS)
                .step_by(2)
                .map(|span| (span, Edit::Append(added.clone())))
                .collect();
            per_span(iterations, |_| {
                black_box(splice(bytes, &index, &edits));
            })
        }),
        ("batch: join 8 requests", {
            let parts: Vec<EncodedRequest> = (0..8)
                .map(|i| EncodedRequest {
                    signal: Signal::Traces,
                    items: SPANS as u64,
                    bytes: requests[i].clone().into(),
                })
                .collect();
            per_span(iterations, |_| {
                black_box(Batch::join(Signal::Traces, parts.clone()));
            }) / 8.0
        }),
    ];
    println!(
        "{} spans per request ({} bytes), median of {iterations} iterations",
        SPANS,
        bytes.len()
    );
    for (stage, nanos) in rows {
        println!("{stage:<42} {nanos:>8.1} ns/span");
    }
}
