"""A finished OpenTelemetry SDK span as one JSON-ready dict: what left the app, for the
real-instrumentation tests to compare with what the agent forwarded. Standard library only."""

from __future__ import annotations


def _value(value):
    if isinstance(value, tuple):
        return [_value(item) for item in value]
    return value


def describe(span) -> dict:
    """A finished SDK span as the tests read it."""
    scope = span.instrumentation_scope
    return {
        "name": span.name,
        "scope": scope.name if scope else "",
        "scope_version": (scope.version or "") if scope else "",
        "trace_id": format(span.context.trace_id, "032x"),
        "span_id": format(span.context.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else "",
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "attributes": {key: _value(value) for key, value in span.attributes.items()},
    }
