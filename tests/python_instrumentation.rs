//! End to end with REAL instrumentation libraries from PyPI and npm: each suite's scripts call a
//! fake Anthropic / OpenAI / Bedrock API (`tests/python/fake_provider.py`) through the official
//! clients, instrumented by the library under test, and export over OTLP to the agent running
//! in-process; a capture backend receives what the agent forwards. Suites: OpenLLMetry and
//! OpenInference (`instrumented_calls.py`, over gRPC and over HTTP), OpenLIT
//! (`openlit_calls.py`), LangChain (`langchain_calls.py`), Pydantic AI (`pydantic_ai_calls.py`),
//! Bedrock through boto3 (`bedrock_calls.py`) and the Vercel AI SDK on Node
//! (`tests/node/vercel_calls.mjs`); each call's expected cost is worked out by hand beside its
//! suite's calls.
//!
//! Needs the packages of `tests/python/requirements.txt`:
//! `python3 -m pip install -r tests/python/requirements.txt` (set `PYTHON` to use another
//! interpreter), and for the Vercel suite `npm ci --prefix tests/node` (set `NODE` to use
//! another `node`). Without them the tests fail, they do not skip.
//!
//! OpenLLMetry and OpenInference: three processes, one per library set (`--libraries
//! openllmetry | openinference | both`), ten calls, each in its own trace under an app span `POST /chat` whose `app.call` names it:
//! non-streaming and streaming calls, prompt-cache reads and writes (Anthropic's 5m/1h split),
//! OpenAI cached and reasoning tokens, and calls described by two or three spans.
//!
//! Tested with (scope name → library, version; span name):
//! - `com.anthropic.sdk.python` → anthropic 2.10.0; `anthropic.messages.create`, the SDK's own
//!   span on every Anthropic call, the only one with the 5m/1h cache-write split
//! - `opentelemetry.instrumentation.anthropic` → OpenLLMetry opentelemetry-instrumentation-anthropic
//!   0.62.4; `anthropic.chat`, a sibling of the SDK's span with the same `gen_ai.response.id`
//! - `openinference.instrumentation.anthropic` → openinference-instrumentation-anthropic 3.1.0;
//!   `messages.create` (the parent of the SDK's span) and `messages.stream` (a SIBLING of the
//!   SDK's span), both without a response id
//! - `openinference.instrumentation.openai` → openinference-instrumentation-openai 0.1.66;
//!   `ChatCompletion`
//! - `opentelemetry.instrumentation.openai.v1` → OpenLLMetry opentelemetry-instrumentation-openai
//!   0.62.4; `openai.chat`
//! - openai 3.51.0 (emits no spans of its own), opentelemetry-sdk and -exporter-otlp 1.45.2.
//!
//! OpenLIT (`tests/python/openlit_calls.py`) runs in a virtual environment of its own, since it
//! needs anthropic<1 (`tests/python/requirements-openlit.txt`; `OPENLIT_PYTHON` names its
//! interpreter, by default `target/openlit-venv/bin/python`), two processes: OpenLIT's own
//! TracerProvider exporting OTLP/HTTP, and the app's provider (gRPC) that `openlit.init()`
//! reuses. Scope `openlit.instrumentation.anthropic` (no version) → openlit 1.45.0 with
//! anthropic 0.125.0; its httpx instrumentation adds a client span under each call.

mod common;

use common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = "tests/python/instrumented_calls.py";
const SERVICE_NAME: &str = "python-instrumented-app";
const APP_SCOPE: &str = "python-instrumented-app";
const ANTHROPIC_SDK: &str = "com.anthropic.sdk.python";
const OPENLLMETRY_ANTHROPIC: &str = "opentelemetry.instrumentation.anthropic";
const OPENLLMETRY_OPENAI: &str = "opentelemetry.instrumentation.openai.v1";
const OPENINFERENCE_ANTHROPIC: &str = "openinference.instrumentation.anthropic";
const OPENINFERENCE_OPENAI: &str = "openinference.instrumentation.openai";
const OPENLIT_SCRIPT: &str = "tests/python/openlit_calls.py";
const OPENLIT_SERVICE: &str = "openlit-app";
const OPENLIT_ANTHROPIC: &str = "openlit.instrumentation.anthropic";
const HTTPX: &str = "opentelemetry.instrumentation.httpx";
const BEDROCK_SCRIPT: &str = "tests/python/bedrock_calls.py";
const BEDROCK_SERVICE: &str = "bedrock-app";
const OPENLLMETRY_BEDROCK: &str = "opentelemetry.instrumentation.bedrock";
const PYDANTIC_AI_SCRIPT: &str = "tests/python/pydantic_ai_calls.py";
const PYDANTIC_AI_SERVICE: &str = "pydantic-ai-app";
const PYDANTIC_AI: &str = "pydantic-ai";
const LANGCHAIN_SCRIPT: &str = "tests/python/langchain_calls.py";
const LANGCHAIN_SERVICE: &str = "langchain-app";
const VERCEL_SCRIPT: &str = "tests/node/vercel_calls.mjs";
const VERCEL_SERVICE: &str = "vercel-ai-app";
const VERCEL_SEMCONV: &str = "gen_ai";
const VERCEL_LEGACY: &str = "ai";
const OPENINFERENCE_LANGCHAIN: &str = "openinference.instrumentation.langchain";
const OPENLLMETRY_LANGCHAIN: &str = "opentelemetry.instrumentation.langchain";

