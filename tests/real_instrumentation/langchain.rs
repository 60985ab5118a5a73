//! LangChain under OpenInference's and OpenLLMetry's instrumentation (`tests/python/langchain_calls.py`).

use crate::checks::*;
use crate::harness::*;

const LANGCHAIN_SCRIPT: &str = "tests/python/langchain_calls.py";
const LANGCHAIN_SERVICE: &str = "langchain-app";
const OPENINFERENCE_LANGCHAIN: &str = "openinference.instrumentation.langchain";
const OPENLLMETRY_LANGCHAIN: &str = "opentelemetry.instrumentation.langchain";

/// LangChain 1.x (langchain-anthropic 1.7.10, langchain-openai 1.7.4, anthropic 2.10.0, openai
/// 3.51.0) under OpenInference's LangChain instrumentation 0.1.80 and OpenLLMetry's 0.62.4. An
/// Anthropic call is described twice, by LangChain's span and the SDK's own (siblings under the
/// app span, or under the chain); chain, prompt and parser spans around a call report no usage.
///   plain (claude-sonnet-4-5-20250929): input 3,000, output 400, read 12,000, write 5,000 =
///   2,000 5m + 3,000 1h (the split only on the SDK's span, which is priced); all input 20,000
///     input 0.009; output 0.006; read 0.0036; write 2,000 × 3.75 + 3,000 × 6 = 0.0075 + 0.018
///     = 0.0255; total 0.0441; savings 20,000 × 3 = 0.06 − 0.009 − 0.0036 − 0.0255 = 0.0219;
///     hit 0.6
///   chain (prompt | claude-haiku-4-5-20251001 | parser): input 8,000, output 1,000, read 2,000
///     input 0.008; output 0.005; read 0.0002; total 0.0132
///     savings 10,000 × 1 = 0.01 − 0.008 − 0.0002 = 0.0018; hit 0.2
///   stream (claude-sonnet-4-5-20250929): input 2,000, output 600, read 8,000
///     input 0.006; output 0.009; read 0.0024; total 0.0174
///     savings 10,000 × 3 = 0.03 − 0.006 − 0.0024 = 0.0216; hit 0.8
///   openai (gpt-4o-2024-08-06): prompt 6,000 of which cached 3,000, completion 300
///     input 3,000 × 2.50 = 0.0075; read 3,000 × 1.25 = 0.00375; output 300 × 10 = 0.003;
///     total 0.01425; savings 6,000 × 2.50 = 0.015 − 0.0075 − 0.00375 = 0.00375; hit 0.5
///   unknown-model (acme-llm-1): unpriced `unknown_model`; error (529): nothing
///   agent (create_agent with one tool, claude-sonnet-4-5-20250929), two steps:
///     asks for the tool: input 4,000, output 200; 0.012 + 0.003 = 0.015, no savings
///     answers: input 1,000, output 300, read 4,000; 0.003 + 0.0045 + 0.0012 = 0.0087;
///     savings 5,000 × 3 = 0.015 − 0.003 − 0.0012 = 0.0108; hit 0.8
const LANGCHAIN_CALLS: [Call; 14] = [
    langchain_plain(
        "openinference:langchain-plain",
        LangChainTracer::OpenInference,
    ),
    langchain_chain(
        "openinference:langchain-chain",
        LangChainTracer::OpenInference,
    ),
    langchain_stream(
        "openinference:langchain-stream",
        LangChainTracer::OpenInference,
    ),
    langchain_openai(
        "openinference:langchain-openai",
        LangChainTracer::OpenInference,
    ),
    langchain_unknown(
        "openinference:langchain-unknown-model",
        LangChainTracer::OpenInference,
    ),
    langchain_agent(
        "openinference:langchain-agent",
        LangChainTracer::OpenInference,
    ),
    refused("openinference:langchain-error", "openinference"),
    langchain_plain("openllmetry:langchain-plain", LangChainTracer::OpenLLMetry),
    langchain_chain("openllmetry:langchain-chain", LangChainTracer::OpenLLMetry),
    langchain_stream("openllmetry:langchain-stream", LangChainTracer::OpenLLMetry),
    langchain_openai("openllmetry:langchain-openai", LangChainTracer::OpenLLMetry),
    langchain_unknown(
        "openllmetry:langchain-unknown-model",
        LangChainTracer::OpenLLMetry,
    ),
    langchain_agent("openllmetry:langchain-agent", LangChainTracer::OpenLLMetry),
    refused("openllmetry:langchain-error", "openllmetry"),
];

/// The LangChain instrumentation of a run.
#[derive(Clone, Copy)]
enum LangChainTracer {
    OpenInference,
    OpenLLMetry,
}

impl LangChainTracer {
    /// The run (`--instrumentation`) that makes the call.
    const fn run(self) -> &'static str {
        match self {
            LangChainTracer::OpenInference => "openinference",
            LangChainTracer::OpenLLMetry => "openllmetry",
        }
    }
}

