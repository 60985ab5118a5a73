"""OpenLIT tracing the official Anthropic client against the fake API, exporting over OTLP to the
agent under test.

OpenLIT 1.45.0 needs `anthropic<1`, so it runs in a virtual environment of its own
(`tests/python/requirements-openlit.txt`). Two ways to set it up, one per process:

- `--init own`: `openlit.init(otlp_endpoint=…)` makes OpenLIT's own TracerProvider (resource
  `telemetry.sdk.name = openlit`) exporting OTLP/HTTP-protobuf, OpenLIT's default;
- `--init app`: the app sets up its TracerProvider with an OTLP/gRPC exporter first, and
  `openlit.init()` reuses it: the resource carries the SDK's own name (`opentelemetry`), and
  only the instrumentation scope (`openlit.instrumentation.anthropic`) says OpenLIT.

Each call runs in its own trace under an app span `POST /chat` whose `app.call` names it. Every
exported span is also printed as one JSON document prefixed with `EXPORTED_SPANS ` (the format
of instrumented_calls.py). Exit codes: 0 success, 3 a required package is missing, 1 otherwise.

Used by tests/real_instrumentation/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings

import fake_provider
from fake_provider import OVERLOADED, anthropic_answer, weather_tool_answers

try:
    import anthropic
    import app_run
    import openlit
    from opentelemetry import trace
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(
        f"MISSING_PYTHON_PACKAGES: {error}. Install them in OpenLIT's own environment: "
        "`python3 -m venv target/openlit-venv && target/openlit-venv/bin/pip install "
        "-r tests/python/requirements-openlit.txt`",
        file=sys.stderr,
    )
    sys.exit(3)

SERVICE_NAME = "openlit-app"

# Anthropic's `input_tokens` is uncached. The expected costs in tests/real_instrumentation/
# are worked out by hand from these numbers.
ANTHROPIC_RESPONSES = {
    # More uncached input than cache reads and writes together: read as "includes cache", the
    # input would shrink to 15,000 and the call be under-priced.
    "openlit-uncached-larger": anthropic_answer(
        "msg_01OpenLitUncachedLarger01",
        "claude-sonnet-4-5-20250929",
        20000,
        1000,
        read=3000,
        write=2000,
    ),
    # Cache reads and writes larger than the input.
    "openlit-cache-larger": anthropic_answer(
        "msg_01OpenLitCacheLarger00001",
        "claude-sonnet-4-5-20250929",
        1000,
        500,
        read=30000,
        write=9000,
    ),
    # Streamed (`messages.create(stream=True)`); `message_delta` repeats the cumulative counts as
    # the API sends them now (OpenLIT takes the cache counts from it, and would read 0 without).
    "openlit-stream": anthropic_answer(
        "msg_01OpenLitStream0000000001",
        "claude-haiku-4-5-20251001",
        6000,
        300,
        read=4000,
        delta_usage="cumulative",
    ),
    # Cache writes of both lifetimes; OpenLIT reports only their sum.
    "openlit-1h-write": anthropic_answer(
        "msg_01OpenLit1hWrite0000000001",
        "claude-sonnet-4-5-20250929",
        2000,
        200,
        write=4000,
        split=(1000, 3000),
    ),
    # A tool-using call of two requests.
    **weather_tool_answers("openlit-tool", "OpenLit"),
    # A model no catalog knows: read, not priced.
    "openlit-unknown-model": anthropic_answer("msg_01OpenLitUnknownModel0001", "acme-llm-1", 700, 70),
    # Refused: no usage, nothing to pay.
    "openlit-error": OVERLOADED,
}


def main() -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="the agent's OTLP endpoint, http://host:port")
    parser.add_argument("--init", required=True, choices=["own", "app"])
    arguments = parser.parse_args()

    server, base = fake_provider.start(ANTHROPIC_RESPONSES, {})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as prices:
        # OpenLIT's own prices, read from a file rather than fetched: its cost is not the agent's.
        prices.write("{}")
    if arguments.init == "app":
        # The app's own provider, exporting OTLP/gRPC, made the global one before OpenLIT starts.
        app_run.app_provider(SERVICE_NAME, arguments.endpoint)
        openlit.init(
            application_name=SERVICE_NAME,
            disable_metrics=True,
            disable_events=True,
            pricing_json=prices.name,
        )
    else:
        openlit.init(
            application_name=SERVICE_NAME,
            otlp_endpoint=arguments.endpoint,
            disable_metrics=True,
            disable_events=True,
            pricing_json=prices.name,
        )
    os.unlink(prices.name)
    provider = trace.get_tracer_provider()
    copies = app_run.keep_copies(provider)
    tracer = provider.get_tracer("openlit-app", "1.0.0")

    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=base, max_retries=0)
    def create(prompt: str, model: str = "claude-sonnet-4-5") -> None:
        app_run.anthropic_create(client, prompt, model)

    def refused(prompt: str) -> None:
        try:
            create(prompt)
        except anthropic.APIStatusError as error:
            assert error.status_code == 529, error
        else:
            raise AssertionError("the fake API should have refused the call")

    def create_stream(prompt: str, model: str) -> None:
        app_run.anthropic_create_stream(client, prompt, model)

    calls = [
        ("openlit-uncached-larger", lambda: create("openlit-uncached-larger")),
        ("openlit-cache-larger", lambda: create("openlit-cache-larger")),
        ("openlit-stream", lambda: create_stream("openlit-stream", "claude-haiku-4-5")),
        ("openlit-1h-write", lambda: create("openlit-1h-write")),
        ("openlit-tool", lambda: app_run.anthropic_weather_tool_call(client, "openlit-tool")),
        ("openlit-unknown-model", lambda: create("openlit-unknown-model", "acme-llm-1")),
        ("openlit-error", lambda: refused("openlit-error")),
    ]
    app_run.run_calls(tracer, calls, lambda name: f"{arguments.init}:{name}")
    return app_run.finish(provider, copies, server)

if __name__ == "__main__":
    sys.exit(main())
