//! The Vercel AI SDK on Node under both telemetry integrations (`tests/node/vercel_calls.mjs`).

use crate::checks::*;
use crate::harness::*;

const VERCEL_SCRIPT: &str = "tests/node/vercel_calls.mjs";
const VERCEL_SERVICE: &str = "vercel-ai-app";
const VERCEL_SEMCONV: &str = "gen_ai";
const VERCEL_LEGACY: &str = "ai";

/// The Vercel AI SDK (`ai` 7.0.173, `@ai-sdk/anthropic` 4.0.105, `@ai-sdk/openai` 4.0.118,
/// `@ai-sdk/otel` 1.0.173, `@opentelemetry/sdk-node` 0.301.0; `tests/node/vercel_calls.mjs`),
/// both telemetry integrations, one process each:
/// - `OpenTelemetry` (scope `gen_ai`, no version) follows the GenAI conventions: `invoke_agent
///   <model>` sums every step's usage (an aggregate), `step N` carries none, `chat <model>` is
///   the call (input including the cache, `gen_ai.usage.cache_read.input_tokens` and
///   `cache_creation.input_tokens`); `embed` is an `embeddings` span over another, only the
///   inner one with usage; a refusal has `http.response.status_code` and no usage. Exports over
///   gRPC.
/// - `LegacyOpenTelemetry` (scope `ai`) writes the `ai.*` spans of earlier versions:
///   `ai.generateText` (aggregate) over `ai.generateText.doGenerate`, which carries
///   `gen_ai.usage.input_tokens` (including the cache) and the cache only as
///   `ai.usage.inputTokenDetails.cacheReadTokens` / `cacheWriteTokens` (and
///   `ai.usage.cachedInputTokens`); embeddings only as `ai.usage.tokens`, on `ai.embed` and
///   `ai.embed.doEmbed`. Exports over HTTP/JSON.
///
/// Neither reports Anthropic's 5m/1h split: a cache write is priced at the 5-minute rate.
///   plain (claude-sonnet-4-5-20250929): uncached 5,000, output 800, read 15,000
///     0.015 + 0.012 + 0.0045 = 0.0315; savings 20,000 × 3 = 0.06 − 0.015 − 0.0045 = 0.0405
///   cache-write: uncached 1,000, output 100, write 3,000 (1,000 5m + 2,000 1h at the API)
///     0.003 + 0.0015 + 3,000 × 3.75 = 0.01125 → 0.01575 (with the split it would be 0.02025);
///     savings 4,000 × 3 = 0.012 − 0.003 − 0.01125 = −0.00225
///   stream (streamText): uncached 2,500, output 500, read 7,500
///     0.0075 + 0.0075 + 0.00225 = 0.01725; savings 0.03 − 0.0075 − 0.00225 = 0.02025
///   tool (Haiku 4.5, two steps): as Pydantic AI's tool call, `HAIKU_TOOL_STEPS`
///   object (generateObject, gpt-4o-mini-2024-07-18): prompt 4,000 of which cached 2,000,
///   completion 500
///     2,000 × 0.15 = 0.0003; read 2,000 × 0.075 = 0.00015; output 500 × 0.60 = 0.0003;
///     total 0.00075; savings 4,000 × 0.15 = 0.0006 − 0.0003 − 0.00015 = 0.00015; hit 0.5
///   embed (text-embedding-3-small): 5,000 × 0.02 = 0.0001
///   unknown-model (acme-llm-1): unpriced `unknown_model`; error (529): nothing
const VERCEL_CALLS: [Call; 16] = [
    vercel_plain("semconv:vercel-plain", VercelTelemetry::Semconv),
    vercel_cache_write("semconv:vercel-cache-write", VercelTelemetry::Semconv),
    vercel_stream("semconv:vercel-stream", VercelTelemetry::Semconv),
    vercel_tool("semconv:vercel-tool", VercelTelemetry::Semconv),
    vercel_object("semconv:vercel-object", VercelTelemetry::Semconv),
    vercel_embed("semconv:vercel-embed", VercelTelemetry::Semconv),
    vercel_unknown("semconv:vercel-unknown-model", VercelTelemetry::Semconv),
    refused("semconv:vercel-error", "semconv"),
    vercel_plain("legacy:vercel-plain", VercelTelemetry::Legacy),
    vercel_cache_write("legacy:vercel-cache-write", VercelTelemetry::Legacy),
    vercel_stream("legacy:vercel-stream", VercelTelemetry::Legacy),
    vercel_tool("legacy:vercel-tool", VercelTelemetry::Legacy),
    vercel_object("legacy:vercel-object", VercelTelemetry::Legacy),
    vercel_embed("legacy:vercel-embed", VercelTelemetry::Legacy),
    vercel_unknown("legacy:vercel-unknown-model", VercelTelemetry::Legacy),
    refused("legacy:vercel-error", "legacy"),
];

/// The Vercel AI SDK telemetry integration of a run.
#[derive(Clone, Copy)]
enum VercelTelemetry {
    Semconv,
    Legacy,
}

