//! OpenLLMetry and OpenInference on the Anthropic and OpenAI clients
//! (`tests/python/instrumented_calls.py`), over gRPC and over HTTP.

use crate::checks::*;
use crate::harness::*;

pub const SCRIPT: &str = "tests/python/instrumented_calls.py";
const SERVICE_NAME: &str = "python-instrumented-app";
const APP_SCOPE: &str = "python-instrumented-app";
const OPENLLMETRY_ANTHROPIC: &str = "opentelemetry.instrumentation.anthropic";
const OPENLLMETRY_OPENAI: &str = "opentelemetry.instrumentation.openai.v1";
const OPENINFERENCE_ANTHROPIC: &str = "openinference.instrumentation.anthropic";
const OPENINFERENCE_OPENAI: &str = "openinference.instrumentation.openai";
/// The script's `--libraries` values, one process each.
const LIBRARY_SETS: [&str; 3] = ["openllmetry", "openinference", "both"];

pub const CALLS: [Call; 16] = [
    Call {
        key: "anthropic-openllmetry",
        run: "openllmetry",
        scopes: &[ANTHROPIC_SDK, OPENLLMETRY_ANTHROPIC],
        // claude-sonnet-4-5-20250929: input_tokens 2,000, output 1,500, cache read 8,000, cache
        // write 10,000 = 6,000 5m + 4,000 1h; all input 20,000 (< 200K: no long-context tier).
        //   input        2,000 × 3    = 0.006
        //   output       1,500 × 15   = 0.0225
        //   cache read   8,000 × 0.30 = 0.0024
        //   cache write  6,000 × 3.75 + 4,000 × 6 = 0.0225 + 0.024 = 0.0465
        //   total                     = 0.0774
        //   savings 20,000 × 3 = 0.06 − 0.006 − 0.0465 − 0.0024 = 0.0051; hit 8,000 / 20,000
        // Only the SDK's span has the 5m/1h split: OpenLLMetry's 10,000 at the 5m rate would
        // make 0.0375 and a total of 0.0684.
        expect: Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0774,
            input: 0.006,
            output: 0.0225,
            cache_read: 0.0024,
            cache_creation: 0.0465,
            savings: 0.0051,
            hit_ratio: 0.4,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "anthropic-stream-openllmetry",
        run: "openllmetry",
        scopes: &[ANTHROPIC_SDK, OPENLLMETRY_ANTHROPIC],
        // Streamed, claude-sonnet-4-5-20250929: input_tokens 3,000, output 600, cache read
        // 12,000, cache write 5,000 (5m); all input 20,000. OpenLLMetry reports 601 output
        // tokens (it adds message_start's 1 to message_delta's cumulative 600); the SDK 600.
        //   input        3,000 × 3    = 0.009
        //   output         600 × 15   = 0.009
        //   cache read  12,000 × 0.30 = 0.0036
        //   cache write  5,000 × 3.75 = 0.01875
        //   total                     = 0.04035
        //   savings 20,000 × 3 = 0.06 − 0.009 − 0.01875 − 0.0036 = 0.02865; hit 12,000 / 20,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.04035,
            input: 0.009,
            output: 0.009,
            cache_read: 0.0036,
            cache_creation: 0.01875,
            savings: 0.02865,
            hit_ratio: 0.6,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "openai-openllmetry",
        run: "openllmetry",
        scopes: &[OPENLLMETRY_OPENAI],
        // gpt-5-2025-08-07: prompt_tokens 20,000 of which cached 15,000; completion 3,000 of
        // which reasoning 2,000 (reasoning is output, not added again).
        //   input (uncached)  5,000 × 1.25  = 0.00625
        //   cache read       15,000 × 0.125 = 0.001875
        //   output            3,000 × 10    = 0.03
        //   total                           = 0.038125
        //   savings 20,000 × 1.25 = 0.025 − 0.00625 − 0.001875 = 0.016875; hit 15,000 / 20,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-5@2026-01-01",
            amount: 0.038125,
            input: 0.00625,
            output: 0.03,
            cache_read: 0.001875,
            cache_creation: 0.0,
            savings: 0.016875,
            hit_ratio: 0.75,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "openai-stream-openllmetry",
        run: "openllmetry",
        scopes: &[OPENLLMETRY_OPENAI],
        // Streamed with include_usage, gpt-4.1-2025-04-14: prompt 5,000 of which cached 4,000,
        // completion 250.
        //   input (uncached) 1,000 × 2    = 0.002
        //   cache read       4,000 × 0.50 = 0.002
        //   output             250 × 8    = 0.002
        //   total                         = 0.006
        //   savings 5,000 × 2 = 0.01 − 0.002 − 0.002 = 0.006; hit 4,000 / 5,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-4.1@2026-01-01",
            amount: 0.006,
            input: 0.002,
            output: 0.002,
            cache_read: 0.002,
            cache_creation: 0.0,
            savings: 0.006,
            hit_ratio: 0.8,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "anthropic-openinference",
        run: "openinference",
        scopes: &[ANTHROPIC_SDK, OPENINFERENCE_ANTHROPIC],
        // claude-sonnet-4-5-20250929: input_tokens 4,000, output 800, cache read 30,000, cache
        // write 6,000 (no split: 5m rate); all input 40,000.
        //   input        4,000 × 3    = 0.012
        //   output         800 × 15   = 0.012
        //   cache read  30,000 × 0.30 = 0.009
        //   cache write  6,000 × 3.75 = 0.0225
        //   total                     = 0.0555
        //   savings 40,000 × 3 = 0.12 − 0.012 − 0.0225 − 0.009 = 0.0765; hit 30,000 / 40,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0555,
            input: 0.012,
            output: 0.012,
            cache_read: 0.009,
            cache_creation: 0.0225,
            savings: 0.0765,
            hit_ratio: 0.75,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "anthropic-stream-openinference",
        run: "openinference",
        scopes: &[ANTHROPIC_SDK, OPENINFERENCE_ANTHROPIC],
        // Streamed with `messages.stream()`, claude-sonnet-4-5-20250929: input_tokens 1,000,
        // output 400, cache read 9,000, no cache write; all input 10,000.
        //   input       1,000 × 3    = 0.003
        //   output        400 × 15   = 0.006
        //   cache read  9,000 × 0.30 = 0.0027
        //   total                    = 0.0117
        //   savings 10,000 × 3 = 0.03 − 0.003 − 0.0027 = 0.0243; hit 9,000 / 10,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0117,
            input: 0.003,
            output: 0.006,
            cache_read: 0.0027,
            cache_creation: 0.0,
            savings: 0.0243,
            hit_ratio: 0.9,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "openai-openinference",
        run: "openinference",
        scopes: &[OPENINFERENCE_OPENAI],
        // gpt-4o-2024-08-06: prompt_tokens 10,000 of which cached 8,000, completion 700.
        //   input (uncached) 2,000 × 2.50 = 0.005
        //   cache read       8,000 × 1.25 = 0.01
        //   output             700 × 10   = 0.007
        //   total                         = 0.022
        //   savings 10,000 × 2.50 = 0.025 − 0.005 − 0.01 = 0.01; hit 8,000 / 10,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-4o@2026-01-01",
            amount: 0.022,
            input: 0.005,
            output: 0.007,
            cache_read: 0.01,
            cache_creation: 0.0,
            savings: 0.01,
            hit_ratio: 0.8,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "openai-stream-openinference",
        run: "openinference",
        scopes: &[OPENINFERENCE_OPENAI],
        // Streamed with include_usage, gpt-4o-mini-2024-07-18: prompt 40,000 of which cached
        // 32,000, completion 1,000.
        //   input (uncached)  8,000 × 0.15  = 0.0012
        //   cache read       32,000 × 0.075 = 0.0024
        //   output            1,000 × 0.60  = 0.0006
        //   total                           = 0.0042
        //   savings 40,000 × 0.15 = 0.006 − 0.0012 − 0.0024 = 0.0024; hit 32,000 / 40,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-4o-mini@2026-01-01",
            amount: 0.0042,
            input: 0.0012,
            output: 0.0006,
            cache_read: 0.0024,
            cache_creation: 0.0,
            savings: 0.0024,
            hit_ratio: 0.8,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "anthropic-both",
        run: "both",
        scopes: &[
            ANTHROPIC_SDK,
            OPENINFERENCE_ANTHROPIC,
            OPENLLMETRY_ANTHROPIC,
        ],
        // Three spans for one call. claude-haiku-4-5-20251001: input_tokens 2,500, output 500,
        // cache read 20,000, cache write 2,500 all 1h; all input 25,000.
        //   input        2,500 × 1    = 0.0025
        //   output         500 × 5    = 0.0025
        //   cache read  20,000 × 0.10 = 0.002
        //   cache write  2,500 × 2    = 0.005 (1h; at the 5m rate it would be 0.003125)
        //   total                     = 0.012
        //   savings 25,000 × 1 = 0.025 − 0.0025 − 0.005 − 0.002 = 0.0155; hit 20,000 / 25,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "claude-haiku-4-5@2026-01-01",
            amount: 0.012,
            input: 0.0025,
            output: 0.0025,
            cache_read: 0.002,
            cache_creation: 0.005,
            savings: 0.0155,
            hit_ratio: 0.8,
            input_semantics: "includes_cache",
        }),
    },
    Call {
        key: "openai-both",
        run: "both",
        scopes: &[OPENINFERENCE_OPENAI, OPENLLMETRY_OPENAI],
        // Two spans for one call (OpenLLMetry's the parent). gpt-4.1-mini-2025-04-14: prompt
        // 50,000 of which cached 40,000, completion 2,000.
        //   input (uncached) 10,000 × 0.40 = 0.004
        //   cache read       40,000 × 0.10 = 0.004
        //   output            2,000 × 1.60 = 0.0032
        //   total                          = 0.0112
        //   savings 50,000 × 0.40 = 0.02 − 0.004 − 0.004 = 0.012; hit 40,000 / 50,000
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-4.1-mini@2026-01-01",
            amount: 0.0112,
            input: 0.004,
            output: 0.0032,
            cache_read: 0.004,
            cache_creation: 0.0,
            savings: 0.012,
            hit_ratio: 0.8,
            input_semantics: "includes_cache",
        }),
    },
    tool_call("tool-openllmetry", "openllmetry"),
    unknown_model("unknown-model-openllmetry", "openllmetry"),
    refused("error-openllmetry", "openllmetry"),
    tool_call("tool-openinference", "openinference"),
    unknown_model("unknown-model-openinference", "openinference"),
    refused("error-openinference", "openinference"),
];

