//! End to end with REAL instrumentation libraries from PyPI and npm: each suite's scripts call a
//! fake Anthropic / OpenAI / Bedrock API (`tests/python/fake_provider.py`) through the official
//! clients, instrumented by the library under test, and export over OTLP to the agent running
//! in-process; a capture backend receives what the agent forwards. Suites: OpenLLMetry and
//! OpenInference (`instrumented_calls.py`, over gRPC and over HTTP), OpenLIT
//! (`openlit_calls.py`), LangChain (`langchain_calls.py`), Pydantic AI (`pydantic_ai_calls.py`),
//! Bedrock through boto3 (`bedrock_calls.py`) and the Vercel AI SDK on Node
//! (`tests/node/vercel_calls.mjs`); and Arize Phoenix as a real backend behind the agent
//! (`phoenix`). Each suite is a module of its own: its calls, their costs
//! worked out by hand, and its test; `harness` runs the scripts and collects what the backend
//! received, `checks` holds what must be true of every call.
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

#[path = "../common/mod.rs"]
mod common;

mod bedrock;
mod checks;
mod harness;
mod langchain;
mod openlit;
mod openllmetry_openinference;
mod phoenix;
mod pydantic_ai;
mod vercel;
