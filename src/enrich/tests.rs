use super::*;
use crate::config::load_str;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

fn enricher() -> Enricher {
    let text = r#"
pricing:
  models:
    - id: claude-sonnet-4-6
      provider: anthropic
      match: [claude-sonnet-4-6, "claude-sonnet-4-6-*"]
      input: "3"
      output: "15"
      cache_read: "0.30"
      cache_write: "3.75"
"#;
    let loaded = load_str(text, &[], |_| None).unwrap();
    Enricher::new(Catalog::from_config(&loaded.config.pricing))
}

fn attr(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn span(attributes: Vec<KeyValue>) -> Span {
    Span {
        name: "chat".into(),
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

fn worked_example_span() -> Span {
    span(vec![
        attr(
            "gen_ai.request.model",
            Value::StringValue("claude-sonnet-4-6".into()),
        ),
        attr("gen_ai.usage.input_tokens", Value::IntValue(23_000)),
        attr("gen_ai.usage.output_tokens", Value::IntValue(1_500)),
        attr(
            "gen_ai.usage.cache_read.input_tokens",
            Value::IntValue(8_000),
        ),
        attr(
            "gen_ai.usage.cache_creation.input_tokens",
            Value::IntValue(10_000),
        ),
        attr("user.id", Value::StringValue("u-1".into())),
    ])
}

#[test]
fn priced_span_gains_every_cost_attribute_and_keeps_its_own() {
    let mut span = worked_example_span();
    let original = span.attributes.clone();
    assert_eq!(enricher().enrich_span(&mut span), SpanOutcome::Priced);
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
    expect(
        "gen_ai.usage.cache.hit_ratio",
        Value::DoubleValue(8000.0 / 23000.0),
    );
    expect("gen_ai.usage.cache.savings", Value::DoubleValue(0.0141));
    expect(
        "gen_ai.usage.cost.price_id",
        Value::StringValue("claude-sonnet-4-6".into()),
    );
    assert_eq!(span.attributes.len(), original.len() + 10);
}

#[test]
fn span_without_usage_is_untouched() {
    let mut plain = span(vec![attr("http.route", Value::StringValue("/chat".into()))]);
    let before = plain.clone();
    assert_eq!(enricher().enrich_span(&mut plain), SpanOutcome::Untouched);
    assert_eq!(plain, before);
}

#[test]
fn unknown_model_gets_only_the_reason() {
    let mut unknown = span(vec![
        attr(
            "gen_ai.request.model",
            Value::StringValue("llama-99".into()),
        ),
        attr("gen_ai.usage.input_tokens", Value::IntValue(10)),
    ]);
    assert_eq!(
        enricher().enrich_span(&mut unknown),
        SpanOutcome::Unpriced(UnpricedReason::UnknownModel)
    );
    assert_eq!(unknown.attributes.len(), 3);
    assert_eq!(
        value_of(&unknown, "gen_ai.usage.cost.unpriced_reason"),
        Some(&Value::StringValue("unknown_model".into()))
    );
}

#[test]
fn invalid_and_modelless_usage_are_marked() {
    let mut invalid = span(vec![
        attr(
            "gen_ai.request.model",
            Value::StringValue("claude-sonnet-4-6".into()),
        ),
        attr("gen_ai.usage.input_tokens", Value::IntValue(-5)),
    ]);
    assert_eq!(
        enricher().enrich_span(&mut invalid),
        SpanOutcome::Unpriced(UnpricedReason::InvalidUsage)
    );
    let mut modelless = span(vec![attr("gen_ai.usage.output_tokens", Value::IntValue(5))]);
    assert_eq!(
        enricher().enrich_span(&mut modelless),
        SpanOutcome::Unpriced(UnpricedReason::MissingModel)
    );
}

#[test]
fn enriching_twice_adds_nothing_the_second_time() {
    let mut span = worked_example_span();
    let enricher = enricher();
    enricher.enrich_span(&mut span);
    let once = span.clone();
    assert_eq!(enricher.enrich_span(&mut span), SpanOutcome::Untouched);
    assert_eq!(span, once);
}
