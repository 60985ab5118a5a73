"""Captures the OTLP/protobuf trace requests that real instrumentation sends, as the corpus of the
wire path's differential tests (tests/corpus/instrumentation/).

Runs instrumented_calls.py once per library set (OpenLLMetry, OpenInference, both) against a
local sink that stores the body of every `POST /v1/traces` as a file, named by library set and
number. The requests are the packages' own encoding (the OpenTelemetry SDK's protobuf exporter),
with the fixed usage the fake provider answers; regenerate them after changing the pinned
packages in requirements.txt:

    python3 tests/python/capture_corpus.py tests/corpus/instrumentation
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = pathlib.Path(__file__).resolve().parent
LIBRARY_SETS = ["openllmetry", "openinference", "both"]


def capture(libraries: str) -> list[bytes]:
    bodies: list[bytes] = []

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the handler API's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/v1/traces":
                bodies.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subprocess.run(
            [
                sys.executable,
                str(HERE / "instrumented_calls.py"),
                "--endpoint",
                f"http://127.0.0.1:{server.server_address[1]}",
                "--protocol",
                "http/protobuf",
                "--libraries",
                libraries,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
    finally:
        server.shutdown()
    return bodies


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for libraries in LIBRARY_SETS:
        bodies = capture(libraries)
        if not bodies:
            raise SystemExit(f"{libraries}: no trace request captured")
        for number, body in enumerate(bodies):
            (out / f"{libraries}-{number}.binpb").write_bytes(body)
        print(f"{libraries}: {len(bodies)} requests, {sum(map(len, bodies))} bytes")


if __name__ == "__main__":
    main()
