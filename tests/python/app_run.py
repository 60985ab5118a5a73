"""What every real-instrumentation script does around its library's calls: the app's tracer
provider exporting OTLP to the agent (and keeping a copy of every span), each call in its own
trace under an app span `POST /chat` whose `app.call` names it, and at the end a flush and the
`EXPORTED_SPANS` line the Rust test reads."""

from __future__ import annotations

import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from span_json import describe


def exporter(endpoint: str, protocol: str = "grpc"):
    """An OTLP span exporter to the agent over gRPC or HTTP/protobuf."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=10)
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=10)
    raise SystemExit(f"unknown protocol {protocol}")


def app_provider(service_name: str, endpoint: str, protocol: str = "grpc") -> TracerProvider:
    """The app's provider, made the global one (SDKs such as Anthropic's 2.x trace through
    it); every span of the run reaches the agent in one export at the end."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter(endpoint, protocol),
            schedule_delay_millis=60_000,
            max_export_batch_size=512,
        )
    )
    trace.set_tracer_provider(provider)
    return provider


def keep_copies(provider) -> InMemorySpanExporter:
    """A copy of every span the provider finishes, to print what left the app."""
    copies = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(copies))
    return copies


# A system prompt marked for prompt caching.
CACHED_SYSTEM = [
    {
        "type": "text",
        "text": "A long system prompt worth caching.",
        "cache_control": {"type": "ephemeral"},
    }
]


def anthropic_create(client, prompt: str, model: str = "claude-sonnet-4-5"):
    """One `messages.create` with the cached system prompt; the message answered."""
    message = client.messages.create(
        model=model,
        max_tokens=2048,
        system=CACHED_SYSTEM,
        messages=[{"role": "user", "content": prompt}],
    )
    assert message.usage.input_tokens, message
    return message


def anthropic_create_stream(client, prompt: str, model: str = "claude-sonnet-4-5") -> None:
    """One `messages.create(stream=True)` with the cached system prompt, read to its end."""
    events = client.messages.create(
        model=model,
        max_tokens=2048,
        system=CACHED_SYSTEM,
        messages=[{"role": "user", "content": prompt}],
        stream=True,
    )
    kinds = [event.type for event in events]
    assert kinds[-1] == "message_stop", kinds


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def anthropic_weather_tool_call(client, prompt: str, model: str = "claude-haiku-4-5") -> None:
    """A tool-using call of two `messages.create` requests: `prompt` with the weather tool, then
    the tool's result (`snowing in Oslo`) sent back (`fake_provider.weather_tool_answers`)."""
    messages = [{"role": "user", "content": prompt}]
    first = client.messages.create(
        model=model, max_tokens=1024, tools=[WEATHER_TOOL], messages=messages
    )
    tool_use = next(block for block in first.content if block.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use.id, "content": "snowing in Oslo"}
            ],
        },
    ]
    second = client.messages.create(
        model=model, max_tokens=1024, tools=[WEATHER_TOOL], messages=messages
    )
    assert second.stop_reason == "end_turn", second


def run_calls(tracer, calls: list, label=lambda name: name) -> None:
    """Runs each `(name, call)` in its own trace under the app span."""
    for name, call in calls:
        with tracer.start_as_current_span(
            "POST /chat",
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            kind=trace.SpanKind.SERVER,
            attributes={"http.route": "/chat", "app.call": label(name)},
        ):
            call()


def finish(provider, copies: InMemorySpanExporter, server) -> int:
    """Flushes the spans to the agent, stops the fake API and prints what the app exported;
    the script's exit code."""
    flushed = provider.force_flush(timeout_millis=15_000)
    provider.shutdown()
    server.shutdown()
    if not flushed:
        print("force_flush timed out", file=sys.stderr)
        return 1
    spans = [describe(span) for span in copies.get_finished_spans()]
    print("EXPORTED_SPANS " + json.dumps(spans, sort_keys=True))
    return 0
