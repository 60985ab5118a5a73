use super::*;
use crate::config::load_str;
use crate::test_support::parent_id;
use crate::test_support::{attr, int, text};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};

fn enricher_with(extra: &str) -> Enricher {
    let loaded = load_str(extra, &[], |_| None).unwrap();
    Enricher::from_config(&loaded.config).unwrap()
}

fn enricher() -> Enricher {
    enricher_with("")
}

fn span(span_id: u8, parent: u8, attributes: Vec<KeyValue>) -> Span {
    Span {
        name: "chat".into(),
        trace_id: vec![1; 16],
        span_id: vec![span_id; 8],
        parent_span_id: parent_id(parent),
        start_time_unix_nano: 1_780_000_000_000_000_000, // 2026-05-28
        attributes,
        ..Default::default()
    }
}

fn value_of<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn worked_example_attributes() -> Vec<KeyValue> {
    vec![
        text("gen_ai.request.model", "claude-sonnet-4-6"),
        int("gen_ai.usage.input_tokens", 23_000),
        int("gen_ai.usage.output_tokens", 1_500),
        int("gen_ai.usage.cache_read.input_tokens", 8_000),
        int("gen_ai.usage.cache_creation.input_tokens", 10_000),
        text("user.id", "u-1"),
    ]
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    crate::test_support::traces_request(spans)
}

fn spans_of(request: &ExportTraceServiceRequest) -> &[Span] {
    &request.resource_spans[0].scope_spans[0].spans
}

#[test]
fn priced_span_gains_every_cost_attribute_and_keeps_its_own() {
    let mut span = span(1, 0, worked_example_attributes());
    let original = span.attributes.clone();
    assert_eq!(
        enricher().enrich_span(&mut span, &Source::default()),
        SpanOutcome::Priced
    );
    assert_eq!(&span.attributes[..original.len()], &original[..]);
    let expect = |key: &str, value: Value| assert_eq!(value_of(&span, key), Some(&value), "{key}");
    expect("gen_ai.usage.cost.amount", Value::DoubleValue(0.0774));
    expect(
        "gen_ai.usage.cost.currency",
        Value::StringValue("USD".into()),
    );
    expect(
        "gen_ai.usage.cost.source",
        Value::StringValue("local".into()),
    );
    expect("gen_ai.usage.cost.input", Value::DoubleValue(0.015));
    expect("gen_ai.usage.cost.output", Value::DoubleValue(0.0225));
    expect("gen_ai.usage.cost.cache_read", Value::DoubleValue(0.0024));
    expect(
        "gen_ai.usage.cost.cache_creation",
        Value::DoubleValue(0.0375),
    );
    expect("gen_ai.usage.cost.tools", Value::DoubleValue(0.0));
    expect(
        "gen_ai.usage.cache.hit_ratio",
        Value::DoubleValue(8000.0 / 23000.0),
    );
    expect("gen_ai.usage.cache.savings", Value::DoubleValue(0.0141));
    expect(
        "gen_ai.usage.cost.price_id",
        Value::StringValue("claude-sonnet-4-6@2026-03-13".into()),
    );
    expect(
        "gen_ai.usage.cost.input_semantics",
        Value::StringValue("includes_cache".into()),
    );
    assert_eq!(span.attributes.len(), original.len() + 12);
}

#[test]
fn span_without_usage_is_untouched() {
    let mut plain = span(1, 0, vec![text("http.route", "/chat")]);
    let before = plain.clone();
    assert_eq!(
        enricher().enrich_span(&mut plain, &Source::default()),
        SpanOutcome::Untouched
    );
    assert_eq!(plain, before);
}

#[test]
fn unknown_model_gets_only_the_reason() {
    let mut unknown = span(
        1,
        0,
        vec![
            text("gen_ai.request.model", "llama-99"),
            int("gen_ai.usage.input_tokens", 10),
        ],
    );
    assert_eq!(
        enricher().enrich_span(&mut unknown, &Source::default()),
        SpanOutcome::Unpriced(UnpricedReason::UnknownModel)
    );
    assert_eq!(unknown.attributes.len(), 3);
    assert_eq!(
        value_of(&unknown, "gen_ai.usage.cost.unpriced_reason"),
        Some(&Value::StringValue("unknown_model".into()))
    );
}

