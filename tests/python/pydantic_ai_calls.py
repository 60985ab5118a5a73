"""Pydantic AI with its own OpenTelemetry instrumentation (`instrument=True`), calling the fake
Anthropic / OpenAI API through the official clients and exporting over OTLP to the agent under
test.

An agent run is an `invoke_agent` span over one `chat` span per model request (and an
`execute_tool` span per tool call); the Anthropic SDK (2.x) adds its own span under each `chat`
span. Each run happens in its own trace under an app span `POST /chat` whose `app.call` names it.
Every exported span is printed as one JSON document prefixed with `EXPORTED_SPANS ` (as
instrumented_calls.py prints them). Exit codes: 0 success, 3 a required package is missing, 1
otherwise.

Used by tests/real_instrumentation/.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import fake_provider
from fake_provider import OVERLOADED, anthropic_answer, openai_answer, weather_tool_answers

try:
    import app_run
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.anthropic import AnthropicProvider
    from pydantic_ai.providers.openai import OpenAIProvider
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(
        f"MISSING_PYTHON_PACKAGES: {error}. Install them with "
        "`python3 -m pip install -r tests/python/requirements.txt`",
        file=sys.stderr,
    )
    sys.exit(3)

SERVICE_NAME = "pydantic-ai-app"


# The usage the fake API answers with, by prompt (or tool result). The expected costs in
# tests/real_instrumentation/ are worked out by hand from these numbers.
ANTHROPIC_RESPONSES = {
    "pydantic-plain": anthropic_answer(
        "msg_01PydanticPlain000000001", "claude-sonnet-4-5-20250929", 5000, 800, read=15000
    ),
    **weather_tool_answers("pydantic-tool", "Pydantic"),
    # Cache writes of both lifetimes (only the SDK's span has the split).
    "pydantic-cache-write": anthropic_answer(
        "msg_01PydanticCacheWrite0001",
        "claude-sonnet-4-5-20250929",
        1000,
        200,
        write=4000,
        split=(1000, 3000),
    ),
    "pydantic-stream": anthropic_answer(
        "msg_01PydanticStream00000001",
        "claude-sonnet-4-5-20250929",
        2500,
        500,
        read=7500,
        delta_usage="cumulative",
    ),
    "pydantic-unknown-model": anthropic_answer("msg_01PydanticUnknown0000001", "acme-llm-1", 900, 90),
    "pydantic-error": OVERLOADED,
}

OPENAI_RESPONSES = {
    "pydantic-openai": openai_answer(
        "chatcmpl-PydanticOpenAI00001", "gpt-4.1-2025-04-14", 8000, 400, cached=6000
    ),
}


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="the agent's OTLP endpoint, http://host:port")
    arguments = parser.parse_args()

    server, base = fake_provider.start(ANTHROPIC_RESPONSES, OPENAI_RESPONSES)
    # Pydantic AI and the Anthropic SDK (2.x) trace through the global provider.
    provider = app_run.app_provider(SERVICE_NAME, arguments.endpoint)
    copies = app_run.keep_copies(provider)
    tracer = provider.get_tracer("pydantic-ai-app", "1.0.0")
    Agent.instrument_all()

    def claude(model: str = "claude-sonnet-4-5") -> AnthropicModel:
        return AnthropicModel(
            model, provider=AnthropicProvider(api_key="sk-ant-test", base_url=base)
        )

    def run(prompt: str, model: str = "claude-sonnet-4-5") -> None:
        result = Agent(claude(model), retries=0).run_sync(prompt)
        assert result.output, result

    def with_tool(prompt: str) -> None:
        agent = Agent(claude("claude-haiku-4-5"), retries=0)

        @agent.tool_plain
        def get_weather(city: str) -> str:
            """The weather in a city."""
            return f"snowing in {city}"

        result = agent.run_sync(prompt)
        assert result.output, result

    def stream(prompt: str) -> None:
        result = Agent(claude(), retries=0).run_stream_sync(prompt)
        text = "".join(result.stream_text(delta=True))
        assert text, text

    def openai_run(prompt: str) -> None:
        model = OpenAIChatModel(
            "gpt-4.1", provider=OpenAIProvider(api_key="sk-test", base_url=base + "/v1")
        )
        result = Agent(model, retries=0).run_sync(prompt)
        assert result.output, result

    def refused(prompt: str) -> None:
        try:
            run(prompt)
        except ModelHTTPError as error:
            assert error.status_code == 529, error
        else:
            raise AssertionError("the fake API should have refused the call")

    calls = [
        ("pydantic-plain", lambda: run("pydantic-plain")),
        ("pydantic-tool", lambda: with_tool("pydantic-tool")),
        ("pydantic-cache-write", lambda: run("pydantic-cache-write")),
        ("pydantic-stream", lambda: stream("pydantic-stream")),
        ("pydantic-openai", lambda: openai_run("pydantic-openai")),
        ("pydantic-unknown-model", lambda: run("pydantic-unknown-model", "acme-llm-1")),
        ("pydantic-error", lambda: refused("pydantic-error")),
    ]
    app_run.run_calls(tracer, calls)
    return app_run.finish(provider, copies, server)

if __name__ == "__main__":
    sys.exit(main())
