//! Attribute names of every instrumentation dialect, mapped to what they mean and ranked.
//!
//! Precedence when several name the same thing on one span (lower rank wins): the current
//! OpenTelemetry GenAI convention, then its deprecated and OpenLLMetry names, then OpenInference,
//! then the Vercel AI SDK (v6, v5, v4), then Sentry. For the model, every response-model name
//! outranks every request-model name (the response model is what was billed).

use crate::otlp::index::in_gen_ai_namespace;

/// What an attribute says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ResponseModel,
    RequestModel,
    Provider,
    Input,
    Output,
    CacheRead,
    CacheWrite,
    CacheWrite5m,
    CacheWrite1h,
    Reasoning,
    Total,
    WebSearches,
    ResponseId,
    Operation,
    OpenInferenceKind,
    TraceloopKind,
    VercelOperation,
    ExistingCost,
    ExistingCostPrompt,
    ExistingCostCompletion,
    /// The host the call was sent to (`server.address`): names the provider when no provider
    /// name does.
    ServerAddress,
}

impl Field {
    pub const COUNT: usize = 21;
}

/// The naming family an attribute belongs to; decides token semantics together with the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Semconv,
    SemconvDeprecated,
    OpenInference,
    VercelV6,
    VercelV5,
    VercelV4,
    Sentry,
    AnthropicSdk,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Semconv => "semconv",
            Dialect::SemconvDeprecated => "semconv_deprecated",
            Dialect::OpenInference => "openinference",
            Dialect::VercelV6 => "vercel_v6",
            Dialect::VercelV5 => "vercel_v5",
            Dialect::VercelV4 => "vercel_v4",
            Dialect::Sentry => "sentry",
            Dialect::AnthropicSdk => "anthropic_sdk",
        }
    }

    pub fn parse(text: &str) -> Option<Dialect> {
        [
            Dialect::Semconv,
            Dialect::SemconvDeprecated,
            Dialect::OpenInference,
            Dialect::VercelV6,
            Dialect::VercelV5,
            Dialect::VercelV4,
            Dialect::Sentry,
            Dialect::AnthropicSdk,
        ]
        .into_iter()
        .find(|dialect| dialect.as_str() == text)
    }
}

/// One recognised attribute name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub field: Field,
    pub rank: u8,
    pub dialect: Dialect,
}

const fn known(field: Field, rank: u8, dialect: Dialect) -> Option<Known> {
    Some(Known {
        field,
        rank,
        dialect,
    })
}

