//! AWS Bedrock through boto3 under OpenLLMetry's Bedrock instrumentation
//! (`tests/python/bedrock_calls.py`).

use crate::checks::*;
use crate::harness::*;

const BEDROCK_SCRIPT: &str = "tests/python/bedrock_calls.py";
const BEDROCK_SERVICE: &str = "bedrock-app";
const OPENLLMETRY_BEDROCK: &str = "opentelemetry.instrumentation.bedrock";

/// Bedrock (boto3 1.44.5, OpenLLMetry's Bedrock instrumentation 0.62.4). The span's model is
/// the id with its inference-profile prefix cut (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`
/// becomes `claude-sonnet-4-5-20250929-v1:0`, `global.anthropic.claude-haiku-…` becomes
/// `anthropic.claude-haiku-…`), and the provider is `aws.bedrock`: the agent cannot tell a
/// global profile from an in-region call and prices both in-region (+10%), as genai-prices
/// does. Converse's `inputTokens` leave out the cache, reported beside it; for InvokeModel the
/// instrumentation reports the uncached input and drops the cache counts.
/// In-region prices: Sonnet 4.5 input 3.30, output 16.50, cache read 0.33, 5m write 4.125;
/// Haiku 4.5 input 1.10, output 5.50, cache read 0.11, 5m write 1.375.
///   converse (Sonnet 4.5, `us.` profile): input 4,000, output 500, read 16,000
///     input 0.0132; output 0.00825; read 0.00528; total 0.02673
///     savings 20,000 × 3.30 = 0.066 − 0.0132 − 0.00528 = 0.04752; hit 0.8
///   uncached-larger (Sonnet 4.5): input 20,000, output 1,000, read 3,000, write 2,000
///     0.066 + 0.0165 + 0.00099 + 0.00825 = 0.09174; savings 25,000 × 3.30 = 0.0825 − 0.066 −
///     0.00099 − 0.00825 = 0.00726; hit 0.12 (read as including the cache: input 15,000)
///   cache-write (Haiku 4.5, `global.` profile, priced in-region): input 2,000, output 300,
///   write 8,000 (5m)
///     0.0022 + 0.00165 + 0.011 = 0.01485; savings 10,000 × 1.10 = 0.011 − 0.0022 − 0.011 =
///     −0.0022 (writing cost more than it saved)
///   invoke (Sonnet 4.5, InvokeModel): input 6,000 (the 4,000 cache reads dropped), output 400
///     0.0198 + 0.0066 = 0.0264; no savings
///   stream (Sonnet 4.5, ConverseStream, `us.` profile): input 2,500, output 500, read 7,500
///     0.00825 + 0.00825 + 0.002475 = 0.018975; savings 10,000 × 3.30 = 0.033 − 0.00825 −
///     0.002475 = 0.022275; hit 0.75
///   tool (Haiku 4.5, `global.` profile, two Converse requests around one tool call):
///     input 3,000, output 100: 0.0033 + 0.00055 = 0.00385
///     input 1,000, output 500, read 3,000: 0.0011 + 0.00275 + 0.00033 = 0.00418;
///     savings 4,000 × 1.10 = 0.0044 − 0.0011 − 0.00033 = 0.00297; hit 0.75
///   unknown-model (`us.acme.llm-1-v1:0`, reported as `llm-1-v1:0`): unpriced; error (400
///   ValidationException): nothing
const BEDROCK_CALLS: [Call; 8] = [
    bedrock(
        "bedrock-converse",
        ExpectedCost {
            price_id: SONNET_BEDROCK,
            amount: 0.02673,
            input: 0.0132,
            output: 0.00825,
            cache_read: 0.00528,
            cache_creation: 0.0,
            savings: 0.04752,
            hit_ratio: 0.8,
            input_semantics: "excludes_cache",
        },
    ),
    bedrock(
        "bedrock-uncached-larger",
        ExpectedCost {
            price_id: SONNET_BEDROCK,
            amount: 0.09174,
            input: 0.066,
            output: 0.0165,
            cache_read: 0.00099,
            cache_creation: 0.00825,
            savings: 0.00726,
            hit_ratio: 0.12,
            input_semantics: "excludes_cache",
        },
    ),
    bedrock(
        "bedrock-converse-cache-write",
        ExpectedCost {
            price_id: HAIKU_BEDROCK,
            amount: 0.01485,
            input: 0.0022,
            output: 0.00165,
            cache_read: 0.0,
            cache_creation: 0.011,
            savings: -0.0022,
            hit_ratio: 0.0,
            input_semantics: "excludes_cache",
        },
    ),
    bedrock(
        "bedrock-invoke",
        ExpectedCost {
            price_id: SONNET_BEDROCK,
            amount: 0.0264,
            input: 0.0198,
            output: 0.0066,
            cache_read: 0.0,
            cache_creation: 0.0,
            savings: 0.0,
            hit_ratio: 0.0,
            input_semantics: "excludes_cache",
        },
    ),
    bedrock(
        "bedrock-stream",
        ExpectedCost {
            price_id: SONNET_BEDROCK,
            amount: 0.018975,
            input: 0.00825,
            output: 0.00825,
            cache_read: 0.002475,
            cache_creation: 0.0,
            savings: 0.022275,
            hit_ratio: 0.75,
            input_semantics: "excludes_cache",
        },
    ),
    Call {
        key: "bedrock-tool",
        run: "bedrock",
        scopes: &[OPENLLMETRY_BEDROCK, OPENLLMETRY_BEDROCK],
        expect: Expect::Steps(&BEDROCK_TOOL_STEPS),
    },
    Call {
        key: "bedrock-unknown-model",
        run: "bedrock",
        scopes: &[OPENLLMETRY_BEDROCK],
        expect: Expect::Unpriced("unknown_model"),
    },
    refused("bedrock-error", "bedrock"),
];