/// Exit code of the script when a package is missing.
const MISSING_PACKAGES: i32 = 3;
/// The script's `--libraries` values, one process each.
const LIBRARY_SETS: [&str; 3] = ["openllmetry", "openinference", "both"];
const SCRIPT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Attributes the agent may add to a span; every other attribute must arrive as the app sent it.
const AGENT_ATTRIBUTES: [&str; 15] = [
    "gen_ai.usage.cost.amount",
    "gen_ai.usage.cost.currency",
    "gen_ai.usage.cost.source",
    "gen_ai.usage.cost.input",
    "gen_ai.usage.cost.output",
    "gen_ai.usage.cost.cache_read",
    "gen_ai.usage.cost.cache_creation",
    "gen_ai.usage.cost.tools",
    "gen_ai.usage.cache.hit_ratio",
    "gen_ai.usage.cache.savings",
    "gen_ai.usage.cost.price_id",
    "gen_ai.usage.cost.input_semantics",
    "gen_ai.usage.cost.unpriced_reason",
    "gen_ai.usage.cost.duplicate_of",
    "gen_ai.usage.cost.threshold_exceeded",
];

/// A span as the Python SDK finished it (before export), printed by the script.
#[derive(Debug, serde::Deserialize)]
struct Emitted {
    name: String,
    scope: String,
    scope_version: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: serde_json::Map<String, Json>,
}

/// A span as the backend received it from the agent, with its instrumentation scope.
struct Forwarded {
    scope: String,
    service_name: Option<String>,
    span: Span,
}

impl Forwarded {
    fn attribute(&self, key: &str) -> Option<&Value> {
        attribute(&self.span.attributes, key)
    }

    fn string(&self, key: &str) -> Option<&str> {
        match self.attribute(key) {
            Some(Value::StringValue(text)) => Some(text),
            _ => None,
        }
    }

    fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    /// Whether the span reports token usage in any dialect (it describes a model call).
    fn carries_usage(&self) -> bool {
        self.span
            .attributes
            .iter()
            .any(|kv| USAGE_ATTRIBUTES.contains(&kv.key.as_str()))
    }
}

/// Input and output token counts in the dialects these libraries write.
const USAGE_ATTRIBUTES: [&str; 9] = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "ai.usage.inputTokens",
    "ai.usage.outputTokens",
    "ai.usage.tokens",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// One process of a suite: an interpreter, a script and its arguments; `--endpoint` is added,
/// the agent's gRPC or HTTP address as the run's transport says.
struct Run {
    /// `python3`, a virtual environment's interpreter, or `node`.
    interpreter: String,
    script: &'static str,
    args: Vec<&'static str>,
    transport: Transport,
    /// How to install what the script needs, for the failure message.
    install: &'static str,
}

#[derive(Clone, Copy)]
enum Transport {
    Grpc,
    Http,
}

/// Runs `run` against `endpoint`; returns the spans it exported and its stderr. Panics with the
/// script's stderr when it fails, and with the install command when its packages are missing.
fn run_script(run: &Run, endpoint: &str) -> (Vec<Emitted>, String) {
    let (interpreter, script_name, install) = (&run.interpreter, run.script, run.install);
    let script = format!("{}/{script_name}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(interpreter)
        .args([&script, "--endpoint", endpoint])
        .args(&run.args)
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot start `{interpreter}` ({error}): the test needs `{install}`")
        });
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + SCRIPT_TIME_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let Some(status) = status else {
        panic!(
            "{script_name} did not finish within {SCRIPT_TIME_LIMIT:?}\n--- stderr ---\n{stderr}\n\
             --- stdout ---\n{stdout}"
        );
    };
    if status.code() == Some(MISSING_PACKAGES) {
        panic!("packages for {script_name} are missing; CI must run `{install}`\n{stderr}");
    }
    assert!(
        status.success(),
        "{script_name} failed ({status})\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}"
    );
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("EXPORTED_SPANS "))
        .unwrap_or_else(|| {
            panic!("{script_name} printed no EXPORTED_SPANS line\n{stdout}\n{stderr}")
        });
    let emitted = serde_json::from_str(line).expect("EXPORTED_SPANS is JSON");
    (emitted, stderr)
}