/// The meaning of attribute `key`, if it is one of the dialects' names.
pub fn classify(key: &str) -> Option<Known> {
    use Dialect::*;
    use Field::*;
    // Cheap rejection of the many attributes that belong to no dialect.
    if !in_gen_ai_namespace(key.as_bytes()) {
        return (key == "server.address").then_some(Known {
            field: ServerAddress,
            rank: 0,
            dialect: Semconv,
        });
    }
    match key {
        "gen_ai.response.model" => known(ResponseModel, 0, Semconv),
        "llm.model_name" => known(ResponseModel, 1, OpenInference),
        "ai.response.model" => known(ResponseModel, 2, VercelV5),
        "gen_ai.request.model" => known(RequestModel, 0, Semconv),
        "ai.model.id" => known(RequestModel, 1, VercelV5),

        "gen_ai.provider.name" => known(Provider, 0, Semconv),
        "gen_ai.system" => known(Provider, 1, SemconvDeprecated),
        "llm.provider" => known(Provider, 2, OpenInference),
        "llm.system" => known(Provider, 3, OpenInference),
        "ai.model.provider" => known(Provider, 4, VercelV5),

        "gen_ai.usage.input_tokens" => known(Input, 0, Semconv),
        "gen_ai.usage.prompt_tokens" => known(Input, 1, SemconvDeprecated),
        "llm.token_count.prompt" => known(Input, 2, OpenInference),
        "ai.usage.inputTokens" => known(Input, 3, VercelV5),
        "ai.usage.promptTokens" => known(Input, 4, VercelV4),
        // An embedding call's count (`ai.embed.doEmbed`), the only usage it reports.
        "ai.usage.tokens" => known(Input, 5, VercelV5),

        "gen_ai.usage.output_tokens" => known(Output, 0, Semconv),
        "gen_ai.usage.completion_tokens" => known(Output, 1, SemconvDeprecated),
        "llm.token_count.completion" => known(Output, 2, OpenInference),
        "ai.usage.outputTokens" => known(Output, 3, VercelV5),
        "ai.usage.completionTokens" => known(Output, 4, VercelV4),

        "gen_ai.usage.cache_read.input_tokens" => known(CacheRead, 0, Semconv),
        "gen_ai.usage.cache_read_input_tokens" => known(CacheRead, 1, SemconvDeprecated),
        "llm.token_count.prompt_details.cache_read" => known(CacheRead, 2, OpenInference),
        "ai.usage.inputTokenDetails.cacheReadTokens" => known(CacheRead, 3, VercelV6),
        "ai.usage.cachedInputTokens" => known(CacheRead, 4, VercelV5),
        "gen_ai.usage.input_tokens.cached" => known(CacheRead, 5, Sentry),

        "gen_ai.usage.cache_creation.input_tokens" => known(CacheWrite, 0, Semconv),
        "gen_ai.usage.cache_write.input_tokens" => known(CacheWrite, 1, AnthropicSdk),
        "gen_ai.usage.cache_creation_input_tokens" => known(CacheWrite, 2, SemconvDeprecated),
        "llm.token_count.prompt_details.cache_write" => known(CacheWrite, 3, OpenInference),
        "ai.usage.inputTokenDetails.cacheWriteTokens" => known(CacheWrite, 4, VercelV6),
        "gen_ai.usage.input_tokens.cache_write" => known(CacheWrite, 5, Sentry),

        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens" => {
            known(CacheWrite5m, 0, AnthropicSdk)
        }
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens" => {
            known(CacheWrite1h, 0, AnthropicSdk)
        }

        "gen_ai.usage.reasoning.output_tokens" => known(Reasoning, 0, Semconv),
        "gen_ai.usage.reasoning_tokens" => known(Reasoning, 1, SemconvDeprecated),
        "llm.usage.reasoning_tokens" => known(Reasoning, 2, SemconvDeprecated),
        "llm.token_count.completion_details.reasoning" => known(Reasoning, 3, OpenInference),
        "ai.usage.reasoningTokens" => known(Reasoning, 4, VercelV5),
        "gen_ai.usage.output_tokens.reasoning" => known(Reasoning, 5, Sentry),

        "gen_ai.usage.total_tokens" => known(Total, 0, SemconvDeprecated),
        "llm.usage.total_tokens" => known(Total, 1, SemconvDeprecated),
        "llm.token_count.total" => known(Total, 2, OpenInference),
        "ai.usage.totalTokens" => known(Total, 3, VercelV5),

        "gen_ai.response.id" => known(ResponseId, 0, Semconv),
        "ai.response.id" => known(ResponseId, 1, VercelV5),
        "gen_ai.operation.name" => known(Operation, 0, Semconv),
        "openinference.span.kind" => known(OpenInferenceKind, 0, OpenInference),
        "traceloop.span.kind" => known(TraceloopKind, 0, SemconvDeprecated),
        "ai.operationId" => known(VercelOperation, 0, VercelV5),

        "gen_ai.usage.cost" => known(ExistingCost, 0, Semconv),
        "llm.cost.total" => known(ExistingCost, 1, OpenInference),
        "llm.cost.prompt" => known(ExistingCostPrompt, 0, OpenInference),
        "llm.cost.completion" => known(ExistingCostCompletion, 0, OpenInference),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialect_name_round_trips() {
        for dialect in [
            "semconv",
            "semconv_deprecated",
            "openinference",
            "vercel_v6",
            "vercel_v5",
            "vercel_v4",
            "sentry",
            "anthropic_sdk",
        ] {
            assert_eq!(Dialect::parse(dialect).map(Dialect::as_str), Some(dialect));
        }
    }

    #[test]
    fn unrelated_attributes_are_rejected_early() {
        assert_eq!(classify("http.route"), None);
        assert_eq!(classify("gen_ai.unknown"), None);
    }
}