/// The dated id without its profile prefix is priced by genai-prices' AWS entry (the agent's
/// own entry gives way to a dated id genai-prices prices apart); the Haiku id keeps
/// `anthropic.` and takes the agent's own entry with its in-region uplift.
const SONNET_BEDROCK: &str = "aws/regional.anthropic.claude-sonnet-4-5-20250929-v1:0";

const HAIKU_BEDROCK: &str = "claude-haiku-4-5@2026-01-01+bedrock_regional";

const BEDROCK_TOOL_STEPS: [ExpectedCost; 2] = [
    ExpectedCost {
        price_id: HAIKU_BEDROCK,
        amount: 0.00385,
        input: 0.0033,
        output: 0.00055,
        cache_read: 0.0,
        cache_creation: 0.0,
        savings: 0.0,
        hit_ratio: 0.0,
        input_semantics: "excludes_cache",
    },
    ExpectedCost {
        price_id: HAIKU_BEDROCK,
        amount: 0.00418,
        input: 0.0011,
        output: 0.00275,
        cache_read: 0.00033,
        cache_creation: 0.0,
        savings: 0.00297,
        hit_ratio: 0.75,
        input_semantics: "excludes_cache",
    },
];

const fn bedrock(key: &'static str, cost: ExpectedCost) -> Call {
    Call {
        key,
        run: "bedrock",
        scopes: &[OPENLLMETRY_BEDROCK],
        expect: Expect::Priced(cost),
    }
}

/// Bedrock through boto3 under OpenLLMetry's Bedrock instrumentation, one process over gRPC.
fn bedrock_calls() -> Suite {
    one_process(BEDROCK_SCRIPT, &BEDROCK_CALLS, BEDROCK_SERVICE)
}

/// Bedrock's model ids and Converse's uncached input, priced exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_bedrock_through_boto3_is_priced_once_per_call() {
    priced_once_per_call(bedrock_calls()).await;
}
