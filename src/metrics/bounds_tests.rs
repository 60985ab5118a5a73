//! Tests of the derived metrics' bounds: the cardinality limit before anything of a new
//! dimension set is stored, dimension values cut to their configured length, parked records.

use super::*;
use crate::config::load_str;
use crate::enrich::Enricher;
use crate::pricing::CostBreakdown;
use crate::test_support::{int, text};
use crate::usage::TokenUsage;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use rust_decimal_macros::dec;

fn metrics(config: &str) -> DerivedMetrics {
    let loaded = load_str(config, &[], |_| None).unwrap();
    DerivedMetrics::new(
        &loaded.config.metrics,
        "USD",
        vec![("service.name".into(), "genai-cost-agent".into())],
        Arc::new(AgentCounters::default()),
    )
}

/// A priced GPT-4o call of `user`: 10 input and 5 output tokens, 0.0001 + 0.0002, 1 s.
fn call(user: &str) -> CallRecord {
    CallRecord {
        span: Default::default(),
        price_id: None,
        dimensions: vec![
            ("gen_ai.operation.name".into(), "chat".into()),
            ("gen_ai.provider.name".into(), "openai".into()),
            ("gen_ai.request.model".into(), "gpt-4o".into()),
            ("service.name".into(), "chat-app".into()),
            ("user.id".into(), user.into()),
        ],
        usage: Some(TokenUsage {
            input: 10,
            output: 5,
            ..Default::default()
        }),
        cost: Some(CostBreakdown {
            input: dec!(0.0001),
            output: dec!(0.0002),
            total: dec!(0.0003),
            ..Default::default()
        }),
        duration_seconds: Some(dec!(1)),
        unpriced: None,
        thresholds_exceeded: Vec::new(),
    }
}

fn overflow_key() -> SeriesKey {
    vec![(OVERFLOW_KEY.to_string(), "true".to_string())]
}

/// Series of `instrument` in the snapshot: (user.id or "overflow", extra attribute value).
fn series_of(metrics: &DerivedMetrics, instrument: Instrument) -> Vec<(String, Value)> {
    metrics
        .snapshot()
        .into_iter()
        .filter(|(of, _, _)| *of == instrument)
        .map(|(_, key, value)| {
            let user = key
                .iter()
                .find(|(k, _)| k == "user.id")
                .map_or("overflow".to_string(), |(_, v)| v.clone());
            (user, value)
        })
        .collect()
}

fn interned(metrics: &DerivedMetrics) -> usize {
    metrics.state.lock().unwrap().interned()
}

#[test]
fn a_million_distinct_user_ids_keep_the_limit_and_store_no_more_dimension_sets() {
    let metrics = metrics("metrics: { cardinality_limit: 2000 }\n");
    const USERS: u64 = 1_000_000;
    for batch in 0..USERS / 10_000 {
        let records = (batch * 10_000..(batch + 1) * 10_000)
            .map(|user| call(&format!("user-{user:07}")))
            .collect();
        metrics.record(records);
    }
    // Duration, request cost and savings: one series per call, 1,999 users and the overflow.
    // Tokens and cost: two series per call (input, output): users 0–998 both, user 999 its
    // input only; everything after goes to the overflow.
    assert_eq!(interned(&metrics), 1999, "only sets that got a series");
    let duration = series_of(&metrics, Instrument::OperationDuration);
    assert_eq!(duration.len(), 2000);
    let Value::Histogram { count, sum, .. } = value_of(&metrics, Instrument::OperationDuration)
    else {
        panic!()
    };
    assert_eq!((count, sum), (USERS - 1999, Decimal::from(USERS - 1999)));
    let tokens = series_of(&metrics, Instrument::TokenUsage);
    assert_eq!(tokens.len(), 2000);
    assert_eq!(
        tokens
            .iter()
            .filter(|(user, _)| user == "user-0000999")
            .count(),
        1,
        "user 999 got the last token series: its input"
    );
    let Value::Histogram { count, sum, .. } = value_of(&metrics, Instrument::TokenUsage) else {
        panic!()
    };
    assert_eq!((count, sum), (2 * USERS - 1999, dec!(14_985_005)));
    assert_eq!(
        value_of(&metrics, Instrument::Cost),
        Value::Sum(dec!(0.0003) * Decimal::from(USERS - 1000) + dec!(0.0002))
    );
    assert_eq!(
        metrics.counters.metric_overflow_total(),
        3 * (USERS - 1999) + 2 * (2 * USERS - 1999)
    );
    // Known users keep their series; a new interval does not let new users in.
    metrics.record(vec![call("user-0000001"), call("user-2000000")]);
    assert!(metrics.collect().is_some());
    assert_eq!(interned(&metrics), 1999);
    assert_eq!(
        series_of(&metrics, Instrument::OperationDuration).len(),
        2000
    );
}

