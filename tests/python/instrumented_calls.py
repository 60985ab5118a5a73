"""Real instrumentation libraries from PyPI, exporting over OTLP to the agent under test.

Starts a fake Anthropic / OpenAI API on 127.0.0.1 (port 0, in a thread) that answers with fixed
token usage, instruments the official `anthropic` and `openai` clients with the instrumentations
that `--libraries` names (OpenLLMetry's, OpenInference's, or both at once), makes a fixed set of
calls, each in its own trace under an app span `POST /chat` whose `app.call` attribute names the
call, then force-flushes and shuts down the tracer provider. The Anthropic SDK (2.x) adds its own
span to every Anthropic call. One library set per process: the instrumentors' `uninstrument()`
does not reliably undo their wrapping (OpenLLMetry's OpenAI wrapper stays, and wraps twice when
instrumented again).

Every span the provider exported is also printed to stdout as one JSON document (one line, prefixed
with `EXPORTED_SPANS `), so that the test can compare what left the app with what the agent
forwarded.

Exit codes: 0 success, 3 a required package is missing, 1 anything else.

Used by tests/real_instrumentation/; install the packages with
`python3 -m pip install -r tests/python/requirements.txt`.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import fake_provider
from fake_provider import OVERLOADED, anthropic_answer, openai_answer, weather_tool_answers

try:
    import anthropic
    import app_run
    import openai
    from openinference.instrumentation.anthropic import (
        AnthropicInstrumentor as OpenInferenceAnthropicInstrumentor,
    )
    from openinference.instrumentation.openai import (
        OpenAIInstrumentor as OpenInferenceOpenAIInstrumentor,
    )
    from opentelemetry import trace
    from opentelemetry.instrumentation.anthropic import (
        AnthropicInstrumentor as OpenLLMetryAnthropicInstrumentor,
    )
    from opentelemetry.instrumentation.openai import (
        OpenAIInstrumentor as OpenLLMetryOpenAIInstrumentor,
    )
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(
        f"MISSING_PYTHON_PACKAGES: {error}. Install them with "
        "`python3 -m pip install -r tests/python/requirements.txt`",
        file=sys.stderr,
    )
    sys.exit(3)

SERVICE_NAME = "python-instrumented-app"

# The usage the fake API answers with, keyed by the prompt text of the call. The expected costs in
# tests/real_instrumentation/ are worked out by hand from these numbers.
ANTHROPIC_RESPONSES = {
    # Anthropic's `input_tokens` is uncached; cache writes split 5m/1h.
    "anthropic-openllmetry": {
        "id": "msg_01OpenLLMetryCall0000001",
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 2000,
            "output_tokens": 1500,
            "cache_read_input_tokens": 8000,
            "cache_creation_input_tokens": 10000,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 6000,
                "ephemeral_1h_input_tokens": 4000,
            },
            "service_tier": "standard",
        },
    },
    # No 5m/1h split: cache writes are priced at the 5-minute rate.
    "anthropic-openinference": {
        "id": "msg_01OpenInferenceCall000001",
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 4000,
            "output_tokens": 800,
            "cache_read_input_tokens": 30000,
            "cache_creation_input_tokens": 6000,
            "service_tier": "standard",
        },
    },
    # Streamed (`messages.create(stream=True)`), cache writes all 5m.
    "anthropic-stream-openllmetry": {
        "id": "msg_01OpenLLMetryStream000001",
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 3000,
            "output_tokens": 600,
            "cache_read_input_tokens": 12000,
            "cache_creation_input_tokens": 5000,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 5000,
                "ephemeral_1h_input_tokens": 0,
            },
            "service_tier": "standard",
        },
    },
    # Streamed (`messages.stream()`), all cache reads, no writes.
    "anthropic-stream-openinference": {
        "id": "msg_01OpenInferenceStream0001",
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 1000,
            "output_tokens": 400,
            "cache_read_input_tokens": 9000,
            "cache_creation_input_tokens": 0,
            "service_tier": "standard",
        },
    },
    # Both instrumentations at once (and the SDK): three spans for one call; 1h writes only.
    "anthropic-both": {
        "id": "msg_01BothInstrumentations001",
        "model": "claude-haiku-4-5-20251001",
        "usage": {
            "input_tokens": 2500,
            "output_tokens": 500,
            "cache_read_input_tokens": 20000,
            "cache_creation_input_tokens": 2500,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 0,
                "ephemeral_1h_input_tokens": 2500,
            },
            "service_tier": "standard",
        },
    },
    # A tool-using call of two requests (the same for each library set).
    **weather_tool_answers("anthropic-tool", "Instrumented"),
    "anthropic-unknown-model": anthropic_answer(
        "msg_01InstrumentedUnknown0001", "acme-llm-1", 900, 90
    ),
    "anthropic-error": OVERLOADED,
}

OPENAI_RESPONSES = {
    # `prompt_tokens` includes the cached tokens; `completion_tokens` includes reasoning.
    "openai-openinference": openai_answer(
        "chatcmpl-OpenInferenceCall0001", "gpt-4o-2024-08-06", 10000, 700, cached=8000
    ),
    "openai-openllmetry": openai_answer(
        "chatcmpl-OpenLLMetryCall00001", "gpt-5-2025-08-07", 20000, 3000, cached=15000, reasoning=2000
    ),
    # Streamed with `stream_options={"include_usage": True}`.
    "openai-stream-openinference": openai_answer(
        "chatcmpl-OpenInferenceStream01", "gpt-4o-mini-2024-07-18", 40000, 1000, cached=32000
    ),
    "openai-both": openai_answer(
        "chatcmpl-BothInstrumentations", "gpt-4.1-mini-2025-04-14", 50000, 2000, cached=40000
    ),
    "openai-stream-openllmetry": openai_answer(
        "chatcmpl-OpenLLMetryStream001", "gpt-4.1-2025-04-14", 5000, 250, cached=4000
    ),
}


def main() -> int:
    # The SDK warns that the dated models answered by the fake API are deprecated.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="the agent's OTLP endpoint, http://host:port")
    parser.add_argument("--protocol", default="grpc", choices=["grpc", "http/protobuf"])
    parser.add_argument(
        "--libraries", default="openllmetry", choices=["openllmetry", "openinference", "both"]
    )
    arguments = parser.parse_args()

    server, base = fake_provider.start(ANTHROPIC_RESPONSES, OPENAI_RESPONSES)

    # One export at force_flush: every span of the run reaches the agent in one request. The
    # Anthropic SDK (2.x) traces its own calls through the global provider.
    provider = app_run.app_provider(SERVICE_NAME, arguments.endpoint, arguments.protocol)
    copies = app_run.keep_copies(provider)
    tracer = provider.get_tracer("python-instrumented-app", "1.0.0")

    anthropic_client = anthropic.Anthropic(api_key="sk-ant-test", base_url=base, max_retries=0)
    openai_client = openai.OpenAI(api_key="sk-test", base_url=base + "/v1", max_retries=0)

    def anthropic_call(prompt: str, model: str = "claude-sonnet-4-5") -> None:
        message = app_run.anthropic_create(anthropic_client, prompt, model)
        assert message.usage.cache_read_input_tokens, message

    def anthropic_create_stream(prompt: str) -> None:
        app_run.anthropic_create_stream(anthropic_client, prompt)

    def anthropic_stream_helper(prompt: str) -> None:
        with anthropic_client.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=2048,
            system=app_run.CACHED_SYSTEM,
            messages=[{"role": "user", "content": prompt}],
        ) as stream:
            message = stream.get_final_message()
        assert message.usage.cache_read_input_tokens, message

    def anthropic_tool_call() -> None:
        app_run.anthropic_weather_tool_call(anthropic_client, "anthropic-tool")

    def anthropic_unknown_model() -> None:
        app_run.anthropic_create(anthropic_client, "anthropic-unknown-model", "acme-llm-1")

    def anthropic_refused() -> None:
        try:
            app_run.anthropic_create(anthropic_client, "anthropic-error")
        except anthropic.APIStatusError as error:
            assert error.status_code == 529, error
        else:
            raise AssertionError("the refused call succeeded")

    # Calls every library set makes the same way, named after the set.
    shared = [
        ("tool", anthropic_tool_call),
        ("unknown-model", anthropic_unknown_model),
        ("error", anthropic_refused),
    ]

    def openai_call(prompt: str, model: str) -> None:
        completion = openai_client.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": "A long system prompt worth caching."},
                {"role": "user", "content": prompt},
            ],
        )
        assert completion.usage.prompt_tokens_details.cached_tokens, completion

    def openai_stream(prompt: str, model: str) -> None:
        chunks = openai_client.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": "A long system prompt worth caching."},
                {"role": "user", "content": prompt},
            ],
            stream=True,
            stream_options={"include_usage": True},
        )
        usage = [chunk.usage for chunk in chunks if chunk.usage]
        assert usage and usage[0].prompt_tokens_details.cached_tokens, usage

    calls = {
        "openllmetry": [
            ("anthropic-openllmetry", lambda: anthropic_call("anthropic-openllmetry")),
            ("anthropic-stream-openllmetry", lambda: anthropic_create_stream("anthropic-stream-openllmetry")),
            ("openai-openllmetry", lambda: openai_call("openai-openllmetry", "gpt-5")),
            ("openai-stream-openllmetry", lambda: openai_stream("openai-stream-openllmetry", "gpt-4.1")),
        ],
        "openinference": [
            ("anthropic-openinference", lambda: anthropic_call("anthropic-openinference")),
            (
                "anthropic-stream-openinference",
                lambda: anthropic_stream_helper("anthropic-stream-openinference"),
            ),
            ("openai-openinference", lambda: openai_call("openai-openinference", "gpt-4o")),
            (
                "openai-stream-openinference",
                lambda: openai_stream("openai-stream-openinference", "gpt-4o-mini"),
            ),
        ],
        "both": [
            ("anthropic-both", lambda: anthropic_call("anthropic-both", "claude-haiku-4-5")),
            ("openai-both", lambda: openai_call("openai-both", "gpt-4.1-mini")),
        ],
    }[arguments.libraries]
    if arguments.libraries != "both":
        calls += [(f"{name}-{arguments.libraries}", call) for name, call in shared]
    instrumentors = {
        "openllmetry": [OpenLLMetryAnthropicInstrumentor, OpenLLMetryOpenAIInstrumentor],
        "openinference": [OpenInferenceAnthropicInstrumentor, OpenInferenceOpenAIInstrumentor],
        "both": [
            OpenLLMetryAnthropicInstrumentor,
            OpenLLMetryOpenAIInstrumentor,
            OpenInferenceAnthropicInstrumentor,
            OpenInferenceOpenAIInstrumentor,
        ],
    }[arguments.libraries]
    for instrumentor in instrumentors:
        instrumentor().instrument(tracer_provider=provider)

    for name, call in calls:
        # Each call in its own trace, under the app's request span.
        with tracer.start_as_current_span(
            "POST /chat",
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            kind=trace.SpanKind.SERVER,
            attributes={
                "http.request.method": "POST",
                "http.route": "/chat",
                "http.response.status_code": 200,
                "user.id": "u-42",
                "app.call": name,
            },
        ):
            with tracer.start_as_current_span(
                "retrieve documents", attributes={"db.system.name": "postgresql", "documents": 3}
            ):
                pass
            call()

    return app_run.finish(provider, copies, server)

if __name__ == "__main__":
    sys.exit(main())