/// The scopes of an Anthropic call's spans under `run`'s instrumentation: the SDK's and the
/// library's.
const fn anthropic_scopes(run: &'static str) -> &'static [&'static str] {
    match run.as_bytes() {
        b"openllmetry" => &[ANTHROPIC_SDK, OPENLLMETRY_ANTHROPIC],
        _ => &[ANTHROPIC_SDK, OPENINFERENCE_ANTHROPIC],
    }
}

/// Two requests around one tool call (claude-haiku-4-5-20251001), each described by the SDK's
/// span and the library's: priced as Pydantic AI's tool call, `HAIKU_TOOL_STEPS`.
const fn tool_call(key: &'static str, run: &'static str) -> Call {
    Call {
        key,
        run,
        scopes: match run.as_bytes() {
            b"openllmetry" => &[
                ANTHROPIC_SDK,
                ANTHROPIC_SDK,
                OPENLLMETRY_ANTHROPIC,
                OPENLLMETRY_ANTHROPIC,
            ],
            _ => &[
                ANTHROPIC_SDK,
                ANTHROPIC_SDK,
                OPENINFERENCE_ANTHROPIC,
                OPENINFERENCE_ANTHROPIC,
            ],
        },
        expect: Expect::Steps(&HAIKU_TOOL_STEPS),
    }
}

/// `acme-llm-1`: read, and marked `unknown_model` on both spans.
const fn unknown_model(key: &'static str, run: &'static str) -> Call {
    Call {
        key,
        run,
        scopes: anthropic_scopes(run),
        expect: Expect::Unpriced("unknown_model"),
    }
}

/// The OpenLLMetry / OpenInference suite, every script exporting over `protocol`.
fn instrumented_calls(protocol: &'static str) -> Suite {
    let transport = match protocol {
        "grpc" => Transport::Grpc,
        _ => Transport::Http,
    };
    Suite {
        // One process per library set (the instrumentors cannot be undone within a process).
        runs: LIBRARY_SETS
            .iter()
            .map(|libraries| {
                main_environment(
                    SCRIPT,
                    vec!["--protocol", protocol, "--libraries", libraries],
                    transport,
                )
            })
            .collect(),
        calls: &CALLS,
        service_name: SERVICE_NAME,
        app_scope: APP_SCOPE,
        bystander_scopes: &[],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_python_instrumentation_over_grpc_is_priced_once_per_call() {
    priced_once_per_call(instrumented_calls("grpc")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_python_instrumentation_over_http_is_priced_once_per_call() {
    priced_once_per_call(instrumented_calls("http/protobuf")).await;
}