fn value_of(metrics: &DerivedMetrics, instrument: Instrument) -> Value {
    metrics
        .snapshot()
        .into_iter()
        .find(|(of, key, _)| *of == instrument && *key == overflow_key())
        .map(|(_, _, value)| value)
        .unwrap()
}

#[test]
fn a_full_table_stores_nothing_of_a_new_dimension_set() {
    let metrics = metrics("metrics: { cardinality_limit: 3 }\n");
    metrics.record(vec![call("a"), call("b"), call("c"), call("d")]);
    // Duration: a, b and the overflow (c, d); tokens: a's input and output, the overflow.
    let users = |instrument| -> Vec<String> {
        series_of(&metrics, instrument)
            .into_iter()
            .map(|(user, _)| user)
            .collect()
    };
    assert_eq!(users(Instrument::OperationDuration), ["a", "b", "overflow"]);
    assert_eq!(users(Instrument::TokenUsage), ["a", "a", "overflow"]);
    assert_eq!(interned(&metrics), 2, "c and d were never stored");
    // Each call has 7 points; b's 4 token and cost points overflow, and all of c's and d's.
    assert_eq!(metrics.counters.metric_overflow_total(), 4 + 7 + 7);
}

#[test]
fn dimension_sets_of_forgotten_series_are_released_and_their_room_reused() {
    let metrics = metrics("metrics: { cardinality_limit: 3, series_idle_timeout: 1ms }\n");
    metrics.record(vec![call("a"), call("b")]);
    assert_eq!(interned(&metrics), 2);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(metrics.collect().is_none(), "every series was idle");
    assert_eq!(interned(&metrics), 0);
    metrics.record(vec![call("c")]);
    assert_eq!(interned(&metrics), 1);
    let users: Vec<String> = series_of(&metrics, Instrument::OperationDuration)
        .into_iter()
        .map(|(user, _)| user)
        .collect();
    assert_eq!(users, ["c"]);
}

#[test]
fn parked_records_are_bounded_in_bytes() {
    let metrics = metrics("metrics: {}\n");
    let batch = || -> Vec<CallRecord> { (0..100).map(|n| call(&"u".repeat(n + 200))).collect() };
    let bytes: usize = batch().iter().map(limits::heap_bytes).sum();
    let fits = MAX_PARKED_BYTES / bytes;
    for _ in 0..fits {
        assert!(metrics.park(batch()).is_none());
    }
    assert!(metrics.park(batch()).is_some(), "beyond the bound: refused");
    let parked = metrics.parked.lock().unwrap();
    assert_eq!(parked.records.len(), fits * 100);
    assert!(parked.bytes <= MAX_PARKED_BYTES);
}

#[test]
fn an_empty_park_takes_one_batch_of_any_size() {
    let metrics = metrics("metrics: {}\n");
    let big: Vec<CallRecord> = (0..40_000).map(|n| call(&n.to_string())).collect();
    assert!(metrics.park(big).is_none());
    assert!(metrics.park(vec![call("late")]).is_some());
}

