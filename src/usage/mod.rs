//! Reading token usage and the model off a span's attributes, and deciding whether the counts
//! make sense. The OpenTelemetry GenAI convention is the reading here: input includes cache
//! reads and cache writes.

use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};

/// Token counts of one model call. `input` is all input tokens, cache reads and writes included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenUsage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_creation: u64,
}

impl TokenUsage {
    /// Input tokens neither read from nor written to the cache.
    pub fn uncached_input(&self) -> u64 {
        self.input - self.cache_read - self.cache_creation
    }
}

/// What a span says about token usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanUsage<'a> {
    /// No gen_ai token attribute: not a model call the agent prices.
    Absent,
    /// Consistent usage, with the billed model when the span names one.
    Present {
        model: Option<&'a str>,
        usage: TokenUsage,
    },
    /// Token attributes that cannot be counts, or parts larger than the whole.
    Invalid,
}

pub mod keys {
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    pub const PROMPT_TOKENS: &str = "gen_ai.usage.prompt_tokens";
    pub const COMPLETION_TOKENS: &str = "gen_ai.usage.completion_tokens";
    pub const CACHE_READ_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
    pub const CACHE_CREATION_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
}

/// The raw attribute values found in one pass; the current names win over deprecated ones.
#[derive(Default)]
struct Found<'a> {
    input: Option<&'a Option<Value>>,
    prompt: Option<&'a Option<Value>>,
    output: Option<&'a Option<Value>>,
    completion: Option<&'a Option<Value>>,
    cache_read: Option<&'a Option<Value>>,
    cache_creation: Option<&'a Option<Value>>,
    response_model: Option<&'a str>,
    request_model: Option<&'a str>,
}

/// Reads the usage of one span from its attributes.
pub fn read_usage(attributes: &[KeyValue]) -> SpanUsage<'_> {
    let mut found = Found::default();
    for attribute in attributes {
        let Some(value) = attribute.value.as_ref().map(|any| &any.value) else {
            continue;
        };
        match attribute.key.as_str() {
            keys::INPUT_TOKENS => found.input = Some(value),
            keys::PROMPT_TOKENS => found.prompt = Some(value),
            keys::OUTPUT_TOKENS => found.output = Some(value),
            keys::COMPLETION_TOKENS => found.completion = Some(value),
            keys::CACHE_READ_TOKENS => found.cache_read = Some(value),
            keys::CACHE_CREATION_TOKENS => found.cache_creation = Some(value),
            keys::RESPONSE_MODEL => found.response_model = non_empty_str(value),
            keys::REQUEST_MODEL => found.request_model = non_empty_str(value),
            _ => {}
        }
    }
    let input = found.input.or(found.prompt);
    let output = found.output.or(found.completion);
    if input.is_none() && output.is_none() {
        return SpanUsage::Absent;
    }
    let counts = (|| {
        Some(TokenUsage {
            input: count_or_zero(input)?,
            output: count_or_zero(output)?,
            cache_read: count_or_zero(found.cache_read)?,
            cache_creation: count_or_zero(found.cache_creation)?,
        })
    })();
    match counts {
        Some(usage)
            if usage
                .cache_read
                .checked_add(usage.cache_creation)
                .is_some_and(|parts| parts <= usage.input) =>
        {
            SpanUsage::Present {
                model: found.response_model.or(found.request_model),
                usage,
            }
        }
        _ => SpanUsage::Invalid,
    }
}

fn non_empty_str(value: &Option<Value>) -> Option<&str> {
    match value {
        Some(Value::StringValue(text)) if !text.trim().is_empty() => Some(text.as_str()),
        _ => None,
    }
}

/// A missing attribute counts zero; a present one must be a whole, non-negative number.
fn count_or_zero(value: Option<&Option<Value>>) -> Option<u64> {
    match value {
        None => Some(0),
        Some(value) => token_count(value.as_ref()?),
    }
}

