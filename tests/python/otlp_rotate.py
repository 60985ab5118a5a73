"""Exports spans in a loop with the OpenTelemetry Python SDK's OTLP exporter, presenting the
bearer token currently written in TOKEN_FILE (a new exporter whenever it changes, as an app
re-reading its secret would), until STOP_FILE exists or the bounds are reached. Prints one JSON
line per export: {"first": N, "count": K, "token": T, "result": "SUCCESS" | "FAILURE"}.

Used by tests/receiver_security.rs to rotate the agent's token file under load.

Usage: python3 otlp_rotate.py grpc|http ENDPOINT TOKEN_FILE STOP_FILE
"""

import json
import logging
import os
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SPANS_PER_EXPORT = 10
MAX_EXPORTS = 3000
MAX_SECONDS = 60


def exporter_for(protocol, endpoint, token):
    headers = {"authorization": f"Bearer {token}"}
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers, timeout=5)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", headers=headers, timeout=5)


def main():
    logging.basicConfig(level=logging.CRITICAL)
    protocol, endpoint, token_file, stop_file = sys.argv[1:5]
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "rotating-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otlp-rotate")
    token, exporter = None, None
    started = time.monotonic()
    for export in range(MAX_EXPORTS):
        if os.path.exists(stop_file) or time.monotonic() - started > MAX_SECONDS:
            break
        with open(token_file) as file:
            current = file.read().strip()
        if current != token:
            if exporter is not None:
                exporter.shutdown()
            token, exporter = current, exporter_for(protocol, endpoint, current)
        first = export * SPANS_PER_EXPORT
        memory.clear()
        for number in range(first, first + SPANS_PER_EXPORT):
            with tracer.start_as_current_span(f"span {number}") as span:
                span.set_attribute("span.number", number)
        result = exporter.export(memory.get_finished_spans())
        print(
            json.dumps(
                {
                    "first": first,
                    "count": SPANS_PER_EXPORT,
                    "token": token,
                    "result": "SUCCESS" if result == SpanExportResult.SUCCESS else "FAILURE",
                }
            ),
            flush=True,
        )
        time.sleep(0.005)
    if exporter is not None:
        exporter.shutdown()


if __name__ == "__main__":
    main()
