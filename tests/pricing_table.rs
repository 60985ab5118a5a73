//! A table of priced calls: instrumentation dialects × token semantics × providers × models.
//!
//! Every expected amount is worked out by hand in the comment next to it, from the list prices
//! of `shared/reference/pricing-facts.md` (USD per million tokens): `tokens × price / 1M`.
//! Each case goes through the public API twice: `UsageReader::read` + `Enricher::price` (exact
//! `Decimal` comparison) and `Enricher::enrich_span` (the span's doubles must be the nearest
//! doubles of the exact amounts). Cases with a twin span (two spans for one call) also go through
//! `Enricher::enrich_request` in one request.

#[allow(dead_code)] // shared helpers; this test uses a few
#[path = "../src/test_support.rs"]
mod test_support;

use genai_cost_agent::config::{load_str, ConfigDate};
use genai_cost_agent::enrich::{Enricher, SpanOutcome};
use genai_cost_agent::pricing::CostBreakdown;
use genai_cost_agent::pricing::UnpricedReason;
use genai_cost_agent::telemetry::AgentCounters;
use genai_cost_agent::usage::{Source, SpanUsage, UsageReader};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::HashSet;
use test_support::{attr, int, text};

// ------------------------------------------------------------------ attribute names

const REQUEST_MODEL: &str = "gen_ai.request.model";
const RESPONSE_MODEL: &str = "gen_ai.response.model";
const PROVIDER: &str = "gen_ai.provider.name";
const SYSTEM: &str = "gen_ai.system";
const OPERATION: &str = "gen_ai.operation.name";
const RESPONSE_ID: &str = "gen_ai.response.id";
const INPUT: &str = "gen_ai.usage.input_tokens";
const OUTPUT: &str = "gen_ai.usage.output_tokens";
const CACHE_READ: &str = "gen_ai.usage.cache_read.input_tokens";
const CACHE_CREATION: &str = "gen_ai.usage.cache_creation.input_tokens";
const REASONING: &str = "gen_ai.usage.reasoning.output_tokens";
const WEB_SEARCHES: &str = "gen_ai.usage.web_search_requests";
const BATCH: &str = "gen_ai.request.batch";
// The Anthropic Python SDK's own spans.
const SDK_CACHE_WRITE: &str = "gen_ai.usage.cache_write.input_tokens";
const SDK_WRITE_5M: &str = "anthropic.usage.cache_creation.ephemeral_5m_input_tokens";
const SDK_WRITE_1H: &str = "anthropic.usage.cache_creation.ephemeral_1h_input_tokens";
const SDK_SCOPE: &str = "com.anthropic.sdk.python";
// OpenInference.
const OI_KIND: &str = "openinference.span.kind";
const OI_MODEL: &str = "llm.model_name";
const OI_PROVIDER: &str = "llm.provider";
const OI_PROMPT: &str = "llm.token_count.prompt";
const OI_COMPLETION: &str = "llm.token_count.completion";
const OI_CACHE_READ: &str = "llm.token_count.prompt_details.cache_read";
const OI_CACHE_WRITE: &str = "llm.token_count.prompt_details.cache_write";
const OI_REASONING: &str = "llm.token_count.completion_details.reasoning";
const OI_TOTAL: &str = "llm.token_count.total";
// Vercel AI SDK.
const AI_OPERATION: &str = "ai.operationId";
const AI_MODEL: &str = "ai.model.id";
const AI_PROVIDER: &str = "ai.model.provider";
const AI_INPUT: &str = "ai.usage.inputTokens";
const AI_OUTPUT: &str = "ai.usage.outputTokens";
const AI_CACHED: &str = "ai.usage.cachedInputTokens";
// OpenLLMetry's instrumentation scope for Anthropic.
const OPENLLMETRY_ANTHROPIC: &str = "opentelemetry.instrumentation.anthropic";

// ------------------------------------------------------------------ the case

/// What a case expects.
enum Expected {
    Priced(Box<Priced>),
    Unpriced(UnpricedReason),
    /// A model call reporting no usage (a failed call): nothing to price, nothing added.
    NoUsage,
}

/// The expected cost; parts left `None` are not checked.
struct Priced {
    price_id: &'static str,
    total: Decimal,
    input: Option<Decimal>,
    output: Option<Decimal>,
    cache_read: Option<Decimal>,
    cache_creation: Option<Decimal>,
    tools: Option<Decimal>,
    savings: Option<Decimal>,
    hit_ratio: Option<Decimal>,
    semantics: Option<&'static str>,
}

/// A second span reporting the same call, sent first in the same request; it must be the one
/// marked `duplicate` while the case's own span is priced.
struct Twin {
    attributes: Vec<KeyValue>,
    scope: (&'static str, &'static str),
    span_id: u8,
    parent: u8,
}

