//! OpenLIT set up both ways (`tests/python/openlit_calls.py`), in its own virtual environment.

use crate::checks::*;
use crate::harness::*;

const OPENLIT_SCRIPT: &str = "tests/python/openlit_calls.py";
const OPENLIT_SERVICE: &str = "openlit-app";
const OPENLIT_ANTHROPIC: &str = "openlit.instrumentation.anthropic";
const HTTPX: &str = "opentelemetry.instrumentation.httpx";

/// OpenLIT 1.45.0's Anthropic spans (anthropic 0.125.0): `input_tokens` as Anthropic reports it,
/// uncached, known by the scope `openlit.instrumentation.anthropic` whether the resource says
/// `telemetry.sdk.name = openlit` (its own provider) or `opentelemetry` (the app's). Cache writes
/// without the 5m/1h split are priced at the 5-minute rate.
///   uncached-larger (claude-sonnet-4-5-20250929): input 20,000, output 1,000, cache read
///   3,000, write 2,000; all input 25,000
///     input 20,000 × 3 = 0.06; output 1,000 × 15 = 0.015; read 3,000 × 0.30 = 0.0009;
///     write 2,000 × 3.75 = 0.0075; total 0.0834
///     savings 25,000 × 3 = 0.075 − 0.06 − 0.0009 − 0.0075 = 0.0066; hit 3,000 / 25,000
///     (read as including the cache, the input would be 15,000 and the total 0.0684)
///   cache-larger (claude-sonnet-4-5-20250929): input 1,000, output 500, read 30,000, write
///   9,000; all input 40,000
///     input 0.003; output 0.0075; read 0.009; write 9,000 × 3.75 = 0.03375; total 0.05325
///     savings 40,000 × 3 = 0.12 − 0.003 − 0.009 − 0.03375 = 0.07425; hit 30,000 / 40,000
///   stream (claude-haiku-4-5-20251001, streamed): input 6,000, output 300, read 4,000
///     input 6,000 × 1 = 0.006; output 300 × 5 = 0.0015; read 4,000 × 0.10 = 0.0004;
///     total 0.0079; savings 10,000 × 1 = 0.01 − 0.006 − 0.0004 = 0.0036; hit 0.4
///   1h-write (claude-sonnet-4-5-20250929): input 2,000, output 200, write 4,000 (1,000 5m and
///   3,000 1h at the API; OpenLIT reports only the sum)
///     0.006 + 0.003 + 4,000 × 3.75 = 0.015 → 0.024 (with the split 0.03075);
///     savings 6,000 × 3 = 0.018 − 0.006 − 0.015 = −0.003
///   tool (claude-haiku-4-5-20251001): two requests, `haiku_tool_steps`, read as uncached
///   unknown-model (acme-llm-1): read, unpriced `unknown_model`
///   error (529 overloaded): OpenLIT's span carries no attribute at all, so nothing to price
const OPENLIT_CALLS: [Call; 14] = [
    openlit_uncached_larger("own:openlit-uncached-larger", "own"),
    openlit_cache_larger("own:openlit-cache-larger", "own"),
    openlit_stream("own:openlit-stream", "own"),
    openlit_1h_write("own:openlit-1h-write", "own"),
    openlit_tool("own:openlit-tool", "own"),
    openlit_call(
        "own:openlit-unknown-model",
        "own",
        Expect::Unpriced("unknown_model"),
    ),
    refused("own:openlit-error", "own"),
    openlit_uncached_larger("app:openlit-uncached-larger", "app"),
    openlit_cache_larger("app:openlit-cache-larger", "app"),
    openlit_stream("app:openlit-stream", "app"),
    openlit_1h_write("app:openlit-1h-write", "app"),
    openlit_tool("app:openlit-tool", "app"),
    openlit_call(
        "app:openlit-unknown-model",
        "app",
        Expect::Unpriced("unknown_model"),
    ),
    refused("app:openlit-error", "app"),
];

const OPENLIT_TOOL_STEPS: [ExpectedCost; 2] = haiku_tool_steps("excludes_cache");

const fn openlit_1h_write(key: &'static str, run: &'static str) -> Call {
    openlit_call(
        key,
        run,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.024,
            input: 0.006,
            output: 0.003,
            cache_read: 0.0,
            cache_creation: 0.015,
            savings: -0.003,
            hit_ratio: 0.0,
            input_semantics: "excludes_cache",
        }),
    )
}

/// One OpenLIT span per request.
const fn openlit_tool(key: &'static str, run: &'static str) -> Call {
    Call {
        key,
        run,
        scopes: &[OPENLIT_ANTHROPIC, OPENLIT_ANTHROPIC],
        expect: Expect::Steps(&OPENLIT_TOOL_STEPS),
    }
}

const fn openlit_call(key: &'static str, run: &'static str, expect: Expect) -> Call {
    Call {
        key,
        run,
        scopes: &[OPENLIT_ANTHROPIC],
        expect,
    }
}

const fn openlit_uncached_larger(key: &'static str, run: &'static str) -> Call {
    openlit_call(
        key,
        run,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.0834,
            input: 0.06,
            output: 0.015,
            cache_read: 0.0009,
            cache_creation: 0.0075,
            savings: 0.0066,
            hit_ratio: 0.12,
            input_semantics: "excludes_cache",
        }),
    )
}

const fn openlit_cache_larger(key: &'static str, run: &'static str) -> Call {
    openlit_call(
        key,
        run,
        Expect::Priced(ExpectedCost {
            price_id: "claude-sonnet-4-5@2026-01-01",
            amount: 0.05325,
            input: 0.003,
            output: 0.0075,
            cache_read: 0.009,
            cache_creation: 0.03375,
            savings: 0.07425,
            hit_ratio: 0.75,
            input_semantics: "excludes_cache",
        }),
    )
}

const fn openlit_stream(key: &'static str, run: &'static str) -> Call {
    openlit_call(
        key,
        run,
        Expect::Priced(ExpectedCost {
            price_id: "claude-haiku-4-5@2026-01-01",
            amount: 0.0079,
            input: 0.006,
            output: 0.0015,
            cache_read: 0.0004,
            cache_creation: 0.0,
            savings: 0.0036,
            hit_ratio: 0.4,
            input_semantics: "excludes_cache",
        }),
    )
}

/// OpenLIT, set up both ways, in its own virtual environment (`OPENLIT_PYTHON`, by default
/// `target/openlit-venv/bin/python`): with its own TracerProvider it exports OTLP/HTTP, under
/// the app's provider the app's gRPC exporter sends.
fn openlit_calls() -> Suite {
    let python = std::env::var("OPENLIT_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/target/openlit-venv/bin/python",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let run = |init: &'static str, transport| Run {
        interpreter: python.clone(),
        script: OPENLIT_SCRIPT,
        args: vec!["--init", init],
        transport,
        install: "python3 -m venv target/openlit-venv && target/openlit-venv/bin/pip install \
                  -r tests/python/requirements-openlit.txt",
    };
    Suite {
        runs: vec![run("own", Transport::Http), run("app", Transport::Grpc)],
        calls: &OPENLIT_CALLS,
        service_name: OPENLIT_SERVICE,
        app_scope: OPENLIT_SERVICE,
        bystander_scopes: &[HTTPX],
    }
}

/// The OpenLIT defect this pins: under the app's own TracerProvider only the instrumentation
/// scope says OpenLIT, and its uncached Anthropic input must not be read as including the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_openlit_either_way_it_is_set_up_is_priced_once_per_call() {
    priced_once_per_call(openlit_calls()).await;
}