const LONG: usize = 100_000;

/// A model name of `LONG` bytes, distinct in its first bytes.
fn long_model(number: usize) -> String {
    let head = format!("model-{number:03}-");
    format!("{head}{}", "m".repeat(LONG - head.len()))
}

/// 300 calls of distinct 100 KB models (unknown to the catalog), one request span each.
fn long_model_request() -> ExportTraceServiceRequest {
    let spans = (0..300)
        .map(|number| Span {
            trace_id: vec![7; 16],
            span_id: (number as u64 + 1).to_be_bytes().to_vec(),
            name: "chat".into(),
            start_time_unix_nano: 1_000_000_000,
            end_time_unix_nano: 2_000_000_000,
            attributes: vec![
                text("gen_ai.operation.name", "chat"),
                text("gen_ai.request.model", &long_model(number)),
                text("gen_ai.response.model", &long_model(number)),
                int("gen_ai.usage.input_tokens", 10),
                int("gen_ai.usage.output_tokens", 5),
            ],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "chat-app")],
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

#[test]
fn long_model_names_are_cut_for_every_output_and_left_whole_on_spans() {
    let config = "metrics: { max_label_value_length: 256 }\n";
    let loaded = load_str(config, &[], |_| None).unwrap();
    let enricher = Enricher::from_config(&loaded.config).unwrap();
    let metrics = metrics(config);
    let mut request = long_model_request();
    let outcome = enricher.enrich_request(&mut request, &AgentCounters::default());
    metrics.record(outcome.records);

    assert_eq!(
        metrics.counters.label_values_truncated_total(),
        600,
        "request and response model of 300 calls"
    );
    let snapshot = metrics.snapshot();
    assert!(snapshot
        .iter()
        .flat_map(|(_, key, _)| key)
        .all(|(_, value)| value.len() <= 256));
    let models: std::collections::BTreeSet<&str> = snapshot
        .iter()
        .flat_map(|(_, key, _)| key)
        .filter(|(key, _)| key == "gen_ai.request.model")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(models.len(), 300);
    assert_eq!(
        models.first().copied(),
        Some(&long_model(0)[..256]),
        "the first 256 bytes"
    );
    let otlp = super::tests::decoded(metrics.collect().unwrap());
    let otlp_values: Vec<usize> = otlp.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .flat_map(|metric| match &metric.data {
            Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Histogram(h)) => h
                .data_points
                .iter()
                .flat_map(|point| point.attributes.clone())
                .collect::<Vec<_>>(),
            Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(s)) => s
                .data_points
                .iter()
                .flat_map(|point| point.attributes.clone())
                .collect(),
            _ => Vec::new(),
        })
        .filter_map(|kv| match kv.value?.value? {
            any_value::Value::StringValue(value) => Some(value.len()),
            _ => None,
        })
        .collect();
    assert!(!otlp_values.is_empty());
    assert!(otlp_values.iter().all(|len| *len <= 256));

    let page = render_prometheus(&metrics);
    eprintln!("prometheus page: {} bytes", page.len());
    assert!(page.len() < PAGE_BOUND, "{} bytes", page.len());

    let span_models: Vec<usize> = request.resource_spans[0].scope_spans[0]
        .spans
        .iter()
        .filter_map(|span| {
            crate::otlp::view::Attributes::str(&span.attributes, "gen_ai.request.model")
        })
        .map(str::len)
        .collect();
    assert_eq!(span_models, vec![LONG; 300], "spans keep the names whole");
}

/// Per call: the token histogram (input and output) and the duration histogram, 14 bounds so 17
/// lines a series, and the unpriced counter: 52 lines, each two 256-byte model names and at most
/// 256 bytes of the rest (name, other labels, value). Uncut, the same page was 3 GB.
const PAGE_BOUND: usize = 300 * (3 * 17 + 1) * (2 * 256 + 256);