struct Case {
    name: &'static str,
    attributes: Vec<KeyValue>,
    span_name: &'static str,
    scope: (&'static str, &'static str),
    sdk_name: Option<&'static str>,
    date: &'static str,
    config: &'static str,
    span_id: u8,
    parent: u8,
    expected: Expected,
    /// Further doubles the priced span must carry (output dialects).
    span_doubles: Vec<(&'static str, Decimal)>,
    twin: Option<Twin>,
}

fn case(name: &'static str, attributes: Vec<KeyValue>) -> Case {
    Case {
        name,
        attributes,
        span_name: "chat",
        scope: ("", ""),
        sdk_name: None,
        date: "2026-05-28",
        config: "",
        span_id: 1,
        parent: 9,
        expected: Expected::NoUsage,
        span_doubles: Vec::new(),
        twin: None,
    }
}

impl Case {
    fn span_name(mut self, name: &'static str) -> Self {
        self.span_name = name;
        self
    }
    fn scope(mut self, name: &'static str, version: &'static str) -> Self {
        self.scope = (name, version);
        self
    }
    fn sdk(mut self, name: &'static str) -> Self {
        self.sdk_name = Some(name);
        self
    }
    fn on(mut self, date: &'static str) -> Self {
        self.date = date;
        self
    }
    fn config(mut self, text: &'static str) -> Self {
        self.config = text;
        self
    }
    fn ids(mut self, span_id: u8, parent: u8) -> Self {
        self.span_id = span_id;
        self.parent = parent;
        self
    }
    fn priced(mut self, price_id: &'static str, total: Decimal) -> Self {
        self.expected = Expected::Priced(Box::new(Priced {
            price_id,
            total,
            input: None,
            output: None,
            cache_read: None,
            cache_creation: None,
            tools: None,
            savings: None,
            hit_ratio: None,
            semantics: None,
        }));
        self
    }
    fn unpriced(mut self, reason: UnpricedReason) -> Self {
        self.expected = Expected::Unpriced(reason);
        self
    }
    fn priced_mut(&mut self) -> &mut Priced {
        match &mut self.expected {
            Expected::Priced(priced) => priced,
            _ => panic!("{}: set .priced(…) before its parts", self.name),
        }
    }
    fn input(mut self, value: Decimal) -> Self {
        self.priced_mut().input = Some(value);
        self
    }
    fn output(mut self, value: Decimal) -> Self {
        self.priced_mut().output = Some(value);
        self
    }
    fn cache_read(mut self, value: Decimal) -> Self {
        self.priced_mut().cache_read = Some(value);
        self
    }
    fn cache_creation(mut self, value: Decimal) -> Self {
        self.priced_mut().cache_creation = Some(value);
        self
    }
    fn tools(mut self, value: Decimal) -> Self {
        self.priced_mut().tools = Some(value);
        self
    }
    fn savings(mut self, value: Decimal) -> Self {
        self.priced_mut().savings = Some(value);
        self
    }
    fn hit_ratio(mut self, value: Decimal) -> Self {
        self.priced_mut().hit_ratio = Some(value);
        self
    }
    fn semantics(mut self, value: &'static str) -> Self {
        self.priced_mut().semantics = Some(value);
        self
    }
    fn span_double(mut self, key: &'static str, value: Decimal) -> Self {
        self.span_doubles.push((key, value));
        self
    }
    fn twin(mut self, twin: Twin) -> Self {
        self.twin = Some(twin);
        self
    }
}

// ------------------------------------------------------------------ attribute helpers

fn float(key: &str, value: f64) -> KeyValue {
    attr(key, Value::DoubleValue(value))
}

fn flag(key: &str, value: bool) -> KeyValue {
    attr(key, Value::BoolValue(value))
}

/// A span following the current GenAI convention: input includes cache reads and writes.
fn semconv(model: &str, input: i64, output: i64) -> Vec<KeyValue> {
    vec![
        text(REQUEST_MODEL, model),
        int(INPUT, input),
        int(OUTPUT, output),
    ]
}

fn with(mut attributes: Vec<KeyValue>, more: Vec<KeyValue>) -> Vec<KeyValue> {
    attributes.extend(more);
    attributes
}

// ------------------------------------------------------------------ the table

fn cases() -> Vec<Case> {
    use UnpricedReason::*;
    vec![
        // ---------------------------------------------------------- the worked example
        // Sonnet 4.6: 5,000 uncached + 10,000 cache write (5m) + 8,000 cache read = 23,000 input.
        case(
            "worked_example_sonnet_4_6_two_web_searches",
            with(
                semconv("claude-sonnet-4-6", 23_000, 1_500),
                vec![
                    text(PROVIDER, "anthropic"),
                    int(CACHE_READ, 8_000),
                    int(CACHE_CREATION, 10_000),
                    int(WEB_SEARCHES, 2),
                ],
            ),
        )
        // 0.015 + 0.0225 + 0.0375 + 0.0024 + 0.02
        .priced("claude-sonnet-4-6@2026-03-13", dec!(0.097400))
        .input(dec!(0.015000)) // 5,000 × 3 / 1M
        .output(dec!(0.022500)) // 1,500 × 15 / 1M
        .cache_creation(dec!(0.037500)) // 10,000 × 3.75 / 1M
        .cache_read(dec!(0.002400)) // 8,000 × 0.30 / 1M
        .tools(dec!(0.020000)) // 2 × 10 / 1,000
        .savings(dec!(0.014100)) // 23,000 × 3 / 1M = 0.069; 0.069 − 0.015 − 0.0375 − 0.0024
        .semantics("includes_cache"),
        // The same call reported by OpenInference, with the cost also written in its dialects.
        case(
            "worked_example_openinference_names_and_output_dialects",
            vec![
                text(OI_KIND, "LLM"),
                text(OI_MODEL, "claude-sonnet-4-6"),
                text(OI_PROVIDER, "anthropic"),
                int(OI_PROMPT, 23_000),
                int(OI_COMPLETION, 1_500),
                int(OI_CACHE_READ, 8_000),
                int(OI_CACHE_WRITE, 10_000),
                int(OI_TOTAL, 24_500),
                int(WEB_SEARCHES, 2),
            ],
        )
        .config("enrich:\n  output_dialects: [openinference, openlit]\n")
        .priced("claude-sonnet-4-6@2026-03-13", dec!(0.0974)) // as above
        .savings(dec!(0.0141))
        .semantics("includes_cache")
        .span_double("llm.cost.total", dec!(0.0974))
        .span_double("llm.cost.prompt", dec!(0.0549)) // 0.015 + 0.0024 + 0.0375
        .span_double("llm.cost.completion", dec!(0.0225))
        .span_double("llm.cost.prompt_details.input", dec!(0.015))
        .span_double("llm.cost.prompt_details.cache_read", dec!(0.0024))
        .span_double("llm.cost.prompt_details.cache_write", dec!(0.0375))
        .span_double("gen_ai.usage.cost", dec!(0.0974)),
        // ---------------------------------------------------------- long context and dates
        case(
            "sonnet_4_5_over_200k_bills_whole_request_at_tier",
            with(
                semconv("claude-sonnet-4-5", 250_000, 2_000),
                vec![int(CACHE_READ, 50_000)],
            ),
        )
        // 250,000 total input > 200,000: 6 / 22.50 / 0.60 for everything.
        .priced("claude-sonnet-4-5@2026-01-01+above_200000", dec!(1.275)) // 1.2 + 0.03 + 0.045
        .input(dec!(1.2)) // 200,000 × 6 / 1M
        .cache_read(dec!(0.03)) // 50,000 × 0.60 / 1M
        .output(dec!(0.045)) // 2,000 × 22.50 / 1M
        .savings(dec!(0.27)) // 250,000 × 6 / 1M = 1.5; 1.5 − 1.2 − 0.03
        .hit_ratio(dec!(0.2)), // 50,000 / 250,000
        case(
            "sonnet_4_5_exactly_200k_stays_at_base_price",
            semconv("claude-sonnet-4-5", 200_000, 1_000),
        )
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.615)) // 0.6 + 0.015
        .input(dec!(0.6)) // 200,000 × 3 / 1M
        .output(dec!(0.015)), // 1,000 × 15 / 1M
        case(
            "sonnet_4_5_one_token_over_200k",
            semconv("claude-sonnet-4-5", 200_001, 0),
        )
        .priced("claude-sonnet-4-5@2026-01-01+above_200000", dec!(1.200006)), // 200,001 × 6 / 1M
        case(
            "sonnet_4_5_long_context_with_1h_cache_writes",
            with(
                semconv("claude-sonnet-4-5-20250929", 210_000, 1_000),
                vec![int(SDK_CACHE_WRITE, 100_000), int(SDK_WRITE_1H, 100_000)],
            ),
        )
        .scope(SDK_SCOPE, "2.1.0")
        .span_name("anthropic.messages.create")
        .priced("claude-sonnet-4-5@2026-01-01+above_200000", dec!(1.8825)) // 0.66 + 1.2 + 0.0225
        .input(dec!(0.66)) // 110,000 × 6 / 1M
        .cache_creation(dec!(1.2)) // 100,000 × 12 / 1M (1h at the tier)
        .output(dec!(0.0225)) // 1,000 × 22.50 / 1M
        .savings(dec!(-0.6)), // 210,000 × 6 / 1M = 1.26; 1.26 − 0.66 − 1.2
        case(
            "sonnet_4_6_above_200k_on_2026_03_12_has_the_surcharge",
            semconv("claude-sonnet-4-6", 250_000, 1_000),
        )
        .on("2026-03-12")
        .priced("claude-sonnet-4-6@2026-01-01+above_200000", dec!(1.5225)) // 1.5 + 0.0225
        .input(dec!(1.5)) // 250,000 × 6 / 1M
        .output(dec!(0.0225)), // 1,000 × 22.50 / 1M
        case(
            "sonnet_4_6_above_200k_on_2026_03_13_is_flat",
            semconv("claude-sonnet-4-6", 250_000, 1_000),
        )
        .on("2026-03-13")
        .priced("claude-sonnet-4-6@2026-03-13", dec!(0.765)) // 0.75 + 0.015
        .input(dec!(0.75)) // 250,000 × 3 / 1M
        .output(dec!(0.015)), // 1,000 × 15 / 1M
        case(
            "sonnet_4_6_span_older_than_the_catalog_uses_the_earliest_version",
            semconv("claude-sonnet-4-6", 1_000, 1_000),
        )
        .on("2025-06-01")
        .priced("claude-sonnet-4-6@2026-01-01", dec!(0.018)), // 1,000 × 3 / 1M + 1,000 × 15 / 1M
        case(
            "opus_4_6_above_200k_before_the_change",
            with(
                semconv("claude-opus-4-6", 210_000, 2_000),
                vec![int(CACHE_READ, 10_000)],
            ),
        )
        .on("2026-01-15")
        // 10 / 37.50 / 1: 200,000 × 10 / 1M + 10,000 × 1 / 1M + 2,000 × 37.5 / 1M
        .priced("claude-opus-4-6@2026-01-01+above_200000", dec!(2.085)) // 2.0 + 0.01 + 0.075
        .savings(dec!(0.09)), // 210,000 × 10 / 1M = 2.1; 2.1 − 2.0 − 0.01
        case(
            "opus_4_6_above_200k_after_the_change",
            with(
                semconv("claude-opus-4-6", 210_000, 2_000),
                vec![int(CACHE_READ, 10_000)],
            ),
        )
        .on("2026-04-01")
        // 200,000 × 5 / 1M + 10,000 × 0.5 / 1M + 2,000 × 25 / 1M
        .priced("claude-opus-4-6@2026-03-13", dec!(1.055)) // 1.0 + 0.005 + 0.05
        .savings(dec!(0.045)), // 210,000 × 5 / 1M = 1.05; 1.05 − 1.0 − 0.005
        // ---------------------------------------------------------- model-name forms
        case(
            "bedrock_regional_id_costs_ten_percent_more",
            with(
                semconv("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 10_000, 1_000),
                vec![text(PROVIDER, "aws.bedrock")],
            ),
        )
        // 3 × 1.1 = 3.3 and 15 × 1.1 = 16.5
        .priced("claude-sonnet-4-5@2026-01-01+bedrock_regional", dec!(0.0495)) // 0.033 + 0.0165
        .input(dec!(0.033)) // 10,000 × 3.3 / 1M
        .output(dec!(0.0165)), // 1,000 × 16.5 / 1M
        case(
            "bedrock_global_id_has_no_uplift",
            with(
                semconv(
                    "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                    10_000,
                    1_000,
                ),
                vec![text(PROVIDER, "aws.bedrock")],
            ),
        )
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.045)), // 0.03 + 0.015
        case(
            "bedrock_regional_haiku_with_cache",
            with(
                semconv("eu.anthropic.claude-haiku-4-5-20251001-v1:0", 20_000, 2_000),
                vec![int(CACHE_READ, 10_000), int(CACHE_CREATION, 5_000)],
            ),
        )
        // Haiku 4.5 × 1.1: input 1.1, output 5.5, read 0.11, write 1.375.
        .priced("claude-haiku-4-5@2026-01-01+bedrock_regional", dec!(0.024475))
        .input(dec!(0.0055)) // 5,000 × 1.1 / 1M
        .cache_read(dec!(0.0011)) // 10,000 × 0.11 / 1M
        .cache_creation(dec!(0.006875)) // 5,000 × 1.375 / 1M
        .output(dec!(0.011)) // 2,000 × 5.5 / 1M
        .savings(dec!(0.008525)), // 20,000 × 1.1 / 1M = 0.022; − 0.0055 − 0.0011 − 0.006875
        case(
            "bedrock_regional_above_200k",
            semconv("us.anthropic.claude-sonnet-4-20250514-v1:0", 300_000, 1_000),
        )
        // Tier 6 × 1.1 = 6.6 and 22.5 × 1.1 = 24.75.
        .priced(
            "claude-sonnet-4@2026-01-01+above_200000+bedrock_regional",
            dec!(2.00475), // 300,000 × 6.6 / 1M = 1.98; + 1,000 × 24.75 / 1M = 0.02475
        ),
        case(
            "vertex_id",
            with(
                semconv("claude-sonnet-4-5@20250929", 10_000, 1_000),
                vec![text(PROVIDER, "gcp.vertex_ai")],
            ),
        )
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.045)), // 0.03 + 0.015
        case(
            "provider_prefixed_mixed_case_id_with_string_counts",
            vec![
                text(REQUEST_MODEL, "Anthropic/Claude-Sonnet-4-6"),
                text(INPUT, "12000"),
                text(OUTPUT, "3000"),
            ],
        )
        .priced("claude-sonnet-4-6@2026-03-13", dec!(0.081)) // 0.036 + 0.045
        .input(dec!(0.036)) // 12,000 × 3 / 1M
        .output(dec!(0.045)), // 3,000 × 15 / 1M
        case(
            "opus_4_dated_id",
            semconv("claude-opus-4-20250514", 10_000, 1_000),
        )
        .priced("claude-opus-4@2026-01-01", dec!(0.225)), // 10,000 × 15 / 1M + 1,000 × 75 / 1M
        case("opus_4_0_alias", semconv("claude-opus-4-0", 1_000, 0))
            .priced("claude-opus-4@2026-01-01", dec!(0.015)), // 1,000 × 15 / 1M
        case(
            "haiku_3_5_latest_alias",
            semconv("claude-3-5-haiku-latest", 1_000_000, 0),
        )
        .priced("claude-3-5-haiku@2026-01-01", dec!(0.8)), // 1M × 0.80 / 1M
        case(
            "response_model_outranks_request_model",
            with(
                semconv("gpt-4o", 1_000_000, 0),
                vec![text(RESPONSE_MODEL, "gpt-4o-mini-2024-07-18")],
            ),
        )
        .priced("gpt-4o-mini@2026-01-01", dec!(0.15)), // 1M × 0.15 / 1M
        // ---------------------------------------------------------- token semantics by source
        // One Opus 4.5 call: 4,000 uncached, 20,000 cache read, 2,000 cache write, 800 output.
        case(
            "openlit_anthropic_input_excludes_cache",
            vec![
                text(SYSTEM, "anthropic"),
                text(OPERATION, "chat"),
                text(REQUEST_MODEL, "claude-opus-4-5"),
                text(RESPONSE_MODEL, "claude-opus-4-5-20251101"),
                int(INPUT, 4_000),
                int(OUTPUT, 800),
                int(CACHE_READ, 20_000),
                int(CACHE_CREATION, 2_000),
            ],
        )
        .scope("openlit.otel.tracing", "1.36.0")
        .sdk("openlit")
        .priced("claude-opus-4-5@2026-01-01", dec!(0.0625)) // 0.02 + 0.01 + 0.0125 + 0.02
        .input(dec!(0.02)) // 4,000 × 5 / 1M
        .cache_read(dec!(0.01)) // 20,000 × 0.50 / 1M
        .cache_creation(dec!(0.0125)) // 2,000 × 6.25 / 1M
        .output(dec!(0.02)) // 800 × 25 / 1M
        .savings(dec!(0.0875)) // 26,000 × 5 / 1M = 0.13; 0.13 − 0.02 − 0.01 − 0.0125
        .semantics("excludes_cache"),
        case(
            "openllmetry_anthropic_same_call_input_includes_cache_older_names",
            vec![
                text(SYSTEM, "Anthropic"),
                text(REQUEST_MODEL, "claude-opus-4-5"),
                text(RESPONSE_MODEL, "claude-opus-4-5-20251101"),
                int("gen_ai.usage.prompt_tokens", 26_000),
                int("gen_ai.usage.completion_tokens", 800),
                int("gen_ai.usage.cache_read_input_tokens", 20_000),
                int("gen_ai.usage.cache_creation_input_tokens", 2_000),
                int("llm.usage.total_tokens", 26_800),
            ],
        )
        .scope(OPENLLMETRY_ANTHROPIC, "0.47.3")
        .priced("claude-opus-4-5@2026-01-01", dec!(0.0625)) // as the OpenLIT span above
        .input(dec!(0.02))
        .cache_read(dec!(0.01))
        .cache_creation(dec!(0.0125))
        .output(dec!(0.02))
        .savings(dec!(0.0875))
        .semantics("includes_cache"),
        case(
            "openlit_anthropic_long_context_counts_cache_toward_the_threshold",
            vec![
                text(PROVIDER, "anthropic"),
                text(REQUEST_MODEL, "claude-sonnet-4-5"),
                int(INPUT, 120_000),
                int(OUTPUT, 1_000),
                int(CACHE_READ, 95_000),
            ],
        )
        .scope("openlit.instrumentation.anthropic", "")
        .sdk("openlit")
        // 120,000 + 95,000 = 215,000 > 200,000.
        .priced("claude-sonnet-4-5@2026-01-01+above_200000", dec!(0.7995))
        .input(dec!(0.72)) // 120,000 × 6 / 1M
        .cache_read(dec!(0.057)) // 95,000 × 0.60 / 1M
        .output(dec!(0.0225)) // 1,000 × 22.50 / 1M
        .savings(dec!(0.513)) // 215,000 × 6 / 1M = 1.29; 1.29 − 0.72 − 0.057
        .semantics("excludes_cache"),
        case(
            "openlit_openai_input_includes_cache",
            with(
                semconv("gpt-4o", 10_000, 500),
                vec![text(SYSTEM, "openai"), int(CACHE_READ, 4_000)],
            ),
        )
        .scope("openlit.instrumentation.openai", "")
        .sdk("openlit")
        .priced("gpt-4o@2026-01-01", dec!(0.025)) // 0.015 + 0.005 + 0.005
        .input(dec!(0.015)) // 6,000 × 2.50 / 1M
        .cache_read(dec!(0.005)) // 4,000 × 1.25 / 1M
        .output(dec!(0.005)) // 500 × 10 / 1M
        .savings(dec!(0.005)) // 10,000 × 2.5 / 1M = 0.025; − 0.015 − 0.005
        .semantics("includes_cache"),
        case(
            "vercel_v5_anthropic_input_excludes_cache",
            vec![
                text(AI_OPERATION, "ai.generateText.doGenerate"),
                text(AI_MODEL, "claude-sonnet-4-5-20250929"),
                text(AI_PROVIDER, "anthropic.messages"),
                text(SYSTEM, "anthropic.messages"),
                int(AI_INPUT, 3_000),
                int(AI_OUTPUT, 400),
                int(AI_CACHED, 12_000),
                int("ai.usage.totalTokens", 3_400),
            ],
        )
        .span_name("ai.generateText.doGenerate")
        .scope("ai", "5.0.60")
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.0186)) // 0.009 + 0.0036 + 0.006
        .input(dec!(0.009)) // 3,000 × 3 / 1M
        .cache_read(dec!(0.0036)) // 12,000 × 0.30 / 1M
        .output(dec!(0.006)) // 400 × 15 / 1M
        .savings(dec!(0.0324)) // 15,000 × 3 / 1M = 0.045; − 0.009 − 0.0036
        .hit_ratio(dec!(0.8)) // 12,000 / 15,000
        .semantics("excludes_cache"),
        case(
            "vercel_v6_anthropic_input_includes_cache",
            vec![
                text(AI_OPERATION, "ai.streamText.doStream"),
                text(AI_MODEL, "claude-sonnet-4-5"),
                text(AI_PROVIDER, "anthropic.messages"),
                int(AI_INPUT, 15_000),
                int(AI_OUTPUT, 400),
                int("ai.usage.inputTokenDetails.cacheReadTokens", 12_000),
                int("ai.usage.inputTokenDetails.cacheWriteTokens", 1_000),
            ],
        )
        .span_name("ai.streamText.doStream")
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.01935)) // 0.006 + 0.0036 + 0.00375 + 0.006
        .input(dec!(0.006)) // 2,000 × 3 / 1M
        .cache_read(dec!(0.0036)) // 12,000 × 0.30 / 1M
        .cache_creation(dec!(0.00375)) // 1,000 × 3.75 / 1M
        .output(dec!(0.006)) // 400 × 15 / 1M
        .savings(dec!(0.03165)) // 0.045 − 0.006 − 0.0036 − 0.00375
        .semantics("includes_cache"),
        case(
            "vercel_v5_openai_input_includes_cache",
            vec![
                text(AI_OPERATION, "ai.generateText.doGenerate"),
                text(AI_MODEL, "gpt-4.1-mini"),
                text("ai.response.model", "gpt-4.1-mini-2025-04-14"),
                text(AI_PROVIDER, "openai.responses"),
                int(AI_INPUT, 10_000),
                int(AI_OUTPUT, 1_000),
                int(AI_CACHED, 8_000),
            ],
        )
        .span_name("ai.generateText.doGenerate")
        .priced("gpt-4.1-mini@2026-01-01", dec!(0.0032)) // 0.0008 + 0.0008 + 0.0016
        .input(dec!(0.0008)) // 2,000 × 0.40 / 1M
        .cache_read(dec!(0.0008)) // 8,000 × 0.10 / 1M
        .output(dec!(0.0016)) // 1,000 × 1.60 / 1M
        .savings(dec!(0.0024)) // 10,000 × 0.4 / 1M = 0.004; − 0.0008 − 0.0008
        .semantics("includes_cache"),
        case(
            "vercel_v4_prompt_and_completion_tokens",
            vec![
                text(AI_MODEL, "gpt-4o-mini"),
                text(AI_PROVIDER, "openai.chat"),
                int("ai.usage.promptTokens", 1_000),
                int("ai.usage.completionTokens", 200),
            ],
        )
        .span_name("ai.generateText.doGenerate")
        .priced("gpt-4o-mini@2026-01-01", dec!(0.00027)), // 1,000 × 0.15 / 1M + 200 × 0.60 / 1M
        case(
            "openinference_openai_cached_prompt",
            vec![
                text(OI_KIND, "LLM"),
                text(OI_MODEL, "gpt-4o-2024-08-06"),
                text(OI_PROVIDER, "openai"),
                text("llm.system", "openai"),
                int(OI_PROMPT, 12_000),
                int(OI_COMPLETION, 3_000),
                int(OI_CACHE_READ, 6_000),
                int(OI_TOTAL, 15_000),
            ],
        )
        .span_name("ChatCompletion")
        .priced("gpt-4o@2026-01-01", dec!(0.0525)) // 0.015 + 0.0075 + 0.03
        .input(dec!(0.015)) // 6,000 × 2.50 / 1M
        .cache_read(dec!(0.0075)) // 6,000 × 1.25 / 1M
        .output(dec!(0.03)) // 3,000 × 10 / 1M
        .savings(dec!(0.0075)) // 12,000 × 2.5 / 1M = 0.03; − 0.015 − 0.0075
        .hit_ratio(dec!(0.5)) // 6,000 / 12,000
        .semantics("includes_cache"),
        case(
            "openinference_anthropic_cache_read_and_write",
            vec![
                text(OI_KIND, "LLM"),
                text(OI_MODEL, "claude-haiku-4-5-20251001"),
                text(OI_PROVIDER, "anthropic"),
                int(OI_PROMPT, 50_000),
                int(OI_COMPLETION, 1_000),
                int(OI_CACHE_READ, 40_000),
                int(OI_CACHE_WRITE, 5_000),
            ],
        )
        .priced("claude-haiku-4-5@2026-01-01", dec!(0.02025)) // 0.005 + 0.004 + 0.00625 + 0.005
        .input(dec!(0.005)) // 5,000 × 1 / 1M
        .cache_read(dec!(0.004)) // 40,000 × 0.10 / 1M
        .cache_creation(dec!(0.00625)) // 5,000 × 1.25 / 1M
        .output(dec!(0.005)) // 1,000 × 5 / 1M
        .savings(dec!(0.03475)), // 50,000 × 1 / 1M = 0.05; − 0.005 − 0.004 − 0.00625
        case(
            "openinference_reasoning_inside_completion",
            vec![
                text(OI_KIND, "LLM"),
                text(OI_MODEL, "gpt-5-mini"),
                int(OI_PROMPT, 2_000),
                int(OI_COMPLETION, 5_000),
                int(OI_REASONING, 4_000),
            ],
        )
        // Reasoning is inside the 5,000 output tokens, not added.
        .priced("gpt-5-mini@2026-01-01", dec!(0.0105)) // 2,000 × 0.25 / 1M + 5,000 × 2 / 1M
        .output(dec!(0.01)),
        case(
            "sentry_openai_cached_and_reasoning",
            vec![
                text(REQUEST_MODEL, "gpt-4.1"),
                int(INPUT, 100_000),
                int("gen_ai.usage.input_tokens.cached", 60_000),
                int(OUTPUT, 2_000),
                int("gen_ai.usage.output_tokens.reasoning", 500),
                int("gen_ai.usage.total_tokens", 102_000),
            ],
        )
        .scope("sentry.openai", "")
        .priced("gpt-4.1@2026-01-01", dec!(0.126)) // 0.08 + 0.03 + 0.016
        .input(dec!(0.08)) // 40,000 × 2 / 1M
        .cache_read(dec!(0.03)) // 60,000 × 0.50 / 1M
        .output(dec!(0.016)) // 2,000 × 8 / 1M
        .savings(dec!(0.09)), // 100,000 × 2 / 1M = 0.2; − 0.08 − 0.03
        case(
            "sentry_anthropic_cache_write",
            vec![
                text(REQUEST_MODEL, "claude-3-5-haiku-20241022"),
                int(INPUT, 14_000),
                int("gen_ai.usage.input_tokens.cached", 10_000),
                int("gen_ai.usage.input_tokens.cache_write", 3_000),
                int(OUTPUT, 100),
            ],
        )
        .priced("claude-3-5-haiku@2026-01-01", dec!(0.005)) // 0.0008 + 0.0008 + 0.003 + 0.0004
        .input(dec!(0.0008)) // 1,000 × 0.80 / 1M
        .cache_read(dec!(0.0008)) // 10,000 × 0.08 / 1M
        .cache_creation(dec!(0.003)) // 3,000 × 1 / 1M
        .output(dec!(0.0004)) // 100 × 4 / 1M
        .savings(dec!(0.0066)), // 14,000 × 0.8 / 1M = 0.0112; − 0.0008 − 0.0008 − 0.003
        case(
            "anthropic_sdk_1h_and_5m_cache_writes",
            vec![
                text(SYSTEM, "anthropic"),
                text(REQUEST_MODEL, "claude-sonnet-4-5"),
                text(RESPONSE_MODEL, "claude-sonnet-4-5-20250929"),
                int(INPUT, 30_000),
                int(OUTPUT, 2_000),
                int(CACHE_READ, 10_000),
                int(SDK_CACHE_WRITE, 15_000),
                int(SDK_WRITE_5M, 3_000),
                int(SDK_WRITE_1H, 12_000),
                int(REASONING, 500),
            ],
        )
        .scope(SDK_SCOPE, "2.1.0")
        .span_name("anthropic.messages.create")
        // 0.015 + 0.003 + 0.08325 + 0.03
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.13125))
        .input(dec!(0.015)) // 30,000 − 10,000 − 15,000 = 5,000; × 3 / 1M
        .cache_read(dec!(0.003)) // 10,000 × 0.30 / 1M
        .cache_creation(dec!(0.08325)) // 3,000 × 3.75 / 1M = 0.01125; 12,000 × 6 / 1M = 0.072
        .output(dec!(0.03)) // 2,000 × 15 / 1M (reasoning inside)
        .savings(dec!(-0.01125)) // 30,000 × 3 / 1M = 0.09; − 0.015 − 0.003 − 0.08325
        .semantics("includes_cache"),
        case(
            "anthropic_sdk_cache_write_without_split_is_5m",
            with(
                semconv("claude-sonnet-4-5", 10_000, 0),
                vec![int(SDK_CACHE_WRITE, 10_000)],
            ),
        )
        .scope(SDK_SCOPE, "2.1.0")
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.0375)) // 10,000 × 3.75 / 1M
        .cache_creation(dec!(0.0375))
        .savings(dec!(-0.0075)), // 10,000 × 3 / 1M = 0.03; − 0.0375
        case(
            "anthropic_sdk_1h_only_writes",
            with(
                semconv("claude-opus-4-1", 10_000, 0),
                vec![int(SDK_CACHE_WRITE, 8_000), int(SDK_WRITE_1H, 8_000)],
            ),
        )
        .scope(SDK_SCOPE, "2.1.0")
        .priced("claude-opus-4-1@2026-01-01", dec!(0.27)) // 0.03 + 0.24
        .input(dec!(0.03)) // 2,000 × 15 / 1M
        .cache_creation(dec!(0.24)) // 8,000 × 30 / 1M
        .savings(dec!(-0.12)), // 10,000 × 15 / 1M = 0.15; − 0.03 − 0.24
        case(
            "anthropic_split_without_total",
            with(
                semconv("claude-haiku-4-5", 3_000, 0),
                vec![int(SDK_WRITE_5M, 1_000), int(SDK_WRITE_1H, 2_000)],
            ),
        )
        .priced("claude-haiku-4-5@2026-01-01", dec!(0.00525)) // 0.00125 + 0.004
        .input(dec!(0)) // 3,000 − 1,000 − 2,000 = 0 uncached
        .cache_creation(dec!(0.00525)) // 1,000 × 1.25 / 1M + 2,000 × 2 / 1M
        .savings(dec!(-0.00225)), // 3,000 × 1 / 1M = 0.003; − 0.00525
        case(
            "parts_exceeding_the_whole_are_read_as_excluding_cache",
            with(
                semconv("claude-sonnet-4-5", 1_000, 0),
                vec![int(CACHE_READ, 5_000)],
            ),
        )
        // 5,000 cache reads > 1,000 input: input is 1,000 + 5,000 = 6,000.
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.0045)) // 0.003 + 0.0015
        .input(dec!(0.003)) // 1,000 × 3 / 1M
        .cache_read(dec!(0.0015)) // 5,000 × 0.30 / 1M
        .semantics("excludes_cache_inferred"),
        // ---------------------------------------------------------- OpenAI
        case(
            "gpt_5_cached_input_and_reasoning_inside_output",
            with(
                semconv("gpt-5", 50_000, 8_000),
                vec![
                    text(PROVIDER, "openai"),
                    int(CACHE_READ, 30_000),
                    int(REASONING, 6_000),
                ],
            ),
        )
        .priced("gpt-5@2026-01-01", dec!(0.10875)) // 0.025 + 0.00375 + 0.08
        .input(dec!(0.025)) // 20,000 × 1.25 / 1M
        .cache_read(dec!(0.00375)) // 30,000 × 0.125 / 1M
        .output(dec!(0.08)) // 8,000 × 10 / 1M
        .cache_creation(dec!(0))
        .tools(dec!(0))
        .savings(dec!(0.03375)) // 50,000 × 1.25 / 1M = 0.0625; − 0.025 − 0.00375
        .hit_ratio(dec!(0.6)), // 30,000 / 50,000
        case(
            "openllmetry_openai_reasoning_tokens",
            with(
                semconv("gpt-5-nano", 1_000, 3_000),
                vec![text(SYSTEM, "openai"), int("gen_ai.usage.reasoning_tokens", 2_500)],
            ),
        )
        .scope("opentelemetry.instrumentation.openai.v1", "0.47.3")
        .priced("gpt-5-nano@2026-01-01", dec!(0.00125)), // 1,000 × 0.05 / 1M + 3,000 × 0.40 / 1M
        case("gpt_5_1_is_not_gpt_5", semconv("gpt-5.1", 1_000_000, 100_000))
            .priced("gpt-5.1@2026-01-01", dec!(2.25)), // 1.25 + 100,000 × 10 / 1M
        case(
            "gpt_5_mini_dated_id",
            semconv("gpt-5-mini-2025-08-07", 100_000, 10_000),
        )
        .priced("gpt-5-mini@2026-01-01", dec!(0.045)), // 0.025 + 0.02
        case("gpt_4_1_nano_one_token_each", semconv("gpt-4.1-nano", 1, 1))
            .priced("gpt-4.1-nano@2026-01-01", dec!(0.0000005)) // 0.10 / 1M + 0.40 / 1M
            .input(dec!(0.0000001))
            .output(dec!(0.0000004)),
        case(
            "provider_prefixed_openai_all_input_cached",
            with(
                semconv("openai/gpt-5-mini", 10_000, 0),
                vec![int(CACHE_READ, 10_000)],
            ),
        )
        .priced("gpt-5-mini@2026-01-01", dec!(0.00025)) // 10,000 × 0.025 / 1M
        .input(dec!(0))
        .savings(dec!(0.00225)) // 10,000 × 0.25 / 1M = 0.0025; − 0.00025
        .hit_ratio(dec!(1)),
        case(
            "gpt_4o_mini_dated_id",
            semconv("gpt-4o-mini-2024-07-18", 100_000, 10_000),
        )
        .priced("gpt-4o-mini@2026-01-01", dec!(0.021)), // 0.015 + 0.006
        case(
            "chatgpt_4o_latest",
            semconv("chatgpt-4o-latest", 1_000, 1_000),
        )
        .priced("gpt-4o@2026-01-01", dec!(0.0125)), // 0.0025 + 0.01
        case(
            "deprecated_prompt_and_completion_tokens",
            vec![
                text(SYSTEM, "openai"),
                text(REQUEST_MODEL, "gpt-4o"),
                int("gen_ai.usage.prompt_tokens", 3_000),
                int("gen_ai.usage.completion_tokens", 1_000),
            ],
        )
        .priced("gpt-4o@2026-01-01", dec!(0.0175)), // 3,000 × 2.5 / 1M + 1,000 × 10 / 1M
        case(
            "current_input_name_outranks_the_deprecated_one",
            with(
                semconv("gpt-4o-mini", 1_000, 0),
                vec![int("gen_ai.usage.prompt_tokens", 999_999)],
            ),
        )
        .priced("gpt-4o-mini@2026-01-01", dec!(0.00015)), // 1,000 × 0.15 / 1M
        case(
            "double_token_counts",
            vec![
                text(REQUEST_MODEL, "gpt-4.1"),
                float(INPUT, 2048.0),
                float(OUTPUT, 512.0),
            ],
        )
        .priced("gpt-4.1@2026-01-01", dec!(0.008192)) // 2,048 × 2 / 1M + 512 × 8 / 1M
        .input(dec!(0.004096))
        .output(dec!(0.004096)),
        // ---------------------------------------------------------- Gemini
        case(
            "gemini_2_5_pro_up_to_200k",
            with(
                semconv("gemini-2.5-pro", 100_000, 5_000),
                vec![
                    text(PROVIDER, "gcp.gemini"),
                    text(OPERATION, "generate_content"),
                    int(CACHE_READ, 20_000),
                ],
            ),
        )
        .priced("gemini-2.5-pro@2026-01-01", dec!(0.1525)) // 0.1 + 0.0025 + 0.05
        .input(dec!(0.1)) // 80,000 × 1.25 / 1M
        .cache_read(dec!(0.0025)) // 20,000 × 0.125 / 1M
        .output(dec!(0.05)) // 5,000 × 10 / 1M
        .savings(dec!(0.0225)), // 100,000 × 1.25 / 1M = 0.125; − 0.1 − 0.0025
        case(
            "gemini_2_5_pro_above_200k",
            with(
                semconv("gemini-2.5-pro", 300_000, 10_000),
                vec![
                    text(PROVIDER, "gcp.gemini"),
                    text(OPERATION, "generate_content"),
                    int(CACHE_READ, 100_000),
                ],
            ),
        )
        .priced("gemini-2.5-pro@2026-01-01+above_200000", dec!(0.675)) // 0.5 + 0.025 + 0.15
        .input(dec!(0.5)) // 200,000 × 2.50 / 1M
        .cache_read(dec!(0.025)) // 100,000 × 0.25 / 1M
        .output(dec!(0.15)) // 10,000 × 15 / 1M
        .savings(dec!(0.225)), // 300,000 × 2.5 / 1M = 0.75; − 0.5 − 0.025
        case(
            "gemini_2_5_flash_models_prefix",
            with(
                semconv("models/gemini-2.5-flash", 1_000_000, 1_000_000),
                vec![text(PROVIDER, "gcp.vertex_ai")],
            ),
        )
        .priced("gemini-2.5-flash@2026-01-01", dec!(2.8)), // 0.30 + 2.50
        case(
            "gemini_2_5_flash_lite_is_not_flash",
            semconv("gemini-2.5-flash-lite", 10_000, 2_000),
        )
        .priced("gemini-2.5-flash-lite@2026-01-01", dec!(0.0018)), // 0.001 + 0.0008
        // ---------------------------------------------------------- batch and tools
        case(
            "batch_halves_anthropic_tokens",
            with(
                semconv("claude-haiku-4-5", 100_000, 20_000),
                vec![flag(BATCH, true)],
            ),
        )
        .priced("claude-haiku-4-5@2026-01-01+batch", dec!(0.1)) // 0.05 + 0.05
        .input(dec!(0.05)) // 100,000 × 0.5 / 1M
        .output(dec!(0.05)), // 20,000 × 2.5 / 1M
        case(
            "batch_false_is_not_batch",
            with(
                semconv("claude-haiku-4-5", 100_000, 20_000),
                vec![flag(BATCH, false)],
            ),
        )
        .priced("claude-haiku-4-5@2026-01-01", dec!(0.2)), // 0.1 + 0.1
        case(
            "batch_as_string_openai_cached",
            with(
                semconv("gpt-4o-mini", 1_000_000, 100_000),
                vec![text(BATCH, "true"), int(CACHE_READ, 500_000)],
            ),
        )
        // 0.075 / 0.0375 / 0.30
        .priced("gpt-4o-mini@2026-01-01+batch", dec!(0.08625)) // 0.0375 + 0.01875 + 0.03
        .input(dec!(0.0375)) // 500,000 × 0.075 / 1M
        .cache_read(dec!(0.01875)) // 500,000 × 0.0375 / 1M
        .output(dec!(0.03)) // 100,000 × 0.30 / 1M
        .savings(dec!(0.01875)), // 1M × 0.075 / 1M = 0.075; − 0.0375 − 0.01875
        case(
            "batch_above_200k_with_web_searches",
            with(
                semconv("claude-sonnet-4-5", 400_000, 10_000),
                vec![flag(BATCH, true), int(WEB_SEARCHES, 3)],
            ),
        )
        // Tier 6 / 22.5 halved: 3 / 11.25; the search fee is not discounted.
        .priced(
            "claude-sonnet-4-5@2026-01-01+above_200000+batch",
            dec!(1.3425), // 1.2 + 0.1125 + 0.03
        )
        .input(dec!(1.2)) // 400,000 × 3 / 1M
        .output(dec!(0.1125)) // 10,000 × 11.25 / 1M
        .tools(dec!(0.03)), // 3 × 10 / 1,000
        case(
            "batch_on_bedrock_regional",
            with(
                semconv("us.anthropic.claude-3-haiku-20240307-v1:0", 1_000_000, 1_000_000),
                vec![flag(BATCH, true)],
            ),
        )
        // 0.25 × 0.5 × 1.1 = 0.1375; 1.25 × 0.5 × 1.1 = 0.6875
        .priced(
            "claude-3-haiku@2026-01-01+batch+bedrock_regional",
            dec!(0.825), // 0.1375 + 0.6875
        ),
        case(
            "anthropic_server_tool_web_searches",
            with(
                semconv("claude-opus-4-7", 1_000, 100),
                vec![int("anthropic.usage.server_tool_use.web_search_requests", 5)],
            ),
        )
        .priced("claude-opus-4-7@2026-01-01", dec!(0.0575)) // 0.005 + 0.0025 + 0.05
        .tools(dec!(0.05)), // 5 × 10 / 1,000
        case(
            "model_without_web_search_fee",
            with(
                semconv("claude-3-haiku", 4_000, 400),
                vec![int(WEB_SEARCHES, 4)],
            ),
        )
        .priced("claude-3-haiku@2026-01-01", dec!(0.0015)) // 0.001 + 0.0005
        .tools(dec!(0)),
        // ---------------------------------------------------------- configuration
        case("fallback_prices_unknown_model", semconv("llama-3.1-70b", 1_000_000, 0))
            .config("pricing:\n  fallback: gpt-4o-mini\n")
            .priced("gpt-4o-mini@2026-01-01+fallback", dec!(0.15)), // 1M × 0.15 / 1M
        case(
            "configured_prefix_entry",
            semconv("llama-3.1-70b-instruct", 500_000, 250_000),
        )
        .config(
            "pricing:\n  models:\n    - id: my-llama\n      match: [\"llama-3.1-70b*\"]\n      input: \"0.60\"\n      output: \"0.80\"\n",
        )
        .priced("my-llama", dec!(0.5)), // 500,000 × 0.6 / 1M + 250,000 × 0.8 / 1M
        case(
            "configured_entry_replaces_builtin_cache_defaults_to_input",
            with(
                semconv("claude-haiku-4-5", 2_000, 1_000),
                vec![int(CACHE_READ, 1_000)],
            ),
        )
        .config(
            "pricing:\n  models:\n    - id: claude-haiku-4-5\n      match: [claude-haiku-4-5]\n      input: \"2\"\n      output: \"10\"\n",
        )
        .priced("claude-haiku-4-5", dec!(0.014)) // 0.002 + 0.002 + 0.01
        .cache_read(dec!(0.002)) // 1,000 × 2 / 1M (input price)
        .savings(dec!(0)),
        case(
            "configured_versions_before_the_change",
            semconv("acme-chat", 1_000_000, 0),
        )
        .on("2026-05-31")
        .config(ACME_VERSIONS)
        .priced("acme-chat@2026-01-01", dec!(1)), // 1M × 1 / 1M
        case(
            "configured_versions_on_the_change",
            semconv("acme-chat", 1_000_000, 0),
        )
        .on("2026-06-01")
        .config(ACME_VERSIONS)
        .priced("acme-chat@2026-06-01", dec!(0.5)), // 1M × 0.5 / 1M
        case(
            "configured_semantics_rule_old_library_excludes_cache",
            with(
                semconv("claude-sonnet-4-5", 2_000, 100),
                vec![int(CACHE_READ, 8_000)],
            ),
        )
        .scope("my.anthropic.lib.messages", "1.9.3")
        .config(OLD_LIB_RULE)
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.0099)) // 0.006 + 0.0024 + 0.0015
        .input(dec!(0.006)) // 2,000 × 3 / 1M
        .cache_read(dec!(0.0024)) // 8,000 × 0.30 / 1M
        .semantics("excludes_cache"),
        case(
            "configured_semantics_rule_newer_library_includes_cache",
            with(
                semconv("claude-sonnet-4-5", 10_000, 100),
                vec![int(CACHE_READ, 8_000)],
            ),
        )
        .scope("my.anthropic.lib.messages", "2.1")
        .config(OLD_LIB_RULE)
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.0099)) // the same call as above
        .semantics("includes_cache"),
        case(
            "configured_1h_attribute",
            with(
                semconv("claude-sonnet-4-6", 5_000, 0),
                vec![int(CACHE_CREATION, 5_000), int("my.cache_1h", 5_000)],
            ),
        )
        .config("usage:\n  cache_write_1h_attributes: [my.cache_1h]\n")
        .priced("claude-sonnet-4-6@2026-03-13", dec!(0.03)) // 5,000 × 6 / 1M
        .savings(dec!(-0.015)), // 5,000 × 3 / 1M = 0.015; − 0.03
        case(
            "configured_batch_marker",
            with(
                semconv("gpt-5", 1_000_000, 0),
                vec![text("app.batch", "YES")],
            ),
        )
        .config("usage:\n  batch:\n    attribute: app.batch\n    value: \"yes\"\n")
        .priced("gpt-5@2026-01-01+batch", dec!(0.625)), // 1M × 1.25 × 0.5 / 1M
        case(
            "configured_bedrock_regional_multiplier",
            semconv("apac.anthropic.claude-haiku-4-5-20251001-v1:0", 1_000_000, 0),
        )
        .config("pricing:\n  bedrock_regional_multiplier: \"1.25\"\n")
        .priced("claude-haiku-4-5@2026-01-01+bedrock_regional", dec!(1.25)), // 1M × 1 × 1.25 / 1M
        // Off in the agent's entries and in genai-prices' data.
        case("disabled_builtin_is_unknown", semconv("gpt-4o", 1_000, 0))
            .config("pricing:\n  disable: [gpt-4o, openai/gpt-4o]\n")
            .unpriced(UnknownModel),
        // ---------------------------------------------------------- unpriced
        case("unknown_model", semconv("llama-3.1-70b", 10, 10)).unpriced(UnknownModel),
        case(
            "unknown_embedding_model",
            with(
                semconv("text-embedding-3-small", 500, 0),
                vec![text(OPERATION, "embeddings")],
            ),
        )
        .unpriced(UnknownModel),
        case("missing_model", vec![int(INPUT, 10), int(OUTPUT, 5)]).unpriced(MissingModel),
        case(
            "openinference_span_without_model",
            vec![text(OI_KIND, "LLM"), int(OI_PROMPT, 10)],
        )
        .unpriced(MissingModel),
        case(
            "fractional_double_count_is_invalid",
            vec![text(REQUEST_MODEL, "gpt-4o"), float(INPUT, 10.5)],
        )
        .unpriced(InvalidUsage),
        case(
            "negative_count_is_invalid",
            semconv("claude-sonnet-4-5", -5, 10),
        )
        .unpriced(InvalidUsage),
        case(
            "text_count_is_invalid",
            vec![text(REQUEST_MODEL, "gpt-4o"), text(INPUT, "many")],
        )
        .unpriced(InvalidUsage),
        case(
            "reasoning_above_output_is_invalid",
            with(semconv("gpt-5", 10, 10), vec![int(REASONING, 11)]),
        )
        .unpriced(InvalidUsage),
        case(
            "cache_write_split_not_adding_up_is_invalid",
            with(
                semconv("claude-sonnet-4-5", 20_000, 10),
                vec![
                    int(SDK_CACHE_WRITE, 10_000),
                    int(SDK_WRITE_5M, 3_000),
                    int(SDK_WRITE_1H, 6_000),
                ],
            ),
        )
        .unpriced(InvalidUsage),
        case(
            "agent_span_is_aggregate",
            with(
                semconv("claude-sonnet-4-5", 23_000, 1_500),
                vec![text(OPERATION, "invoke_agent")],
            ),
        )
        .unpriced(AggregateSpan),
        case(
            "openinference_chain_is_aggregate",
            vec![
                text(OI_KIND, "CHAIN"),
                text(OI_MODEL, "gpt-4o"),
                int(OI_PROMPT, 1_000),
                int(OI_COMPLETION, 100),
            ],
        )
        .unpriced(AggregateSpan),
        case(
            "traceloop_workflow_is_aggregate",
            with(
                semconv("gpt-4o", 1_000, 100),
                vec![text("traceloop.span.kind", "workflow")],
            ),
        )
        .unpriced(AggregateSpan),
        case(
            "vercel_generate_text_parent_is_aggregate",
            vec![
                text(AI_OPERATION, "ai.generateText"),
                text(AI_MODEL, "gpt-4o"),
                text(AI_PROVIDER, "openai.chat"),
                int(AI_INPUT, 1_000),
                int(AI_OUTPUT, 100),
            ],
        )
        .span_name("ai.generateText")
        .unpriced(AggregateSpan),
        case(
            "vercel_stream_text_parent_by_span_name_is_aggregate",
            vec![
                text(AI_MODEL, "gpt-4o"),
                int(AI_INPUT, 1_000),
                int(AI_OUTPUT, 100),
            ],
        )
        .span_name("ai.streamText")
        .unpriced(AggregateSpan),
        // A failed call (429) reports no usage: nothing to price (the case's default outcome).
        case(
            "failed_call_without_usage",
            vec![
                text(REQUEST_MODEL, "claude-sonnet-4-5"),
                text(OPERATION, "chat"),
                text("error.type", "rate_limit_error"),
            ],
        ),
        // ---------------------------------------------------------- two spans for one call
        // The Anthropic SDK's span (5m/1h split) and OpenLLMetry's (no split), same response id.
        case(
            "sdk_span_priced_once_beside_openllmetry_same_response_id",
            with(sdk_call(), vec![text(RESPONSE_ID, "msg_01XYZ")]),
        )
        .scope(SDK_SCOPE, "2.1.0")
        .span_name("anthropic.messages.create")
        // 0.015 + 0.0075 + 0.0555 + 0.045; OpenLLMetry's span would say 0.105 (all writes at 5m).
        .priced("claude-sonnet-4-5@2026-01-01", dec!(0.123))
        .input(dec!(0.015)) // 40,000 − 25,000 − 10,000 = 5,000; × 3 / 1M
        .cache_read(dec!(0.0075)) // 25,000 × 0.30 / 1M
        .cache_creation(dec!(0.0555)) // 2,000 × 3.75 / 1M = 0.0075; 8,000 × 6 / 1M = 0.048
        .output(dec!(0.045)) // 3,000 × 15 / 1M
        .savings(dec!(0.042)) // 40,000 × 3 / 1M = 0.12; − 0.015 − 0.0075 − 0.0555
        .twin(Twin {
            attributes: with(openllmetry_call(), vec![text(RESPONSE_ID, "msg_01XYZ")]),
            scope: (OPENLLMETRY_ANTHROPIC, "0.47.3"),
            span_id: 3,
            parent: 9,
        }),
        // The same call with OpenInference as the SDK span's parent: no response id, equal counts.
        case("sdk_span_priced_once_under_openinference_parent", sdk_call())
            .scope(SDK_SCOPE, "2.1.0")
            .span_name("anthropic.messages.create")
            .ids(2, 1)
            .priced("claude-sonnet-4-5@2026-01-01", dec!(0.123)) // as above
            .twin(Twin {
                attributes: vec![
                    text(OI_KIND, "LLM"),
                    text(OI_MODEL, "claude-sonnet-4-5-20250929"),
                    int(OI_PROMPT, 40_000),
                    int(OI_COMPLETION, 3_000),
                    int(OI_CACHE_READ, 25_000),
                    int(OI_CACHE_WRITE, 10_000),
                ],
                scope: ("openinference.instrumentation.anthropic", "0.1.20"),
                span_id: 1,
                parent: 9,
            }),
    ]
}