impl VercelTelemetry {
    /// The run (`--telemetry`) that makes the call.
    const fn run(self) -> &'static str {
        match self {
            VercelTelemetry::Semconv => "semconv",
            VercelTelemetry::Legacy => "legacy",
        }
    }

    /// The scopes of the spans reporting usage for a call of `steps` model calls: one per
    /// step, and the aggregate above them.
    const fn scopes(self, steps: usize) -> &'static [&'static str] {
        match (self, steps) {
            (VercelTelemetry::Semconv, 1) => &[VERCEL_SEMCONV, VERCEL_SEMCONV],
            (VercelTelemetry::Semconv, _) => &[VERCEL_SEMCONV, VERCEL_SEMCONV, VERCEL_SEMCONV],
            (VercelTelemetry::Legacy, 1) => &[VERCEL_LEGACY, VERCEL_LEGACY],
            (VercelTelemetry::Legacy, _) => &[VERCEL_LEGACY, VERCEL_LEGACY, VERCEL_LEGACY],
        }
    }
}

const fn vercel_call(key: &'static str, telemetry: VercelTelemetry, expect: Expect) -> Call {
    Call {
        key,
        run: telemetry.run(),
        scopes: telemetry.scopes(1),
        expect,
    }
}

const fn vercel_plain(key: &'static str, telemetry: VercelTelemetry) -> Call {
    vercel_call(
        key,
        telemetry,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0315,
            input: 0.015,
            output: 0.012,
            cache_read: 0.0045,
            cache_creation: 0.0,
            savings: 0.0405,
            hit_ratio: 0.75,
            input_semantics: "includes_cache",
        }),
    )
}

const fn vercel_cache_write(key: &'static str, telemetry: VercelTelemetry) -> Call {
    vercel_call(
        key,
        telemetry,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.01575,
            input: 0.003,
            output: 0.0015,
            cache_read: 0.0,
            cache_creation: 0.01125,
            savings: -0.00225,
            hit_ratio: 0.0,
            input_semantics: "includes_cache",
        }),
    )
}

const fn vercel_stream(key: &'static str, telemetry: VercelTelemetry) -> Call {
    vercel_call(
        key,
        telemetry,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.01725,
            input: 0.0075,
            output: 0.0075,
            cache_read: 0.00225,
            cache_creation: 0.0,
            savings: 0.02025,
            hit_ratio: 0.75,
            input_semantics: "includes_cache",
        }),
    )
}

const fn vercel_tool(key: &'static str, telemetry: VercelTelemetry) -> Call {
    Call {
        key,
        run: telemetry.run(),
        scopes: telemetry.scopes(2),
        expect: Expect::Steps(&HAIKU_TOOL_STEPS),
    }
}

const fn vercel_object(key: &'static str, telemetry: VercelTelemetry) -> Call {
    vercel_call(
        key,
        telemetry,
        Expect::Priced(ExpectedCost {
            price_id: "gpt-4o-mini@2026-01-01",
            amount: 0.00075,
            input: 0.0003,
            output: 0.0003,
            cache_read: 0.00015,
            cache_creation: 0.0,
            savings: 0.00015,
            hit_ratio: 0.5,
            input_semantics: "includes_cache",
        }),
    )
}

/// Under the conventions only the inner `embeddings` span reports usage; the legacy spans
/// report it on both.
const fn vercel_embed(key: &'static str, telemetry: VercelTelemetry) -> Call {
    let cost = ExpectedCost {
        price_id: "openai/text-embedding-3-small",
        amount: 0.0001,
        input: 0.0001,
        output: 0.0,
        cache_read: 0.0,
        cache_creation: 0.0,
        savings: 0.0,
        hit_ratio: 0.0,
        input_semantics: "includes_cache",
    };
    Call {
        key,
        run: telemetry.run(),
        scopes: match telemetry {
            VercelTelemetry::Semconv => &[VERCEL_SEMCONV],
            VercelTelemetry::Legacy => &[VERCEL_LEGACY, VERCEL_LEGACY],
        },
        expect: Expect::Priced(cost),
    }
}

const fn vercel_unknown(key: &'static str, telemetry: VercelTelemetry) -> Call {
    vercel_call(key, telemetry, Expect::Unpriced("unknown_model"))
}

/// The Vercel AI SDK under both telemetry integrations, one Node process each: the
/// conventions' spans over gRPC, the legacy `ai.*` spans over HTTP/JSON.
fn vercel_calls() -> Suite {
    let run = |telemetry, protocol, transport| Run {
        interpreter: std::env::var("NODE").unwrap_or_else(|_| "node".into()),
        script: VERCEL_SCRIPT,
        args: vec!["--telemetry", telemetry, "--protocol", protocol],
        transport,
        install: "npm ci --prefix tests/node",
    };
    Suite {
        runs: vec![
            run("semconv", "grpc", Transport::Grpc),
            run("legacy", "http/json", Transport::Http),
        ],
        calls: &VERCEL_CALLS,
        service_name: VERCEL_SERVICE,
        app_scope: VERCEL_SERVICE,
        bystander_scopes: &[],
    }
}

/// Both telemetry integrations of the Vercel AI SDK: the agent run, `ai.generateText` and
/// `ai.embed` spans repeat their calls' usage and carry no cost; each model call is priced once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_vercel_ai_sdk_is_priced_once_per_model_call() {
    priced_once_per_call(vercel_calls()).await;
}