#[test]
fn fallback_prices_unknown_models_when_configured() {
    let enricher = enricher_with("pricing:\n  fallback: gpt-4o-mini\n");
    let mut unknown = span(
        1,
        0,
        vec![
            text("gen_ai.request.model", "llama-99"),
            int("gen_ai.usage.input_tokens", 1_000_000),
        ],
    );
    assert_eq!(
        enricher.enrich_span(&mut unknown, &Source::default()),
        SpanOutcome::Priced
    );
    assert_eq!(
        value_of(&unknown, "gen_ai.usage.cost.amount"),
        Some(&Value::DoubleValue(0.15))
    );
    assert_eq!(
        value_of(&unknown, "gen_ai.usage.cost.price_id"),
        Some(&Value::StringValue(
            "gpt-4o-mini@2026-01-01+fallback".into()
        ))
    );
}

#[test]
fn invalid_and_modelless_usage_are_marked() {
    let mut invalid = span(
        1,
        0,
        vec![
            text("gen_ai.request.model", "claude-sonnet-4-6"),
            int("gen_ai.usage.input_tokens", -5),
        ],
    );
    assert_eq!(
        enricher().enrich_span(&mut invalid, &Source::default()),
        SpanOutcome::Unpriced(UnpricedReason::InvalidUsage)
    );
    let mut modelless = span(1, 0, vec![int("gen_ai.usage.output_tokens", 5)]);
    assert_eq!(
        enricher().enrich_span(&mut modelless, &Source::default()),
        SpanOutcome::Unpriced(UnpricedReason::MissingModel)
    );
}

#[test]
fn agent_spans_repeating_usage_are_not_priced() {
    let mut attributes = worked_example_attributes();
    attributes.push(text("gen_ai.operation.name", "invoke_agent"));
    let mut agent = span(1, 0, attributes);
    assert_eq!(
        enricher().enrich_span(&mut agent, &Source::default()),
        SpanOutcome::Unpriced(UnpricedReason::AggregateSpan)
    );
}

#[test]
fn enriching_twice_adds_nothing_the_second_time() {
    let mut span = span(1, 0, worked_example_attributes());
    let enricher = enricher();
    enricher.enrich_span(&mut span, &Source::default());
    let once = span.clone();
    assert_eq!(
        enricher.enrich_span(&mut span, &Source::default()),
        SpanOutcome::Untouched
    );
    assert_eq!(span, once);
}

#[test]
fn two_spans_for_one_call_are_priced_once_preferring_the_more_precise() {
    let counters = AgentCounters::default();
    let mut instrumentation = worked_example_attributes();
    instrumentation.push(text("gen_ai.response.id", "msg_01"));
    let mut sdk = vec![
        text("gen_ai.request.model", "claude-sonnet-4-6"),
        int("gen_ai.usage.input_tokens", 23_000),
        int("gen_ai.usage.output_tokens", 1_500),
        int("gen_ai.usage.cache_read.input_tokens", 8_000),
        int("gen_ai.usage.cache_write.input_tokens", 10_000),
        int(
            "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
            4_000,
        ),
        int(
            "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
            6_000,
        ),
    ];
    sdk.push(text("gen_ai.response.id", "msg_01"));
    let mut both = request(vec![span(2, 9, instrumentation), span(3, 9, sdk)]);
    let outcome = enricher().enrich_request(&mut both, &counters);
    assert_eq!((outcome.priced, outcome.unpriced), (1, 1));
    let spans = spans_of(&both);
    assert_eq!(
        value_of(&spans[0], "gen_ai.usage.cost.unpriced_reason"),
        Some(&Value::StringValue("duplicate".into()))
    );
    assert_eq!(
        value_of(&spans[0], "gen_ai.usage.cost.duplicate_of"),
        Some(&Value::StringValue("0303030303030303".into()))
    );
    // The SDK span carries the 5m/1h split: 4,000 × 3.75 / 1M + 6,000 × 6 / 1M = 0.015 + 0.036.
    assert_eq!(
        value_of(&spans[1], "gen_ai.usage.cost.cache_creation"),
        Some(&Value::DoubleValue(0.051))
    );
    assert_eq!(counters.unpriced_total(UnpricedReason::Duplicate), 1);
}