const ACME_VERSIONS: &str = "pricing:
  models:
    - id: acme-chat
      match: [acme-chat]
      versions:
        - { effective_from: 2026-01-01, input: \"1\", output: \"2\" }
        - { effective_from: 2026-06-01, input: \"0.5\", output: \"1\" }
";

const OLD_LIB_RULE: &str = "usage:
  semantics:
    - name: old-lib
      scope: my.anthropic.lib*
      scope_version_below: \"2.0\"
      input_includes_cache: false
";

/// One Sonnet 4.5 call as the Anthropic SDK reports it: 40,000 input (25,000 cache read,
/// 10,000 cache write of which 2,000 at 5 minutes and 8,000 at 1 hour), 3,000 output.
fn sdk_call() -> Vec<KeyValue> {
    vec![
        text(SYSTEM, "anthropic"),
        text(REQUEST_MODEL, "claude-sonnet-4-5"),
        text(RESPONSE_MODEL, "claude-sonnet-4-5-20250929"),
        int(INPUT, 40_000),
        int(OUTPUT, 3_000),
        int(CACHE_READ, 25_000),
        int(SDK_CACHE_WRITE, 10_000),
        int(SDK_WRITE_5M, 2_000),
        int(SDK_WRITE_1H, 8_000),
    ]
}

/// The same call as OpenLLMetry reports it: no 5m/1h split.
fn openllmetry_call() -> Vec<KeyValue> {
    vec![
        text(SYSTEM, "anthropic"),
        text(REQUEST_MODEL, "claude-sonnet-4-5"),
        text(RESPONSE_MODEL, "claude-sonnet-4-5-20250929"),
        int(INPUT, 40_000),
        int(OUTPUT, 3_000),
        int(CACHE_READ, 25_000),
        int(CACHE_CREATION, 10_000),
    ]
}

// ------------------------------------------------------------------ running a case

/// What the code under test decided.
#[derive(Debug)]
enum Actual {
    Priced {
        cost: CostBreakdown,
        price_id: String,
        semantics: &'static str,
    },
    Unpriced(UnpricedReason),
    NoUsage,
}

struct Setup {
    enricher: Enricher,
    reader: UsageReader,
}

fn setup(config: &str) -> Result<Setup, String> {
    let loaded = load_str(config, &[], |_| None).map_err(|err| format!("config: {err}"))?;
    Ok(Setup {
        enricher: Enricher::from_config(&loaded.config).map_err(|err| err.to_string())?,
        reader: UsageReader::from_config(&loaded.config.usage).map_err(|err| err.to_string())?,
    })
}

impl Case {
    fn source(&self) -> Source<'_> {
        Source {
            scope_name: self.scope.0,
            scope_version: self.scope.1,
            sdk_name: self.sdk_name,
        }
    }

    fn date(&self) -> ConfigDate {
        ConfigDate::parse(self.date).expect("case date")
    }

    /// The span, started at 23:30 UTC of the case's date.
    fn span(&self) -> Span {
        make_span(
            self.span_name,
            self.span_id,
            self.parent,
            self.attributes.clone(),
            self.date().unix_nanos() + 84_600 * 1_000_000_000,
        )
    }
}

fn make_span(name: &str, span_id: u8, parent: u8, attributes: Vec<KeyValue>, start: u64) -> Span {
    Span {
        name: name.into(),
        trace_id: vec![0xab; 16],
        span_id: vec![span_id; 8],
        parent_span_id: vec![parent; 8],
        start_time_unix_nano: start,
        end_time_unix_nano: start + 2_000_000_000,
        attributes,
        ..Default::default()
    }
}

/// Reads and prices the case's span through `UsageReader::read` and `Enricher::price`.
fn price_exactly(case: &Case, setup: &Setup) -> Actual {
    match setup
        .reader
        .read(&case.attributes, case.span_name, &case.source())
    {
        SpanUsage::Present(facts) => match setup.enricher.price(&facts, case.date()) {
            Ok(priced) => Actual::Priced {
                cost: priced.cost,
                price_id: priced.price_id,
                semantics: facts.semantics.as_str(),
            },
            Err(reason) => Actual::Unpriced(reason),
        },
        SpanUsage::Aggregate => Actual::Unpriced(UnpricedReason::AggregateSpan),
        SpanUsage::Invalid => Actual::Unpriced(UnpricedReason::InvalidUsage),
        SpanUsage::Absent | SpanUsage::CallWithoutUsage(_) => Actual::NoUsage,
    }
}

/// `(name, expected, actual)` of every checked part that differs.
fn exact_differences(expected: &Expected, actual: &Actual) -> Vec<String> {
    let mut differences = Vec::new();
    match (expected, actual) {
        (
            Expected::Priced(want),
            Actual::Priced {
                cost,
                price_id,
                semantics,
            },
        ) => {
            let mut check = |part: &str, want: Option<Decimal>, got: Decimal| {
                if let Some(want) = want {
                    if want != got {
                        differences.push(format!("{part}: expected {want}, got {got}"));
                    }
                }
            };
            check("total", Some(want.total), cost.total);
            check("input", want.input, cost.input);
            check("output", want.output, cost.output);
            check("cache_read", want.cache_read, cost.cache_read);
            check("cache_creation", want.cache_creation, cost.cache_creation);
            check("tools", want.tools, cost.tools);
            check("savings", want.savings, cost.savings);
            check("hit_ratio", want.hit_ratio, cost.hit_ratio);
            let parts =
                cost.input + cost.output + cost.cache_read + cost.cache_creation + cost.tools;
            check("sum of parts", Some(cost.total), parts);
            if want.price_id != price_id {
                differences.push(format!(
                    "price_id: expected {}, got {price_id}",
                    want.price_id
                ));
            }
            if let Some(want) = want.semantics {
                if want != *semantics {
                    differences.push(format!("semantics: expected {want}, got {semantics}"));
                }
            }
        }
        (Expected::Unpriced(want), Actual::Unpriced(got)) if want == got => {}
        (Expected::NoUsage, Actual::NoUsage) => {}
        (expected, actual) => differences.push(format!(
            "outcome: expected {}, got {actual:?}",
            describe(expected)
        )),
    }
    differences
}

fn describe(expected: &Expected) -> String {
    match expected {
        Expected::Priced(priced) => format!("priced {} at {}", priced.total, priced.price_id),
        Expected::Unpriced(reason) => format!("unpriced {}", reason.as_str()),
        Expected::NoUsage => "no usage".into(),
    }
}

fn value_of<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

/// The double nearest to an exact decimal (Rust's float parsing rounds correctly).
fn nearest_double(value: Decimal) -> f64 {
    value.to_string().parse().expect("decimal text")
}

/// Differences between a priced span's attributes and the expected cost.
fn span_differences(span: &Span, want: &Priced, extra: &[(&str, Decimal)]) -> Vec<String> {
    let mut differences = Vec::new();
    let mut check_double = |key: &str, want: Option<Decimal>| {
        let Some(want) = want else { return };
        let expected = Value::DoubleValue(nearest_double(want));
        if value_of(span, key) != Some(&expected) {
            differences.push(format!(
                "{key}: expected {expected:?}, got {:?}",
                value_of(span, key)
            ));
        }
    };
    check_double("gen_ai.usage.cost.amount", Some(want.total));
    check_double("gen_ai.usage.cost.input", want.input);
    check_double("gen_ai.usage.cost.output", want.output);
    check_double("gen_ai.usage.cost.cache_read", want.cache_read);
    check_double("gen_ai.usage.cost.cache_creation", want.cache_creation);
    check_double("gen_ai.usage.cost.tools", want.tools);
    check_double("gen_ai.usage.cache.savings", want.savings);
    check_double("gen_ai.usage.cache.hit_ratio", want.hit_ratio);
    for (key, value) in extra {
        check_double(key, Some(*value));
    }
    let mut check_text = |key: &str, want: &str| {
        let expected = Value::StringValue(want.into());
        if value_of(span, key) != Some(&expected) {
            differences.push(format!(
                "{key}: expected {want}, got {:?}",
                value_of(span, key)
            ));
        }
    };
    check_text("gen_ai.usage.cost.price_id", want.price_id);
    check_text("gen_ai.usage.cost.currency", "USD");
    check_text("gen_ai.usage.cost.source", "local");
    if let Some(semantics) = want.semantics {
        check_text("gen_ai.usage.cost.input_semantics", semantics);
    }
    differences
}

/// Prices the case's span alone through `Enricher::enrich_span`.
fn enrich_alone(case: &Case, setup: &Setup) -> Vec<String> {
    let mut span = case.span();
    let before = span.attributes.clone();
    let outcome = setup.enricher.enrich_span(&mut span, &case.source());
    let mut differences = Vec::new();
    if span.attributes[..before.len()] != before[..] {
        differences.push("enrich_span changed the span's own attributes".into());
    }
    match &case.expected {
        Expected::Priced(want) => {
            if outcome != SpanOutcome::Priced {
                differences.push(format!("enrich_span: expected Priced, got {outcome:?}"));
            }
            differences.extend(span_differences(&span, want, &case.span_doubles));
        }
        Expected::Unpriced(reason) => {
            if outcome != SpanOutcome::Unpriced(*reason) {
                differences.push(format!(
                    "enrich_span: expected Unpriced({reason:?}), got {outcome:?}"
                ));
            }
            let added: Vec<&str> = span.attributes[before.len()..]
                .iter()
                .map(|kv| kv.key.as_str())
                .collect();
            if added != ["gen_ai.usage.cost.unpriced_reason"]
                || value_of(&span, "gen_ai.usage.cost.unpriced_reason")
                    != Some(&Value::StringValue(reason.as_str().into()))
            {
                differences.push(format!("enrich_span added {added:?}"));
            }
        }
        Expected::NoUsage => {
            if span.attributes.len() != before.len() {
                differences.push("enrich_span added attributes to a call without usage".into());
            }
            // Nothing is priced or added, so the outcome is `Untouched` (as `enrich_request`
            // counts it: neither priced nor unpriced), with metrics on or off.
            if outcome != SpanOutcome::Untouched {
                differences.push(format!("enrich_span: expected Untouched, got {outcome:?}"));
            }
        }
    }
    differences
}

/// Sends the twin first and the case's span second in one request: the case's span must be
/// priced and the twin marked as its duplicate.
fn enrich_with_twin(case: &Case, twin: &Twin, setup: &Setup) -> Vec<String> {
    let Expected::Priced(want) = &case.expected else {
        return vec!["a twin needs a priced case".into()];
    };
    let twin_span = make_span(
        "chat",
        twin.span_id,
        twin.parent,
        twin.attributes.clone(),
        case.span().start_time_unix_nano,
    );
    let scope_spans = |scope: (&str, &str), span: Span| ScopeSpans {
        scope: Some(InstrumentationScope {
            name: scope.0.into(),
            version: scope.1.into(),
            ..Default::default()
        }),
        spans: vec![span],
        ..Default::default()
    };
    let mut request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: case
                    .sdk_name
                    .map(|sdk| vec![text("telemetry.sdk.name", sdk)])
                    .unwrap_or_default(),
                ..Default::default()
            }),
            scope_spans: vec![
                scope_spans(twin.scope, twin_span),
                scope_spans(case.scope, case.span()),
            ],
            ..Default::default()
        }],
    };
    let counters = AgentCounters::default();
    let outcome = setup.enricher.enrich_request(&mut request, &counters);
    let spans: Vec<&Span> = request.resource_spans[0]
        .scope_spans
        .iter()
        .map(|scope| &scope.spans[0])
        .collect();
    let mut differences = Vec::new();
    if (outcome.priced, outcome.unpriced) != (1, 1) {
        differences.push(format!(
            "enrich_request: expected 1 priced and 1 unpriced, got {} and {}",
            outcome.priced, outcome.unpriced
        ));
    }
    if value_of(spans[0], "gen_ai.usage.cost.unpriced_reason")
        != Some(&Value::StringValue("duplicate".into()))
    {
        differences.push("the twin is not marked duplicate".into());
    }
    let main_id: String = std::iter::repeat_n(format!("{:02x}", case.span_id), 8).collect();
    if value_of(spans[0], "gen_ai.usage.cost.duplicate_of") != Some(&Value::StringValue(main_id)) {
        differences.push(format!(
            "duplicate_of: got {:?}",
            value_of(spans[0], "gen_ai.usage.cost.duplicate_of")
        ));
    }
    if value_of(spans[0], "gen_ai.usage.cost.amount").is_some() {
        differences.push("the twin carries a cost".into());
    }
    differences.extend(span_differences(spans[1], want, &case.span_doubles));
    differences
}

