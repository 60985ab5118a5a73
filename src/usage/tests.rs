use super::*;
use crate::config::UsageConfig;
use crate::test_support::{attr, int, text};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};

fn reader() -> UsageReader {
    UsageReader::from_config(&UsageConfig::default()).unwrap()
}

fn read(attributes: &[KeyValue]) -> SpanUsage<'_> {
    reader().read(attributes, "chat", &Source::default())
}

fn usage_of(attributes: &[KeyValue]) -> TokenUsage {
    match read(attributes) {
        SpanUsage::Present(facts) => facts.usage,
        other => panic!("no usage: {other:?}"),
    }
}

#[test]
fn span_without_gen_ai_attributes_has_no_usage() {
    assert_eq!(read(&[text("http.route", "/chat")]), SpanUsage::Absent);
    assert_eq!(
        read(&[text("gen_ai.operation.name", "execute_tool")]),
        SpanUsage::Absent
    );
}

#[test]
fn model_call_without_tokens_is_a_call_without_usage() {
    let attributes = [
        text("gen_ai.request.model", "gpt-4o"),
        text("error.type", "429"),
    ];
    let SpanUsage::CallWithoutUsage(facts) = read(&attributes) else {
        panic!()
    };
    assert_eq!(
        (facts.request_model, facts.usage),
        (Some("gpt-4o"), TokenUsage::default())
    );
    assert!(matches!(
        read(&[text("openinference.span.kind", "LLM")]),
        SpanUsage::CallWithoutUsage(_)
    ));
}

#[test]
fn convention_attributes_are_read_with_the_response_model() {
    let attributes = [
        text("gen_ai.request.model", "claude-sonnet-4-6"),
        text("gen_ai.response.model", "claude-sonnet-4-6-20260101"),
        int("gen_ai.usage.input_tokens", 23_000),
        int("gen_ai.usage.output_tokens", 1_500),
        int("gen_ai.usage.cache_read.input_tokens", 8_000),
        int("gen_ai.usage.cache_creation.input_tokens", 10_000),
    ];
    let SpanUsage::Present(facts) = read(&attributes) else {
        panic!()
    };
    assert_eq!(facts.model, Some("claude-sonnet-4-6-20260101"));
    assert_eq!(
        facts.usage,
        TokenUsage {
            input: 23_000,
            output: 1_500,
            cache_read: 8_000,
            cache_write_5m: 10_000,
            ..Default::default()
        }
    );
    assert_eq!(facts.usage.uncached_input(), 5_000);
    assert_eq!(facts.semantics, InputSemantics::IncludesCache);
}

#[test]
fn deprecated_names_are_read_and_current_names_win() {
    let usage = usage_of(&[
        int("gen_ai.usage.prompt_tokens", 100),
        int("gen_ai.usage.completion_tokens", 7),
    ]);
    assert_eq!((usage.input, usage.output), (100, 7));
    let usage = usage_of(&[
        int("gen_ai.usage.prompt_tokens", 100),
        int("gen_ai.usage.input_tokens", 120),
    ]);
    assert_eq!(usage.input, 120);
}

#[test]
fn numbers_as_strings_and_integral_doubles_are_counts() {
    let usage = usage_of(&[
        text("gen_ai.usage.input_tokens", "42"),
        attr("gen_ai.usage.output_tokens", Value::DoubleValue(8.0)),
    ]);
    assert_eq!((usage.input, usage.output), (42, 8));
}

#[test]
fn negative_fractional_or_textual_counts_are_invalid() {
    assert_eq!(
        read(&[int("gen_ai.usage.input_tokens", -1)]),
        SpanUsage::Invalid
    );
    assert_eq!(
        read(&[attr("gen_ai.usage.input_tokens", Value::DoubleValue(1.5))]),
        SpanUsage::Invalid
    );
    assert_eq!(
        read(&[text("gen_ai.usage.output_tokens", "many")]),
        SpanUsage::Invalid
    );
    assert_eq!(
        read(&[attr("gen_ai.usage.output_tokens", Value::BoolValue(true))]),
        SpanUsage::Invalid
    );
}

#[test]
fn cache_parts_larger_than_input_are_read_as_excluding_cache() {
    let attributes = [
        int("gen_ai.usage.input_tokens", 100),
        int("gen_ai.usage.cache_read.input_tokens", 80),
        int("gen_ai.usage.cache_creation.input_tokens", 30),
    ];
    let SpanUsage::Present(facts) = read(&attributes) else {
        panic!()
    };
    assert_eq!(facts.semantics, InputSemantics::ExcludesCacheInferred);
    assert_eq!(
        (facts.usage.input, facts.usage.uncached_input()),
        (210, 100)
    );
}

#[test]
fn reasoning_larger_than_output_is_invalid() {
    assert_eq!(
        read(&[
            int("gen_ai.usage.output_tokens", 10),
            int("gen_ai.usage.reasoning.output_tokens", 11)
        ]),
        SpanUsage::Invalid
    );
}