/// Every span the backend received, keyed by span id (hex).
fn forwarded_spans(captured: &Captured) -> BTreeMap<String, Forwarded> {
    let mut spans = BTreeMap::new();
    for request in captured.traces.lock().unwrap().iter() {
        for resource in &request.resource_spans {
            let service_name = resource.resource.as_ref().and_then(|resource| {
                match attribute(&resource.attributes, "service.name") {
                    Some(Value::StringValue(name)) => Some(name.clone()),
                    _ => None,
                }
            });
            for scope in &resource.scope_spans {
                let scope_name = scope
                    .scope
                    .as_ref()
                    .map(|scope| scope.name.clone())
                    .unwrap_or_default();
                for span in &scope.spans {
                    let forwarded = Forwarded {
                        scope: scope_name.clone(),
                        service_name: service_name.clone(),
                        span: span.clone(),
                    };
                    let previous = spans.insert(forwarded.span_id(), forwarded);
                    assert!(
                        previous.is_none(),
                        "span {} arrived twice",
                        hex(&span.span_id)
                    );
                }
            }
        }
    }
    spans
}

/// The JSON form of an OTLP attribute value, for comparing with what the script printed.
fn as_json(value: &Value) -> Json {
    match value {
        Value::StringValue(text) => Json::from(text.as_str()),
        Value::BoolValue(flag) => Json::from(*flag),
        Value::IntValue(number) => Json::from(*number),
        Value::DoubleValue(number) => Json::from(*number),
        Value::ArrayValue(array) => Json::Array(
            array
                .values
                .iter()
                .map(|item| item.value.as_ref().map(as_json).unwrap_or(Json::Null))
                .collect(),
        ),
        other => Json::from(format!("{other:?}")),
    }
}

fn show(value: Option<&Value>) -> String {
    value
        .map(|value| as_json(value).to_string())
        .unwrap_or_else(|| "<absent>".into())
}

/// Every forwarded span with its scope and its gen_ai / llm / anthropic / cost attributes.
fn dump(spans: &BTreeMap<String, Forwarded>) -> String {
    let mut text = String::from("--- spans the backend received ---\n");
    for (id, span) in spans {
        let _ = writeln!(
            text,
            "{} [scope {}] span {id} parent {}",
            span.span.name,
            span.scope,
            hex(&span.span.parent_span_id)
        );
        for kv in &span.span.attributes {
            let content = kv.key.contains("messages")
                || kv.key.contains("system_instructions")
                || kv.key.contains(".content")
                || kv.key.starts_with("llm.input_messages")
                || kv.key.starts_with("llm.output_messages")
                || kv.key.starts_with("input.")
                || kv.key.starts_with("output.");
            if !content {
                let _ = writeln!(text, "    {} = {}", kv.key, show(value_of(kv)));
            }
        }
    }
    text
}

fn value_of(kv: &KeyValue) -> Option<&Value> {
    kv.value.as_ref()?.value.as_ref()
}

/// The cost the agent must write on the span that prices one call.
struct ExpectedCost {
    price_id: &'static str,
    amount: f64,
    input: f64,
    output: f64,
    cache_read: f64,
    cache_creation: f64,
    savings: f64,
    hit_ratio: f64,
    /// `gen_ai.usage.cost.input_semantics`: how the span's input count was read.
    input_semantics: &'static str,
}

/// One model call of the script (its own trace, named by the app span's `app.call`).
struct Call {
    key: &'static str,
    /// The run (script process) that makes it.
    run: &'static str,
    /// The scopes of the spans that describe the call, sorted.
    scopes: &'static [&'static str],
    expect: Expect,
}

