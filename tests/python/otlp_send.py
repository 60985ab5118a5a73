"""Sends spans with the OpenTelemetry Python SDK's own OTLP exporter, configured only by the
standard OTEL_EXPORTER_OTLP_* variables (endpoint, protocol, headers, certificates), and prints
what the exporter reported as one JSON line: {"result": "SUCCESS" | "FAILURE", "spans": N}.

Used by tests/receiver_security.rs: the exporter is the one applications run, so the header
syntax, TLS and mutual TLS are exercised as users meet them.

Usage: python3 otlp_send.py FIRST_SPAN_NUMBER COUNT
"""

import json
import logging
import os
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def otlp_exporter():
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter(timeout=5)


def main():
    logging.basicConfig(level=logging.ERROR)
    first, count = int(sys.argv[1]), int(sys.argv[2])
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "secured-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otlp-send")
    for number in range(first, first + count):
        with tracer.start_as_current_span(f"span {number}") as span:
            span.set_attribute("span.number", number)
    spans = memory.get_finished_spans()
    exporter = otlp_exporter()
    result = exporter.export(spans)
    exporter.shutdown()
    print(
        json.dumps(
            {
                "result": "SUCCESS" if result == SpanExportResult.SUCCESS else "FAILURE",
                "spans": len(spans),
            }
        )
    )


if __name__ == "__main__":
    main()