#[test]
fn one_hour_writes_split_the_cache_write_count() {
    let usage = usage_of(&[
        int("gen_ai.usage.input_tokens", 20_000),
        int("gen_ai.usage.cache_write.input_tokens", 10_000),
        int(
            "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
            6_000,
        ),
    ]);
    assert_eq!((usage.cache_write_5m, usage.cache_write_1h), (4_000, 6_000));
    assert_eq!(
        read(&[
            int("gen_ai.usage.input_tokens", 20_000),
            int("gen_ai.usage.cache_write.input_tokens", 1_000),
            int(
                "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
                6_000
            )
        ]),
        SpanUsage::Invalid
    );
}

#[test]
fn batch_marker_and_web_searches_are_read() {
    let attributes = [
        int("gen_ai.usage.input_tokens", 10),
        attr("gen_ai.request.batch", Value::BoolValue(true)),
        int("gen_ai.usage.web_search_requests", 3),
    ];
    let SpanUsage::Present(facts) = read(&attributes) else {
        panic!()
    };
    assert!(facts.batch);
    assert_eq!(facts.usage.web_searches, 3);
}

#[test]
fn vercel_v6_details_mark_the_dialect() {
    let attributes = [
        text("ai.model.provider", "anthropic.messages"),
        int("ai.usage.inputTokens", 1_000),
        int("ai.usage.outputTokens", 10),
        int("ai.usage.inputTokenDetails.cacheReadTokens", 600),
    ];
    let SpanUsage::Present(facts) = read(&attributes) else {
        panic!()
    };
    assert_eq!(facts.dialect, Dialect::VercelV6);
    assert_eq!(facts.provider.as_deref(), Some("anthropic"));
    assert_eq!(facts.usage.input, 1_000, "v6 includes cache");
}

#[test]
fn vercel_v5_anthropic_input_excludes_cache() {
    let attributes = [
        text("ai.model.provider", "anthropic.messages"),
        int("ai.usage.inputTokens", 400),
        int("ai.usage.outputTokens", 10),
        int("ai.usage.cachedInputTokens", 600),
    ];
    let SpanUsage::Present(facts) = read(&attributes) else {
        panic!()
    };
    assert_eq!(facts.semantics, InputSemantics::ExcludesCache);
    assert_eq!(facts.usage.input, 1_000);
}

#[test]
fn vercel_embedding_count_is_the_input() {
    let attributes = [
        text("ai.model.provider", "openai.embedding"),
        text("ai.model.id", "text-embedding-3-small"),
        int("ai.usage.tokens", 5_000),
    ];
    let SpanUsage::Present(facts) = read(&attributes) else {
        panic!()
    };
    assert_eq!(facts.provider.as_deref(), Some("openai"));
    assert_eq!((facts.usage.input, facts.usage.output), (5_000, 0));
}

#[test]
fn counts_beyond_any_real_call_are_invalid() {
    assert_eq!(
        read(&[
            int("gen_ai.usage.input_tokens", 1_000_000_000_000),
            int("gen_ai.usage.output_tokens", 1_000_000_000_000),
        ]),
        SpanUsage::Invalid
    );
    assert_eq!(
        read(&[int("gen_ai.usage.input_tokens", 100_000_001)]),
        SpanUsage::Invalid
    );
    assert_eq!(
        read(&[
            int("gen_ai.usage.input_tokens", 10),
            int("gen_ai.usage.cache_read.input_tokens", 100_000_001),
        ]),
        SpanUsage::Invalid
    );
    assert_eq!(
        usage_of(&[
            int("gen_ai.usage.input_tokens", 100_000_000),
            int("gen_ai.usage.output_tokens", 100_000_000),
        ]),
        TokenUsage {
            input: 100_000_000,
            output: 100_000_000,
            ..TokenUsage::default()
        }
    );
}

#[test]
fn input_above_the_bound_once_cache_is_added_is_invalid() {
    // Input that excludes cache (inferred: the cache parts exceed it) plus the cache parts.
    assert_eq!(
        read(&[
            int("gen_ai.usage.input_tokens", 60_000_000),
            int("gen_ai.usage.cache_read.input_tokens", 70_000_000),
        ]),
        SpanUsage::Invalid
    );
}

#[test]
fn the_token_bound_is_configurable() {
    let config = UsageConfig {
        max_tokens_per_call: 1_000,
        ..UsageConfig::default()
    };
    let reader = UsageReader::from_config(&config).unwrap();
    let read = |input| {
        let attributes = [int("gen_ai.usage.input_tokens", input)];
        matches!(
            reader.read(&attributes[..], "chat", &Source::default()),
            SpanUsage::Present(_)
        )
    };
    assert!(read(1_000));
    assert!(!read(1_001));
}