/// What the agent must do with a call.
enum Expect {
    /// One span priced with this cost, any other span of the call a duplicate of it.
    Priced(ExpectedCost),
    /// A call of several model calls (an agent's steps): one span priced per step, in the
    /// order they started, any other span reporting usage a duplicate of one of them.
    Steps(&'static [ExpectedCost]),
    /// Read but not priced: the call's spans say why, and carry no cost.
    Unpriced(&'static str),
    /// A refused call: nothing to pay, no cost attribute anywhere in its trace.
    Free,
}

// Prices (USD per million tokens, built-in catalog):
//   Sonnet 4.5: input 3, output 15, cache read 0.30, cache write 5m 3.75, 1h 6
//   Haiku 4.5:  input 1, output 5,  cache read 0.10, cache write 5m 1.25, 1h 2
//   GPT-5 1.25 / cached 0.125 / output 10; GPT-4o 2.50 / 1.25 / 10;
//   GPT-4o mini 0.15 / 0.075 / 0.60; GPT-4.1 2 / 0.50 / 8; GPT-4.1 mini 0.40 / 0.10 / 1.60.
// Anthropic's `input_tokens` is uncached; OpenAI's `prompt_tokens` includes the cached tokens
// and `completion_tokens` the reasoning tokens. Savings = all input at the input price − what
// input, cache reads and cache writes cost; hit ratio = cache read / all input.
const CALLS: [Call; 10] = [
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
];

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
///   unknown-model (acme-llm-1): read, unpriced `unknown_model`
///   error (529 overloaded): OpenLIT's span carries no attribute at all, so nothing to price
const OPENLIT_CALLS: [Call; 10] = [
    openlit_uncached_larger("own:openlit-uncached-larger", "own"),
    openlit_cache_larger("own:openlit-cache-larger", "own"),
    openlit_stream("own:openlit-stream", "own"),
    openlit_call(
        "own:openlit-unknown-model",
        "own",
        Expect::Unpriced("unknown_model"),
    ),
    refused("own:openlit-error", "own"),
    openlit_uncached_larger("app:openlit-uncached-larger", "app"),
    openlit_cache_larger("app:openlit-cache-larger", "app"),
    openlit_stream("app:openlit-stream", "app"),
    openlit_call(
        "app:openlit-unknown-model",
        "app",
        Expect::Unpriced("unknown_model"),
    ),
    refused("app:openlit-error", "app"),
];

/// A refused call: no span reports usage.
const fn refused(key: &'static str, run: &'static str) -> Call {
    Call {
        key,
        run,
        scopes: &[],
        expect: Expect::Free,
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

/// LangChain 1.x (langchain-anthropic 1.7.10, langchain-openai 1.7.4, anthropic 2.10.0, openai
/// 3.51.0) under OpenInference's LangChain instrumentation 0.1.80 and OpenLLMetry's 0.62.4. An
/// Anthropic call is described twice, by LangChain's span and the SDK's own (siblings under the
/// app span, or under the chain); chain, prompt and parser spans around a call report no usage.
///   plain (claude-sonnet-4-5-20250929): input 3,000, output 400, read 12,000, 5m write 5,000;
///   all input 20,000
///     input 0.009; output 0.006; read 0.0036; write 5,000 × 3.75 = 0.01875; total 0.03735
///     savings 20,000 × 3 = 0.06 − 0.009 − 0.0036 − 0.01875 = 0.02865; hit 0.6
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
            amount: 0.03735,
            input: 0.009,
            output: 0.006,
            cache_read: 0.0036,
            cache_creation: 0.01875,
            savings: 0.02865,
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

/// Pydantic AI 2.68.0 (`Agent.instrument_all()`, anthropic 2.10.0, openai 3.51.0): an agent run
/// is an `invoke_agent` span with `gen_ai.aggregated_usage.*` (no dialect's usage names, so no
/// cost) over one `chat` span per model request, the SDK's span under each `chat` span; its
/// Anthropic requests stream. Its `chat` spans count input including the cache and carry
/// Pydantic AI's own `operation.cost`.
///   plain (claude-sonnet-4-5-20250929): input 5,000, output 800, read 15,000
///     input 0.015; output 0.012; read 0.0045; total 0.0315
///     savings 20,000 × 3 = 0.06 − 0.015 − 0.0045 = 0.0405; hit 0.75
///   tool (claude-haiku-4-5-20251001), two requests around one tool call:
///     input 3,000, output 100: 0.003 + 0.0005 = 0.0035
///     input 1,000, output 500, read 3,000: 0.001 + 0.0025 + 0.0003 = 0.0038;
///     savings 4,000 × 1 = 0.004 − 0.001 − 0.0003 = 0.0027; hit 0.75
///   stream (claude-sonnet-4-5-20250929): input 2,500, output 500, read 7,500
///     input 0.0075; output 0.0075; read 0.00225; total 0.01725
///     savings 10,000 × 3 = 0.03 − 0.0075 − 0.00225 = 0.02025; hit 0.75
///   openai (gpt-4.1-2025-04-14): prompt 8,000 of which cached 6,000, completion 400
///     input 2,000 × 2 = 0.004; read 6,000 × 0.50 = 0.003; output 400 × 8 = 0.0032;
///     total 0.0102; savings 8,000 × 2 = 0.016 − 0.004 − 0.003 = 0.009; hit 0.75
///   unknown-model (acme-llm-1): unpriced `unknown_model`; error (529): nothing
const PYDANTIC_AI_CALLS: [Call; 6] = [
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

const HAIKU_TOOL_STEPS: [ExpectedCost; 2] = [
    ExpectedCost {
        price_id: "claude-haiku-4-5@2026-01-01",
        amount: 0.0035,
        input: 0.003,
        output: 0.0005,
        cache_read: 0.0,
        cache_creation: 0.0,
        savings: 0.0,
        hit_ratio: 0.0,
        input_semantics: "includes_cache",
    },
    ExpectedCost {
        price_id: "claude-haiku-4-5@2026-01-01",
        amount: 0.0038,
        input: 0.001,
        output: 0.0025,
        cache_read: 0.0003,
        cache_creation: 0.0,
        savings: 0.0027,
        hit_ratio: 0.75,
        input_semantics: "includes_cache",
    },
];

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
///   unknown-model (`us.acme.llm-1-v1:0`, reported as `llm-1-v1:0`): unpriced; error (400
///   ValidationException): nothing
const BEDROCK_CALLS: [Call; 6] = [
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
            price_id: "claude-haiku-4-5@2026-01-01+bedrock_regional",
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

const fn bedrock(key: &'static str, cost: ExpectedCost) -> Call {
    Call {
        key,
        run: "bedrock",
        scopes: &[OPENLLMETRY_BEDROCK],
        expect: Expect::Priced(cost),
    }
}

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

/// Collects every mismatch, so that one run reports all of them with the spans.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.0.push(message());
        }
    }
}

fn check_priced(failures: &mut Failures, what: &str, span: &Forwarded, cost: &ExpectedCost) {
    let expected = [
        ("gen_ai.usage.cost.amount", Value::DoubleValue(cost.amount)),
        ("gen_ai.usage.cost.input", Value::DoubleValue(cost.input)),
        ("gen_ai.usage.cost.output", Value::DoubleValue(cost.output)),
        (
            "gen_ai.usage.cost.cache_read",
            Value::DoubleValue(cost.cache_read),
        ),
        (
            "gen_ai.usage.cost.cache_creation",
            Value::DoubleValue(cost.cache_creation),
        ),
        ("gen_ai.usage.cost.tools", Value::DoubleValue(0.0)),
        (
            "gen_ai.usage.cache.savings",
            Value::DoubleValue(cost.savings),
        ),
        (
            "gen_ai.usage.cache.hit_ratio",
            Value::DoubleValue(cost.hit_ratio),
        ),
        (
            "gen_ai.usage.cost.price_id",
            Value::StringValue(cost.price_id.into()),
        ),
        (
            "gen_ai.usage.cost.currency",
            Value::StringValue("USD".into()),
        ),
        (
            "gen_ai.usage.cost.source",
            Value::StringValue("local".into()),
        ),
        (
            "gen_ai.usage.cost.input_semantics",
            Value::StringValue(cost.input_semantics.into()),
        ),
    ];
    for (key, value) in expected {
        let actual = span.attribute(key);
        failures.check(actual == Some(&value), || {
            format!(
                "{what}: {key} on `{}` [{}] is {}, expected {}",
                span.span.name,
                span.scope,
                show(actual),
                show(Some(&value))
            )
        });
    }
}

/// What one test runs and expects: script processes, and the calls they make.
struct Suite {
    runs: Vec<Run>,
    calls: &'static [Call],
    /// The apps' `service.name` and the scope of their own (non-LLM) spans.
    service_name: &'static str,
    app_scope: &'static str,
    /// Scopes of spans that are no model call (an HTTP client's span under one): they pass
    /// exactly as sent, like the app's own.
    bystander_scopes: &'static [&'static str],
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

/// Bedrock through boto3 under OpenLLMetry's Bedrock instrumentation, one process over gRPC.
fn bedrock_calls() -> Suite {
    one_process(BEDROCK_SCRIPT, &BEDROCK_CALLS, BEDROCK_SERVICE)
}

/// Pydantic AI with its own instrumentation, one process exporting over gRPC.
fn pydantic_ai_calls() -> Suite {
    one_process(PYDANTIC_AI_SCRIPT, &PYDANTIC_AI_CALLS, PYDANTIC_AI_SERVICE)
}

/// A suite of one script in the main environment, exporting over gRPC, whose app scope is
/// its service name.
fn one_process(script: &'static str, calls: &'static [Call], service: &'static str) -> Suite {
    Suite {
        runs: vec![main_environment(script, Vec::new(), Transport::Grpc)],
        calls,
        service_name: service,
        app_scope: service,
        bystander_scopes: &[],
    }
}

/// A run of `script` with the interpreter of `tests/python/requirements.txt` (`PYTHON`, by
/// default `python3`).
fn main_environment(script: &'static str, args: Vec<&'static str>, transport: Transport) -> Run {
    Run {
        interpreter: std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()),
        script,
        args,
        transport,
        install: "python3 -m pip install -r tests/python/requirements.txt",
    }
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

fn check_unpriced(failures: &mut Failures, what: &str, spans: &[&Forwarded], reason: &str) {
    failures.check(!spans.is_empty(), || {
        format!("{what}: no span for the call")
    });
    let unpriced_ids: Vec<String> = spans
        .iter()
        .filter(|span| span.string("gen_ai.usage.cost.unpriced_reason") == Some(reason))
        .map(|span| span.span_id())
        .collect();
    for span in spans {
        if !span.carries_usage() {
            check_untouched(failures, what, span);
            continue;
        }
        if span.string("gen_ai.usage.cost.unpriced_reason") == Some("aggregate_span") {
            check_aggregate(failures, what, span, spans, &unpriced_ids);
            continue;
        }
        failures.check(
            span.string("gen_ai.usage.cost.unpriced_reason") == Some(reason)
                && span.attribute("gen_ai.usage.cost.amount").is_none(),
            || {
                format!(
                    "{what}: `{}` [{}] has unpriced_reason {} and amount {}, expected \"{reason}\" \
                     and none",
                    span.span.name,
                    span.scope,
                    show(span.attribute("gen_ai.usage.cost.unpriced_reason")),
                    show(span.attribute("gen_ai.usage.cost.amount"))
                )
            },
        );
    }
}

/// A refused call: its span failed, and the agent wrote nothing on any span of the call.
fn check_free(failures: &mut Failures, what: &str, spans: &[&Forwarded]) {
    failures.check(
        spans.iter().any(|span| {
            span.span.status.as_ref().map(|status| status.code)
                == Some(opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32)
        }),
        || format!("{what}: no span of the call has status ERROR"),
    );
    for span in spans {
        check_untouched(failures, what, span);
    }
}

/// A span that sums up the call's model calls (an agent run, a Vercel `ai.generateText`): no
/// cost, and it must really wrap one of the call's model-call spans (`call_ids`).
fn check_aggregate(
    failures: &mut Failures,
    what: &str,
    span: &Forwarded,
    call_spans: &[&Forwarded],
    call_ids: &[String],
) {
    let parent_of = |id: &str| {
        call_spans
            .iter()
            .find(|candidate| candidate.span_id() == id)
            .map(|found| hex(&found.span.parent_span_id))
    };
    let wraps_a_call = call_ids.iter().any(|call| {
        let mut current = parent_of(call);
        while let Some(id) = current.filter(|id| !id.is_empty()) {
            if id == span.span_id() {
                return true;
            }
            current = parent_of(&id);
        }
        false
    });
    failures.check(
        wraps_a_call
            && span.attribute("gen_ai.usage.cost.amount").is_none()
            && span.attribute("gen_ai.usage.cost.duplicate_of").is_none(),
        || {
            format!(
                "{what}: `{}` [{}] is marked aggregate_span but wraps none of the call's model \
                 calls, or carries a cost",
                span.span.name, span.scope
            )
        },
    );
}

/// The agent wrote none of its attributes on `span`.
fn check_untouched(failures: &mut Failures, what: &str, span: &Forwarded) {
    let added: Vec<&str> = span
        .span
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .filter(|key| AGENT_ATTRIBUTES.contains(key))
        .collect();
    failures.check(added.is_empty(), || {
        format!(
            "{what}: `{}` [{}] reports no usage but got {added:?}",
            span.span.name, span.scope
        )
    });
}

async fn priced_once_per_call(suite: Suite) {
    let Suite {
        runs,
        calls,
        service_name,
        app_scope,
        bystander_scopes,
    } = suite;
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let runs: Vec<_> = runs
        .into_iter()
        .map(|run| {
            let endpoint = match run.transport {
                Transport::Grpc => format!("http://{}", agent.grpc_address().unwrap()),
                Transport::Http => format!("http://{}", agent.http_address().unwrap()),
            };
            tokio::task::spawn_blocking(move || run_script(&run, &endpoint))
        })
        .collect();
    let mut emitted = Vec::new();
    let mut stderr = String::new();
    for run in runs {
        let (spans, errors) = run.await.unwrap();
        emitted.extend(spans);
        stderr.push_str(&errors);
    }
    assert!(
        wait_until(Duration::from_secs(10), || captured.span_count()
            >= emitted.len())
        .await,
        "{} of {} spans arrived\n--- the scripts' stderr ---\n{stderr}",
        captured.span_count(),
        emitted.len()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let forwarded = forwarded_spans(&captured);
    let mut failures = Failures::default();

    // Every span the app exported arrives once, from the scope that emitted it, with the app's
    // own attributes unchanged; the agent only adds its cost attributes.
    failures.check(forwarded.len() == emitted.len(), || {
        format!(
            "{} spans arrived, the app exported {}",
            forwarded.len(),
            emitted.len()
        )
    });
    for sent in &emitted {
        let Some(received) = forwarded.get(&sent.span_id) else {
            failures.0.push(format!(
                "span `{}` [{}] {} never arrived",
                sent.name, sent.scope, sent.span_id
            ));
            continue;
        };
        failures.check(received.scope == sent.scope, || {
            format!(
                "span `{}` arrived in scope {} (sent in {})",
                sent.name, received.scope, sent.scope
            )
        });
        failures.check(
            hex(&received.span.trace_id) == sent.trace_id
                && hex(&received.span.parent_span_id) == sent.parent_span_id,
            || format!("span `{}` lost its trace or parent", sent.name),
        );
        failures.check(
            received.service_name.as_deref() == Some(service_name),
            || format!("span `{}` lost its service.name", sent.name),
        );
        let received_attributes: HashMap<&str, Json> = received
            .span
            .attributes
            .iter()
            .map(|kv| {
                (
                    kv.key.as_str(),
                    value_of(kv).map(as_json).unwrap_or(Json::Null),
                )
            })
            .collect();
        for (key, value) in &sent.attributes {
            failures.check(received_attributes.get(key.as_str()) == Some(value), || {
                format!(
                    "`{}` [{}]: the app's attribute {key} = {value} arrived as {:?}",
                    sent.name,
                    sent.scope,
                    received_attributes.get(key.as_str())
                )
            });
        }
        for key in received_attributes.keys() {
            let added = !sent.attributes.contains_key(*key);
            failures.check(!added || AGENT_ATTRIBUTES.contains(key), || {
                format!(
                    "`{}` [{}]: unexpected attribute {key} added",
                    sent.name, sent.scope
                )
            });
        }
        if sent.scope == app_scope || bystander_scopes.contains(&sent.scope.as_str()) {
            // The app's own and other non-LLM spans pass exactly as they were sent.
            failures.check(
                received.span.attributes.len() == sent.attributes.len(),
                || {
                    format!(
                        "the app's non-LLM span `{}` was changed: {:?}",
                        sent.name,
                        received_attributes.keys().collect::<Vec<_>>()
                    )
                },
            );
        }
    }
    let scopes: BTreeMap<&str, &str> = emitted
        .iter()
        .map(|span| (span.scope.as_str(), span.scope_version.as_str()))
        .collect();
    eprintln!("instrumentation scopes and versions seen: {scopes:?}");

    // Each call is priced exactly once, with the hand-worked cost; any other span describing the
    // same call is marked `duplicate` and names the priced span.
    let calls_made: Vec<(&str, &str)> = emitted
        .iter()
        .filter_map(|span| match span.attributes.get("app.call") {
            Some(Json::String(call)) => Some((call.as_str(), span.trace_id.as_str())),
            _ => None,
        })
        .collect();
    failures.check(calls_made.len() == calls.len(), || {
        format!(
            "the scripts made calls {calls_made:?}, expected {}",
            calls.len()
        )
    });
    for call in calls {
        let what = format!("{} ({})", call.key, call.run);
        let Some((_, trace_id)) = calls_made.iter().find(|(key, _)| *key == call.key) else {
            failures
                .0
                .push(format!("{what}: the script made no such call"));
            continue;
        };
        let spans: Vec<&Forwarded> = forwarded
            .values()
            .filter(|span| {
                hex(&span.span.trace_id) == *trace_id
                    && span.scope != app_scope
                    && !bystander_scopes.contains(&span.scope.as_str())
            })
            .collect();
        let mut scopes: Vec<&str> = spans
            .iter()
            .filter(|span| span.carries_usage())
            .map(|span| span.scope.as_str())
            .collect();
        scopes.sort_unstable();
        failures.check(scopes == call.scopes, || {
            format!("{what}: spans from {scopes:?}, expected {:?}", call.scopes)
        });
        let costs: &[ExpectedCost] = match &call.expect {
            Expect::Priced(cost) => std::slice::from_ref(cost),
            Expect::Steps(costs) => costs,
            Expect::Unpriced(reason) => {
                check_unpriced(&mut failures, &what, &spans, reason);
                continue;
            }
            Expect::Free => {
                check_free(&mut failures, &what, &spans);
                continue;
            }
        };
        let mut priced: Vec<&&Forwarded> = spans
            .iter()
            .filter(|span| span.attribute("gen_ai.usage.cost.amount").is_some())
            .collect();
        priced.sort_by_key(|span| span.span.start_time_unix_nano);
        failures.check(priced.len() == costs.len(), || {
            format!(
                "{what}: {} spans priced, expected {}: {:?}",
                priced.len(),
                costs.len(),
                priced
                    .iter()
                    .map(|span| format!(
                        "`{}` [{}] amount {}",
                        span.span.name,
                        span.scope,
                        show(span.attribute("gen_ai.usage.cost.amount"))
                    ))
                    .collect::<Vec<_>>()
            )
        });
        for (span, cost) in priced.iter().zip(costs) {
            check_priced(&mut failures, &what, span, cost);
            failures.check(
                span.attribute("gen_ai.usage.cost.unpriced_reason")
                    .is_none(),
                || format!("{what}: a priced span also has an unpriced_reason"),
            );
        }
        let priced_ids: Vec<String> = priced.iter().map(|span| span.span_id()).collect();
        for other in spans
            .iter()
            .filter(|span| !priced_ids.contains(&span.span_id()))
        {
            if !other.carries_usage() {
                // A chain, prompt, parser, agent or tool span around the call: it reports no
                // usage and must get no cost.
                check_untouched(&mut failures, &what, other);
                continue;
            }
            if other.string("gen_ai.usage.cost.unpriced_reason") == Some("aggregate_span") {
                check_aggregate(&mut failures, &what, other, &spans, &priced_ids);
                continue;
            }
            failures.check(
                other.string("gen_ai.usage.cost.unpriced_reason") == Some("duplicate"),
                || {
                    format!(
                        "{what}: `{}` [{}] has unpriced_reason {}, expected \"duplicate\"",
                        other.span.name,
                        other.scope,
                        show(other.attribute("gen_ai.usage.cost.unpriced_reason"))
                    )
                },
            );
            failures.check(
                other
                    .string("gen_ai.usage.cost.duplicate_of")
                    .is_some_and(|id| priced_ids.iter().any(|priced| priced == id)),
                || {
                    format!(
                        "{what}: `{}` [{}] has duplicate_of {}, expected one of {priced_ids:?}",
                        other.span.name,
                        other.scope,
                        show(other.attribute("gen_ai.usage.cost.duplicate_of")),
                    )
                },
            );
        }
    }
    let priced_calls: usize = calls
        .iter()
        .map(|call| match call.expect {
            Expect::Priced(_) => 1,
            Expect::Steps(costs) => costs.len(),
            Expect::Unpriced(_) | Expect::Free => 0,
        })
        .sum();
    failures.check(
        agent.counters().priced_total() == priced_calls as u64,
        || {
            format!(
                "the agent counted {} priced calls, expected {}",
                agent.counters().priced_total(),
                priced_calls
            )
        },
    );

    assert!(
        failures.0.is_empty(),
        "{} mismatches:\n{}\n{}",
        failures.0.len(),
        failures.0.join("\n"),
        dump(&forwarded)
    );
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_python_instrumentation_over_grpc_is_priced_once_per_call() {
    priced_once_per_call(instrumented_calls("grpc")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_python_instrumentation_over_http_is_priced_once_per_call() {
    priced_once_per_call(instrumented_calls("http/protobuf")).await;
}

/// The OpenLIT defect this pins: under the app's own TracerProvider only the instrumentation
/// scope says OpenLIT, and its uncached Anthropic input must not be read as including the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_openlit_either_way_it_is_set_up_is_priced_once_per_call() {
    priced_once_per_call(openlit_calls()).await;
}

/// Chain, prompt and parser spans around a call carry no cost; the call is priced once however
/// many spans describe it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_langchain_under_both_instrumentations_is_priced_once_per_call() {
    priced_once_per_call(langchain_calls()).await;
}

/// The agent run's span carries aggregated usage and no cost; each model request is priced
/// once, the SDK's span under it a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_pydantic_ai_is_priced_once_per_model_request() {
    priced_once_per_call(pydantic_ai_calls()).await;
}

/// Bedrock's model ids and Converse's uncached input, priced exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_bedrock_through_boto3_is_priced_once_per_call() {
    priced_once_per_call(bedrock_calls()).await;
}

/// Both telemetry integrations of the Vercel AI SDK: the agent run, `ai.generateText` and
/// `ai.embed` spans repeat their calls' usage and carry no cost; each model call is priced once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_vercel_ai_sdk_is_priced_once_per_model_call() {
    priced_once_per_call(vercel_calls()).await;
}
