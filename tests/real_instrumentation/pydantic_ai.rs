//! Pydantic AI with its own instrumentation (`tests/python/pydantic_ai_calls.py`).

use crate::checks::*;
use crate::harness::*;

const PYDANTIC_AI_SCRIPT: &str = "tests/python/pydantic_ai_calls.py";
const PYDANTIC_AI_SERVICE: &str = "pydantic-ai-app";
const PYDANTIC_AI: &str = "pydantic-ai";

/// Pydantic AI 2.68.0 (`Agent.instrument_all()`, anthropic 2.10.0, openai 3.51.0): an agent run
/// is an `invoke_agent` span with `gen_ai.aggregated_usage.*` (no dialect's usage names, so no
/// cost) over one `chat` span per model request, the SDK's span under each `chat` span; its
/// Anthropic requests stream. Its `chat` spans count input including the cache and carry
/// Pydantic AI's own `operation.cost`.
///   plain (claude-sonnet-4-5-20250929): input 5,000, output 800, read 15,000
///     input 0.015; output 0.012; read 0.0045; total 0.0315
///     savings 20,000 × 3 = 0.06 − 0.015 − 0.0045 = 0.0405; hit 0.75
///   tool (claude-haiku-4-5-20251001), two requests around one tool call: `HAIKU_TOOL_STEPS`
///   cache-write (claude-sonnet-4-5-20250929): input 1,000, output 200, write 4,000 (1,000 5m
///   and 3,000 1h; the split only on the SDK's span, which is priced)
///     0.003 + 0.003 + 1,000 × 3.75 + 3,000 × 6 = 0.00375 + 0.018 = 0.02175 → 0.02775;
///     savings 5,000 × 3 = 0.015 − 0.003 − 0.02175 = −0.00975
///   stream (claude-sonnet-4-5-20250929): input 2,500, output 500, read 7,500
///     input 0.0075; output 0.0075; read 0.00225; total 0.01725
///     savings 10,000 × 3 = 0.03 − 0.0075 − 0.00225 = 0.02025; hit 0.75
///   openai (gpt-4.1-2025-04-14): prompt 8,000 of which cached 6,000, completion 400
///     input 2,000 × 2 = 0.004; read 6,000 × 0.50 = 0.003; output 400 × 8 = 0.0032;
///     total 0.0102; savings 8,000 × 2 = 0.016 − 0.004 − 0.003 = 0.009; hit 0.75
///   unknown-model (acme-llm-1): unpriced `unknown_model`; error (529): nothing
const PYDANTIC_AI_CALLS: [Call; 7] = [
    Call {
        key: "pydantic-plain",
        run: "pydantic-ai",
        scopes: &[ANTHROPIC_SDK, PYDANTIC_AI],
        expect: Expect::Priced(ExpectedCost {
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
    },
    Call {
        key: "pydantic-tool",
        run: "pydantic-ai",
        scopes: &[ANTHROPIC_SDK, ANTHROPIC_SDK, PYDANTIC_AI, PYDANTIC_AI],
        expect: Expect::Steps(&HAIKU_TOOL_STEPS),
    },
    Call {
        key: "pydantic-cache-write",
        run: "pydantic-ai",
        scopes: &[ANTHROPIC_SDK, PYDANTIC_AI],
        expect: Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.02775,
            input: 0.003,
            output: 0.003,
            cache_read: 0.0,
            cache_creation: 0.02175,
            savings: -0.00975,
            hit_ratio: 0.0,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "pydantic-stream",
        run: "pydantic-ai",
        scopes: &[ANTHROPIC_SDK, PYDANTIC_AI],
        expect: Expect::Priced(ExpectedCost {
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
    },
    Call {
        key: "pydantic-openai",
        run: "pydantic-ai",
        scopes: &[PYDANTIC_AI],
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-4.1@2026-01-01",
            amount: 0.0102,
            input: 0.004,
            output: 0.0032,
            cache_read: 0.003,
            cache_creation: 0.0,
            savings: 0.009,
            hit_ratio: 0.75,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "pydantic-unknown-model",
        run: "pydantic-ai",
        scopes: &[ANTHROPIC_SDK, PYDANTIC_AI],
        expect: Expect::Unpriced("unknown_model"),
    },
    refused("pydantic-error", "pydantic-ai"),
];

/// Pydantic AI with its own instrumentation, one process exporting over gRPC.
fn pydantic_ai_calls() -> Suite {
    one_process(PYDANTIC_AI_SCRIPT, &PYDANTIC_AI_CALLS, PYDANTIC_AI_SERVICE)
}

/// The agent run's span carries aggregated usage and no cost; each model request is priced
/// once, the SDK's span under it a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_pydantic_ai_is_priced_once_per_model_request() {
    priced_once_per_call(pydantic_ai_calls()).await;
}
