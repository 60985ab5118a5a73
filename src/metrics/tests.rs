use super::*;
use crate::config::load_str;
use crate::enrich::Enricher;
use crate::test_support::parent_id;
use crate::test_support::{int, text};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    status::StatusCode, ResourceSpans, ScopeSpans, Span, Status,
};
use rust_decimal_macros::dec;

const CONFIG: &str = r#"
metrics:
  attribution: { keys: [user.id, team] }
  resource_keys: [deployment.environment]
  cost_thresholds: ["0.05"]
"#;

const START: u64 = 1_780_000_000_000_000_000;

fn span(id: u8, parent: u8, seconds_tenths: u64, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![9; 16],
        span_id: vec![id; 8],
        parent_span_id: parent_id(parent),
        name: format!("span {id}"),
        start_time_unix_nano: START,
        end_time_unix_nano: START + seconds_tenths * 100_000_000,
        attributes,
        ..Default::default()
    }
}

/// A request span with attribution, a Sonnet call under it, a GPT-4o call with its own user,
/// a throttled call without usage, and a call of an unknown model.
fn fixed_request() -> ExportTraceServiceRequest {
    let request_span = span(
        1,
        0,
        30,
        vec![text("user.id", "u1"), text("team", "search")],
    );
    let sonnet = span(
        2,
        1,
        20,
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", "anthropic"),
            text("gen_ai.request.model", "claude-sonnet-4-6"),
            int("gen_ai.usage.input_tokens", 23_000),
            int("gen_ai.usage.output_tokens", 1_500),
            int("gen_ai.usage.cache_read.input_tokens", 8_000),
            int("gen_ai.usage.cache_creation.input_tokens", 10_000),
        ],
    );
    let gpt = span(
        3,
        0,
        5,
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", "openai"),
            text("gen_ai.request.model", "gpt-4o"),
            int("gen_ai.usage.input_tokens", 1_000),
            int("gen_ai.usage.output_tokens", 200),
            int("gen_ai.usage.cache_read.input_tokens", 400),
            text("user.id", "u2"),
        ],
    );
    let mut throttled = span(
        4,
        0,
        1,
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", "openai"),
            text("gen_ai.request.model", "gpt-4o"),
            text("error.type", "429"),
        ],
    );
    throttled.status = Some(Status {
        code: StatusCode::Error as i32,
        message: "rate limited".into(),
    });
    let unknown = span(
        5,
        0,
        1,
        vec![
            text("gen_ai.request.model", "llama-9"),
            int("gen_ai.usage.input_tokens", 10),
            int("gen_ai.usage.output_tokens", 10),
        ],
    );
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "chat-app"),
                    text("deployment.environment", "prod"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![request_span, sonnet, gpt, throttled, unknown],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics_for(config: &str, temporality_override: Option<&str>) -> (Enricher, DerivedMetrics) {
    let overrides: Vec<String> = temporality_override
        .map(|t| format!("metrics.temporality={t}"))
        .into_iter()
        .collect();
    let loaded = load_str(config, &overrides, |_| None).unwrap();
    let enricher = Enricher::from_config(&loaded.config).unwrap();
    let identity = vec![
        ("service.name".to_string(), "genai-cost-agent".to_string()),
        ("service.instance.id".to_string(), "test".to_string()),
    ];
    let metrics = DerivedMetrics::new(
        &loaded.config.metrics,
        "USD",
        identity,
        Arc::new(AgentCounters::default()),
    );
    (enricher, metrics)
}

fn record_fixed(enricher: &Enricher, metrics: &DerivedMetrics) -> ExportTraceServiceRequest {
    let mut request = fixed_request();
    let outcome = enricher.enrich_request(&mut request, &AgentCounters::default());
    metrics.record(outcome.records);
    request
}

fn pairs(items: &[(&str, &str)]) -> SeriesKey {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const SONNET: &[(&str, &str)] = &[
    ("gen_ai.operation.name", "chat"),
    ("gen_ai.provider.name", "anthropic"),
    ("gen_ai.request.model", "claude-sonnet-4-6"),
    ("service.name", "chat-app"),
    ("deployment.environment", "prod"),
    ("user.id", "u1"),
    ("team", "search"),
];

const GPT: &[(&str, &str)] = &[
    ("gen_ai.operation.name", "chat"),
    ("gen_ai.provider.name", "openai"),
    ("gen_ai.request.model", "gpt-4o"),
    ("service.name", "chat-app"),
    ("deployment.environment", "prod"),
    ("user.id", "u2"),
];

fn with(base: &[(&str, &str)], extra: (&str, &str)) -> SeriesKey {
    let mut key = pairs(base);
    key.push((extra.0.to_string(), extra.1.to_string()));
    key
}

fn value(metrics: &DerivedMetrics, instrument: Instrument, key: &SeriesKey) -> Value {
    metrics
        .snapshot()
        .into_iter()
        .find(|(of, series, _)| *of == instrument && series == key)
        .map(|(_, _, value)| value)
        .unwrap_or_else(|| {
            panic!(
                "no {instrument:?} series {key:?} in {:#?}",
                metrics.snapshot()
            )
        })
}

fn histogram(bucket: usize, buckets: usize, sum: Decimal) -> Value {
    let mut counts = vec![0; buckets];
    counts[bucket] = 1;
    Value::Histogram {
        buckets: counts,
        count: 1,
        sum,
    }
}

#[test]
fn a_fixed_span_set_gives_exact_sums_buckets_and_attributes() {
    let (enricher, metrics) = metrics_for(CONFIG, None);
    let request = record_fixed(&enricher, &metrics);

    // Sonnet 4.6 worked example: 0.015 + 0.0225 + 0.0024 + 0.0375 = 0.0774, savings 0.0141.
    for (kind, amount) in [
        ("input", dec!(0.015)),
        ("output", dec!(0.0225)),
        ("cache_read", dec!(0.0024)),
        ("cache_creation", dec!(0.0375)),
    ] {
        assert_eq!(
            value(
                &metrics,
                Instrument::Cost,
                &with(SONNET, ("gen_ai.cost.type", kind))
            ),
            Value::Sum(amount),
            "{kind}"
        );
    }
    // 0.0774 falls in the (0.05, 0.1] bucket, index 8 of 18.
    assert_eq!(
        value(&metrics, Instrument::RequestCost, &pairs(SONNET)),
        histogram(8, 18, dec!(0.0774))
    );
    assert_eq!(
        value(&metrics, Instrument::CacheSavings, &pairs(SONNET)),
        Value::Sum(dec!(0.0141))
    );
    assert_eq!(
        value(
            &metrics,
            Instrument::ThresholdExceeded,
            &with(SONNET, ("threshold", "0.05"))
        ),
        Value::Sum(dec!(1))
    );
    // 23,000 input tokens: (16384, 65536], index 8 of 15; 1,500 output: (1024, 4096], index 6;
    // 8,000 cache read: (4096, 16384], index 7.
    assert_eq!(
        value(
            &metrics,
            Instrument::TokenUsage,
            &with(SONNET, ("gen_ai.token.type", "input"))
        ),
        histogram(8, 15, dec!(23000))
    );
    assert_eq!(
        value(
            &metrics,
            Instrument::TokenUsage,
            &with(SONNET, ("gen_ai.token.type", "output"))
        ),
        histogram(6, 15, dec!(1500))
    );
    assert_eq!(
        value(
            &metrics,
            Instrument::TokenUsage,
            &with(SONNET, ("gen_ai.token.type", "cache_read"))
        ),
        histogram(7, 15, dec!(8000))
    );
    // 2 s: (1.28, 2.56], index 8 of 15.
    assert_eq!(
        value(&metrics, Instrument::OperationDuration, &pairs(SONNET)),
        histogram(8, 15, dec!(2))
    );

    // GPT-4o: 600 × 2.50 / 1M = 0.0015 uncached, 400 × 1.25 / 1M = 0.0005 cached, 200 × 10 / 1M = 0.002.
    assert_eq!(
        value(
            &metrics,
            Instrument::Cost,
            &with(GPT, ("gen_ai.cost.type", "cache_read"))
        ),
        Value::Sum(dec!(0.0005))
    );
    // 0.004 total: (0.0025, 0.005], index 4; savings 1,000 × 2.50 / 1M − 0.002 = 0.0005.
    assert_eq!(
        value(&metrics, Instrument::RequestCost, &pairs(GPT)),
        histogram(4, 18, dec!(0.004))
    );
    assert_eq!(
        value(&metrics, Instrument::CacheSavings, &pairs(GPT)),
        Value::Sum(dec!(0.0005))
    );

    // The throttled call: no cost, but a request with its error type; 0.1 s in (0.08, 0.16], index 4.
    let throttled = pairs(&[
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o"),
        ("error.type", "429"),
        ("service.name", "chat-app"),
        ("deployment.environment", "prod"),
    ]);
    assert_eq!(
        value(&metrics, Instrument::OperationDuration, &throttled),
        histogram(4, 15, dec!(0.1))
    );

    let unknown = pairs(&[
        ("gen_ai.request.model", "llama-9"),
        ("service.name", "chat-app"),
        ("deployment.environment", "prod"),
        ("reason", "unknown_model"),
    ]);
    assert_eq!(
        value(&metrics, Instrument::Unpriced, &unknown),
        Value::Sum(dec!(1))
    );

    // Attribution inherited from the request span is copied onto the Sonnet span; the GPT span's own stays single.
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let keys = |span: &Span| {
        span.attributes
            .iter()
            .filter(|kv| kv.key == "user.id" || kv.key == "team")
            .count()
    };
    assert_eq!((keys(&spans[1]), keys(&spans[2])), (2, 1));
    assert!(spans[1]
        .attributes
        .iter()
        .any(|kv| kv.key == "gen_ai.usage.cost.threshold_exceeded"));
}

#[test]
fn cumulative_export_repeats_totals_with_a_fixed_start() {
    let (enricher, metrics) = metrics_for(CONFIG, None);
    record_fixed(&enricher, &metrics);
    let first = decoded(metrics.collect().unwrap());
    metrics.committed();
    record_fixed(&enricher, &metrics);
    let second = decoded(metrics.collect().unwrap());
    let savings = |request: &ExportMetricsServiceRequest| -> Vec<(u64, f64)> {
        let metric = request.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == "gen_ai.client.cache.savings")
            .unwrap();
        let Some(Data::Sum(sum)) = &metric.data else {
            panic!()
        };
        assert_eq!(sum.aggregation_temporality, 2);
        assert!(!sum.is_monotonic);
        let mut points: Vec<(u64, f64)> = sum
            .data_points
            .iter()
            .map(|p| match p.value {
                Some(
                    opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsDouble(v),
                ) => (p.start_time_unix_nano, v),
                _ => panic!(),
            })
            .collect();
        points.sort_by(|a, b| a.1.total_cmp(&b.1));
        points
    };
    let (a, b) = (savings(&first), savings(&second));
    assert_eq!(
        a.iter().map(|p| p.1).collect::<Vec<_>>(),
        vec![0.0005, 0.0141]
    );
    assert_eq!(
        b.iter().map(|p| p.1).collect::<Vec<_>>(),
        vec![0.001, 0.0282]
    );
    assert_eq!(a[0].0, b[0].0, "the start time stays");
    assert_eq!(
        first.resource_metrics[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes[1]
            .key,
        "service.instance.id"
    );
}

#[test]
fn delta_export_sends_changes_since_the_last_queued_export() {
    let (enricher, metrics) = metrics_for(CONFIG, Some("delta"));
    record_fixed(&enricher, &metrics);
    let first = decoded(metrics.collect().unwrap());
    metrics.committed();
    assert!(metrics.collect().is_none(), "nothing changed");
    metrics.committed();
    record_fixed(&enricher, &metrics);
    let second = decoded(metrics.collect().unwrap());
    let cost_points = |request: &ExportMetricsServiceRequest| {
        let metric = request.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == "gen_ai.client.request.cost")
            .unwrap();
        let Some(Data::Histogram(histogram)) = &metric.data else {
            panic!()
        };
        assert_eq!(histogram.aggregation_temporality, 1);
        let mut points: Vec<_> = histogram
            .data_points
            .iter()
            .map(|p| (p.count, p.sum, p.start_time_unix_nano, p.time_unix_nano))
            .collect();
        points.sort_by(|a, b| a.1.unwrap().total_cmp(&b.1.unwrap()));
        points
    };
    let (a, b) = (cost_points(&first), cost_points(&second));
    assert_eq!(
        a.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        vec![(1, Some(0.004)), (1, Some(0.0774))]
    );
    assert_eq!(
        b.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        vec![(1, Some(0.004)), (1, Some(0.0774))],
        "only the new calls"
    );
    assert!(
        b[0].2 >= a[0].3,
        "a delta starts where the previous one ended"
    );
}

#[test]
fn series_beyond_the_cardinality_limit_go_to_the_overflow_series() {
    let (enricher, metrics) = metrics_for(&format!("{CONFIG}  cardinality_limit: 3\n"), None);
    for user in 0..5 {
        let mut request = fixed_request();
        let spans = &mut request.resource_spans[0].scope_spans[0].spans;
        spans[2].attributes.retain(|kv| kv.key != "user.id");
        spans[2]
            .attributes
            .push(text("user.id", &format!("user-{user}")));
        let outcome = enricher.enrich_request(&mut request, &AgentCounters::default());
        metrics.record(outcome.records);
    }
    let overflow = pairs(&[(OVERFLOW_KEY, "true")]);
    let series: Vec<_> = metrics
        .snapshot()
        .into_iter()
        .filter(|(of, _, _)| *of == Instrument::RequestCost)
        .collect();
    assert_eq!(series.len(), 3, "two series and the overflow series");
    // Sonnet (5 × 0.0774) took the first series; user-0 the second; users 1–4 overflowed: 4 × 0.004.
    let Value::Histogram { count, sum, .. } = value(&metrics, Instrument::RequestCost, &overflow)
    else {
        panic!()
    };
    assert_eq!((count, sum), (4, dec!(0.016)));
    assert!(metrics.counters.metric_overflow_total() > 0);
}

#[test]
fn a_restarted_agent_starts_new_series_with_a_new_identity() {
    let (enricher, before) = metrics_for(CONFIG, None);
    record_fixed(&enricher, &before);
    let old = decoded(before.collect().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(2));
    let loaded = load_str(CONFIG, &[], |_| None).unwrap();
    let after = DerivedMetrics::new(
        &loaded.config.metrics,
        "USD",
        agent_identity(),
        Arc::new(AgentCounters::default()),
    );
    record_fixed(&enricher, &after);
    let new = decoded(after.collect().unwrap());
    let start = |request: &ExportMetricsServiceRequest| {
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        match &metric.data {
            Some(Data::Histogram(h)) => h.data_points[0].start_time_unix_nano,
            _ => panic!(),
        }
    };
    assert!(
        start(&new) > start(&old),
        "a restart is a reset with a later start time, not a spike"
    );
    let instance = |request: &ExportMetricsServiceRequest| {
        request.resource_metrics[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes[1]
            .clone()
    };
    assert_ne!(instance(&new), instance(&old));
}

/// The request a collection encoded, decoded; its bytes are exactly what prost writes for it.
pub(super) fn decoded(request: crate::otlp::EncodedRequest) -> ExportMetricsServiceRequest {
    use prost::Message;
    assert_eq!(request.signal, crate::otlp::Signal::Metrics);
    let decoded = ExportMetricsServiceRequest::decode(&request.bytes[..]).unwrap();
    assert_eq!(
        decoded.encode_to_vec(),
        request.bytes.to_vec(),
        "prost's encoding"
    );
    let points: usize = decoded.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|metric| match &metric.data {
            Some(Data::Histogram(histogram)) => histogram.data_points.len(),
            Some(Data::Sum(sum)) => sum.data_points.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(request.items, points as u64, "the points counted");
    decoded
}