/// An Anthropic call, described by the SDK's span and LangChain's.
const fn langchain_anthropic(key: &'static str, tracer: LangChainTracer, expect: Expect) -> Call {
    Call {
        key,
        run: tracer.run(),
        scopes: match tracer {
            LangChainTracer::OpenInference => &[ANTHROPIC_SDK, OPENINFERENCE_LANGCHAIN],
            LangChainTracer::OpenLLMetry => &[ANTHROPIC_SDK, OPENLLMETRY_LANGCHAIN],
        },
        expect,
    }
}

const fn langchain_plain(key: &'static str, tracer: LangChainTracer) -> Call {
    langchain_anthropic(
        key,
        tracer,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0441,
            input: 0.009,
            output: 0.006,
            cache_read: 0.0036,
            cache_creation: 0.0255,
            savings: 0.0219,
            hit_ratio: 0.6,
            input_semantics: "includes_cache",
        }),
    )
}

const fn langchain_chain(key: &'static str, tracer: LangChainTracer) -> Call {
    langchain_anthropic(
        key,
        tracer,
        Expect::Priced(ExpectedCost {
            price_id: "claude-haiku-4-5@2026-01-01",
            amount: 0.0132,
            input: 0.008,
            output: 0.005,
            cache_read: 0.0002,
            cache_creation: 0.0,
            savings: 0.0018,
            hit_ratio: 0.2,
            input_semantics: "includes_cache",
        }),
    )
}

const fn langchain_stream(key: &'static str, tracer: LangChainTracer) -> Call {
    langchain_anthropic(
        key,
        tracer,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0174,
            input: 0.006,
            output: 0.009,
            cache_read: 0.0024,
            cache_creation: 0.0,
            savings: 0.0216,
            hit_ratio: 0.8,
            input_semantics: "includes_cache",
        }),
    )
}

const fn langchain_unknown(key: &'static str, tracer: LangChainTracer) -> Call {
    langchain_anthropic(key, tracer, Expect::Unpriced("unknown_model"))
}

/// The agent's steps; its graph, model, tools and tool spans report no usage.
const AGENT_STEPS: [ExpectedCost; 2] = [
    ExpectedCost {
        price_id: "claude-sonnet-4-5@2026-01-01",
        amount: 0.015,
        input: 0.012,
        output: 0.003,
        cache_read: 0.0,
        cache_creation: 0.0,
        savings: 0.0,
        hit_ratio: 0.0,
        input_semantics: "includes_cache",
    },
    ExpectedCost {
        price_id: "claude-sonnet-4-5@2026-01-01",
        amount: 0.0087,
        input: 0.003,
        output: 0.0045,
        cache_read: 0.0012,
        cache_creation: 0.0,
        savings: 0.0108,
        hit_ratio: 0.8,
        input_semantics: "includes_cache",
    },
];

/// Each step is described by the SDK's span and LangChain's: two spans of each scope.
const fn langchain_agent(key: &'static str, tracer: LangChainTracer) -> Call {
    Call {
        key,
        run: tracer.run(),
        scopes: match tracer {
            LangChainTracer::OpenInference => &[
                ANTHROPIC_SDK,
                ANTHROPIC_SDK,
                OPENINFERENCE_LANGCHAIN,
                OPENINFERENCE_LANGCHAIN,
            ],
            LangChainTracer::OpenLLMetry => &[
                ANTHROPIC_SDK,
                ANTHROPIC_SDK,
                OPENLLMETRY_LANGCHAIN,
                OPENLLMETRY_LANGCHAIN,
            ],
        },
        expect: Expect::Steps(&AGENT_STEPS),
    }
}

/// The openai client emits no span of its own: LangChain's is the only one.
const fn langchain_openai(key: &'static str, tracer: LangChainTracer) -> Call {
    Call {
        key,
        run: tracer.run(),
        scopes: match tracer {
            LangChainTracer::OpenInference => &[OPENINFERENCE_LANGCHAIN],
            LangChainTracer::OpenLLMetry => &[OPENLLMETRY_LANGCHAIN],
        },
        expect: Expect::Priced(ExpectedCost {
            price_id: "gpt-4o@2026-01-01",
            amount: 0.01425,
            input: 0.0075,
            output: 0.003,
            cache_read: 0.00375,
            cache_creation: 0.0,
            savings: 0.00375,
            hit_ratio: 0.5,
            input_semantics: "includes_cache",
        }),
    }
}

/// LangChain under OpenInference's and OpenLLMetry's LangChain instrumentation, one process
/// each, exporting over gRPC.
fn langchain_calls() -> Suite {
    let run = |instrumentation| {
        main_environment(
            LANGCHAIN_SCRIPT,
            vec!["--instrumentation", instrumentation],
            Transport::Grpc,
        )
    };
    Suite {
        runs: vec![run("openinference"), run("openllmetry")],
        calls: &LANGCHAIN_CALLS,
        service_name: LANGCHAIN_SERVICE,
        app_scope: LANGCHAIN_SERVICE,
        bystander_scopes: &[],
    }
}

/// Chain, prompt and parser spans around a call carry no cost; the call is priced once however
/// many spans describe it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_langchain_under_both_instrumentations_is_priced_once_per_call() {
    priced_once_per_call(langchain_calls()).await;
}