/// Accepts integers, integral doubles and decimal strings of whole numbers; nothing negative.
fn token_count(value: &Value) -> Option<u64> {
    match value {
        Value::IntValue(count) => u64::try_from(*count).ok(),
        Value::DoubleValue(count) if count.fract() == 0.0 && *count >= 0.0 && *count < 9.0e15 => {
            Some(*count as u64)
        }
        Value::StringValue(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn attr(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }
    fn int(key: &str, count: i64) -> KeyValue {
        attr(key, Value::IntValue(count))
    }
    fn text(key: &str, text: &str) -> KeyValue {
        attr(key, Value::StringValue(text.into()))
    }

    #[test]
    fn span_without_token_attributes_has_no_usage() {
        assert_eq!(
            read_usage(&[text(keys::REQUEST_MODEL, "gpt-4o")]),
            SpanUsage::Absent
        );
    }

    #[test]
    fn convention_attributes_are_read_with_the_response_model() {
        let attributes = [
            text(keys::REQUEST_MODEL, "claude-sonnet-4-6"),
            text(keys::RESPONSE_MODEL, "claude-sonnet-4-6-20260101"),
            int(keys::INPUT_TOKENS, 23_000),
            int(keys::OUTPUT_TOKENS, 1_500),
            int(keys::CACHE_READ_TOKENS, 8_000),
            int(keys::CACHE_CREATION_TOKENS, 10_000),
        ];
        let expected = TokenUsage {
            input: 23_000,
            output: 1_500,
            cache_read: 8_000,
            cache_creation: 10_000,
        };
        assert_eq!(
            read_usage(&attributes),
            SpanUsage::Present {
                model: Some("claude-sonnet-4-6-20260101"),
                usage: expected
            }
        );
        assert_eq!(expected.uncached_input(), 5_000);
    }

    #[test]
    fn deprecated_names_are_read_and_current_names_win() {
        let attributes = [
            text(keys::REQUEST_MODEL, "gpt-4o"),
            int(keys::PROMPT_TOKENS, 100),
            int(keys::COMPLETION_TOKENS, 7),
        ];
        let SpanUsage::Present { usage, model } = read_usage(&attributes) else {
            panic!()
        };
        assert_eq!((usage.input, usage.output, model), (100, 7, Some("gpt-4o")));

        let both = [int(keys::PROMPT_TOKENS, 100), int(keys::INPUT_TOKENS, 120)];
        let SpanUsage::Present { usage, model } = read_usage(&both) else {
            panic!()
        };
        assert_eq!((usage.input, model), (120, None));
    }

    #[test]
    fn numbers_as_strings_and_integral_doubles_are_counts() {
        let attributes = [
            text(keys::INPUT_TOKENS, "42"),
            attr(keys::OUTPUT_TOKENS, Value::DoubleValue(8.0)),
        ];
        let SpanUsage::Present { usage, .. } = read_usage(&attributes) else {
            panic!()
        };
        assert_eq!((usage.input, usage.output), (42, 8));
    }

    #[test]
    fn negative_fractional_or_textual_counts_are_invalid() {
        assert_eq!(
            read_usage(&[int(keys::INPUT_TOKENS, -1)]),
            SpanUsage::Invalid
        );
        assert_eq!(
            read_usage(&[attr(keys::INPUT_TOKENS, Value::DoubleValue(1.5))]),
            SpanUsage::Invalid
        );
        assert_eq!(
            read_usage(&[text(keys::OUTPUT_TOKENS, "many")]),
            SpanUsage::Invalid
        );
        assert_eq!(
            read_usage(&[attr(keys::OUTPUT_TOKENS, Value::BoolValue(true))]),
            SpanUsage::Invalid
        );
    }

    #[test]
    fn cache_parts_larger_than_input_are_invalid() {
        let attributes = [
            int(keys::INPUT_TOKENS, 100),
            int(keys::CACHE_READ_TOKENS, 80),
            int(keys::CACHE_CREATION_TOKENS, 30),
        ];
        assert_eq!(read_usage(&attributes), SpanUsage::Invalid);
    }
}