fn run(case: &Case) -> Vec<String> {
    let setup = match setup(case.config) {
        Ok(setup) => setup,
        Err(err) => return vec![err],
    };
    let mut differences = exact_differences(&case.expected, &price_exactly(case, &setup));
    differences.extend(enrich_alone(case, &setup));
    if let Some(twin) = &case.twin {
        // A fresh enricher: `enrich_alone` has already remembered the case's span.
        let fresh = match self::setup(case.config) {
            Ok(fresh) => fresh,
            Err(err) => return vec![err],
        };
        differences.extend(enrich_with_twin(case, twin, &fresh));
    }
    differences
}

#[test]
fn every_case_of_the_table_prices_as_worked_out_by_hand() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut names = HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "two cases are named {}", case.name);
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let differences = run(case);
            (!differences.is_empty())
                .then(|| format!("{}:\n    {}", case.name, differences.join("\n    ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The twin spans of the duplicate cases, priced on their own, differ from the priced span:
/// pricing the less precise one would be visible.
#[test]
fn the_less_precise_twin_would_cost_less() {
    let setup = setup("").unwrap();
    let twin = case("openllmetry_alone", openllmetry_call()).scope(OPENLLMETRY_ANTHROPIC, "0.47.3");
    match price_exactly(&twin, &setup) {
        // 0.015 + 0.0075 + 10,000 × 3.75 / 1M (0.0375) + 0.045
        Actual::Priced { cost, .. } => assert_eq!(cost.total, dec!(0.105)),
        other => panic!("{other:?}"),
    }
}