#[test]
fn output_dialects_are_written_only_where_absent() {
    let enricher = enricher_with("enrich:\n  output_dialects: [openinference, openlit]\n");
    let mut attributes = worked_example_attributes();
    attributes.push(attr("gen_ai.usage.cost", Value::DoubleValue(0.05)));
    let mut span = span(1, 0, attributes);
    enricher.enrich_span(&mut span, &Source::default());
    assert_eq!(
        value_of(&span, "llm.cost.total"),
        Some(&Value::DoubleValue(0.0774))
    );
    assert_eq!(
        value_of(&span, "llm.cost.prompt"),
        Some(&Value::DoubleValue(0.0549))
    );
    assert_eq!(
        value_of(&span, "llm.cost.completion"),
        Some(&Value::DoubleValue(0.0225))
    );
    assert_eq!(
        value_of(&span, "gen_ai.usage.cost"),
        Some(&Value::DoubleValue(0.05)),
        "the span's own value stays"
    );
    assert_eq!(
        span.attributes
            .iter()
            .filter(|kv| kv.key == "gen_ai.usage.cost")
            .count(),
        1
    );
}

#[test]
fn existing_cost_is_trusted_when_configured() {
    let enricher = enricher_with("enrich:\n  existing_cost: trust\n");
    let mut attributes = worked_example_attributes();
    attributes.push(attr("llm.cost.total", Value::DoubleValue(0.08)));
    let mut span = span(1, 0, attributes);
    assert_eq!(
        enricher.enrich_span(&mut span, &Source::default()),
        SpanOutcome::Priced
    );
    assert_eq!(
        value_of(&span, "gen_ai.usage.cost.amount"),
        Some(&Value::DoubleValue(0.08))
    );
    assert_eq!(
        value_of(&span, "gen_ai.usage.cost.source"),
        Some(&Value::StringValue("provider".into()))
    );
}

#[test]
fn an_existing_cost_that_is_not_a_real_amount_is_flagged_and_not_trusted() {
    let enricher = enricher_with("enrich:\n  existing_cost: trust\n");
    for (key, bad) in [
        ("llm.cost.total", Value::DoubleValue(-0.08)),
        ("llm.cost.total", Value::DoubleValue(f64::NAN)),
        ("gen_ai.usage.cost", Value::DoubleValue(f64::INFINITY)),
        ("gen_ai.usage.cost", Value::StringValue("-1".into())),
        ("llm.cost.prompt", Value::StringValue("NaN".into())),
    ] {
        let mut attributes = worked_example_attributes();
        attributes.push(attr("llm.cost.total", Value::DoubleValue(0.08)));
        attributes.retain(|kv| kv.key != key);
        attributes.push(attr(key, bad.clone()));
        let mut span = span(1, 0, attributes);
        assert_eq!(
            enricher.enrich_span(&mut span, &Source::default()),
            SpanOutcome::Priced
        );
        assert_eq!(
            value_of(&span, "gen_ai.usage.cost.source"),
            Some(&Value::StringValue("local".into())),
            "{key} = {bad:?}"
        );
        assert_eq!(
            value_of(&span, "gen_ai.usage.cost.invalid_existing_cost"),
            Some(&Value::StringValue(key.into()))
        );
        assert_eq!(
            value_of(&span, "gen_ai.usage.cost.amount"),
            Some(&Value::DoubleValue(0.0774))
        );
    }
}

#[test]
fn absurd_token_counts_are_invalid_usage_not_spend() {
    let enricher = enricher_with("");
    let mut span = span(
        1,
        0,
        vec![
            text("gen_ai.request.model", "claude-sonnet-4-6"),
            int("gen_ai.usage.input_tokens", 1_000_000_000_000),
            int("gen_ai.usage.output_tokens", 1_000_000_000_000),
        ],
    );
    assert_eq!(
        enricher.enrich_span(&mut span, &Source::default()),
        SpanOutcome::Unpriced(UnpricedReason::InvalidUsage)
    );
    assert_eq!(value_of(&span, "gen_ai.usage.cost.amount"), None);
    assert_eq!(
        value_of(&span, "gen_ai.usage.cost.unpriced_reason"),
        Some(&Value::StringValue("invalid_usage".into()))
    );
}
