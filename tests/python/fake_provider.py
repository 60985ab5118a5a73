"""A fake Anthropic / OpenAI API on 127.0.0.1 (port 0, in a thread) for the real-instrumentation
tests: it answers each call with the usage its response table gives for the call's prompt (the
text of the last message), as the Messages and Chat Completions APIs do, streamed or not. Only the
standard library, so every test environment can import it.
"""

from __future__ import annotations

import json
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def anthropic_answer(
    message_id: str,
    model: str,
    uncached: int,
    output: int,
    read: int = 0,
    write: int = 0,
    split: tuple[int, int] | None = None,
    **extra,
) -> dict:
    """An Anthropic response-table entry: the Messages API's usage (`input_tokens` uncached),
    with the 5m/1h split of the cache writes when `split` gives it; `extra` may add a
    `content`, a `stop_reason` or `delta_usage`."""
    usage = {
        "input_tokens": uncached,
        "output_tokens": output,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": write,
    }
    if split is not None:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": split[0],
            "ephemeral_1h_input_tokens": split[1],
        }
    usage["service_tier"] = "standard"
    return {"id": message_id, "model": model, "usage": usage, **extra}


def openai_answer(
    completion_id: str, model: str, prompt: int, completion: int, cached: int, reasoning: int = 0
) -> dict:
    """An OpenAI response-table entry: Chat Completions usage (`prompt_tokens` includes the
    cached tokens, `completion_tokens` the reasoning tokens)."""
    return {
        "id": completion_id,
        "model": model,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


def weather_tool_answers(prompt: str, name: str) -> dict:
    """Response-table entries for a tool-using call of two requests to claude-haiku-4-5: `prompt`
    gets a `get_weather` tool_use block (input 3,000, output 100), the tool's result `snowing in
    Oslo` the reply (input 1,000, output 500, cache read 3,000). `name` tells the ids apart."""
    return {
        prompt: anthropic_answer(
            f"msg_01{name}ToolStep1",
            "claude-haiku-4-5-20251001",
            3000,
            100,
            content=[
                {
                    "type": "tool_use",
                    "id": f"toolu_01{name}Tool",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                }
            ],
            stop_reason="tool_use",
        ),
        "snowing in Oslo": anthropic_answer(
            f"msg_01{name}ToolStep2", "claude-haiku-4-5-20251001", 1000, 500, read=3000
        ),
    }


# A refusal as the Messages API answers an overloaded service.
OVERLOADED = {"status": 529, "error": {"type": "overloaded_error", "message": "Overloaded"}}


def start(anthropic_responses: dict, openai_responses: dict) -> tuple[ThreadingHTTPServer, str]:
    """Serves the fake API in a daemon thread; returns the server and its base URL."""
    handler = type(
        "ConfiguredFakeApi",
        (FakeApi,),
        {"anthropic_responses": anthropic_responses, "openai_responses": openai_responses},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _prompt_of(body: dict) -> str:
    """The text of the last message: what the user asked, or what a tool answered (the second
    step of a tool-using call); for an embedding request, its first input."""
    if "input" in body and "messages" not in body:
        inputs = body["input"]
        return inputs[0] if isinstance(inputs, list) else inputs
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        content = "".join(_text_of(part) for part in content)
    return content


def _text_of(part: dict) -> str:
    """A content part's text; a tool result's text (Anthropic's `tool_result`, Converse's
    `toolResult`)."""
    if part.get("type") == "tool_result" or "toolResult" in part:
        inner = part["toolResult"]["content"] if "toolResult" in part else part.get("content", "")
        if isinstance(inner, list):
            return "".join(item.get("text", "") for item in inner)
        return inner
    return part.get("text", "")


def _converse_block(block: dict) -> dict:
    """A Messages API content block as Converse writes it."""
    if block["type"] == "tool_use":
        return {
            "toolUse": {"toolUseId": block["id"], "name": block["name"], "input": block["input"]}
        }
    return {"text": block["text"]}


def _converse_usage(usage: dict) -> dict:
    """Converse's usage: `inputTokens` leave out the cache reads and writes counted beside it."""
    read = usage.get("cache_read_input_tokens", 0)
    write = usage.get("cache_creation_input_tokens", 0)
    return {
        "inputTokens": usage["input_tokens"],
        "outputTokens": usage["output_tokens"],
        "totalTokens": usage["input_tokens"] + usage["output_tokens"] + read + write,
        "cacheReadInputTokens": read,
        "cacheWriteInputTokens": write,
    }


def _event_stream_message(event_type: str, payload: dict) -> bytes:
    """One AWS event-stream message: prelude (total and headers length, CRC), string headers,
    the JSON payload, and the CRC of it all."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += bytes([len(name)]) + name.encode() + bytes([7])
        headers += struct.pack(">H", len(value)) + value.encode()
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


class FakeApi(BaseHTTPRequestHandler):
    """`POST /v1/messages` (Anthropic) and `POST /v1/chat/completions` (OpenAI), streaming or
    not, `POST /v1/embeddings`, and Bedrock's `POST /model/{id}/invoke`, `/converse` and
    `/converse-stream` for Anthropic models, answering with the usage of the response tables
    `start` was given (Bedrock from the Anthropic table)."""

    anthropic_responses: dict = {}
    openai_responses: dict = {}

    def do_POST(self) -> None:  # noqa: N802 - the handler's API
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        prompt = _prompt_of(body)
        if self.path == "/v1/messages" and prompt in self.anthropic_responses:
            answer = self.anthropic_responses[prompt]
            if "status" in answer:
                # A refusal as the Messages API answers it (e.g. 529 overloaded_error).
                return self._answer(
                    answer["status"],
                    {"type": "error", "error": answer["error"]},
                    {"request-id": "req_refused"},
                )
            if body.get("stream"):
                return self._anthropic_stream(answer)
            return self._answer(200, self._message(answer), {"request-id": "req_" + answer["id"]})
        if self.path.startswith("/model/") and prompt in self.anthropic_responses:
            return self._bedrock(self.anthropic_responses[prompt])
        if self.path == "/v1/embeddings" and prompt in self.openai_responses:
            return self._answer(200, self._embeddings(body, self.openai_responses[prompt]))
        if self.path == "/v1/chat/completions" and prompt in self.openai_responses:
            answer = self.openai_responses[prompt]
            if body.get("stream"):
                include_usage = (body.get("stream_options") or {}).get("include_usage")
                return self._openai_stream(answer, include_usage)
            return self._answer(
                200,
                {
                    "id": answer["id"],
                    "object": "chat.completion",
                    "created": 1761955200,
                    "model": answer["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": answer.get("content", "Cached answer."),
                                "refusal": None,
                                "annotations": [],
                            },
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": answer["usage"],
                    "service_tier": "default",
                    "system_fingerprint": "fp_fake",
                },
            )
        return self._answer(404, {"error": {"message": f"no fake for {self.path} {prompt!r}"}})

    @staticmethod
    def _embeddings(body: dict, answer: dict) -> dict:
        """An Embeddings API response: one small vector per input, the usage's prompt tokens."""
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        prompt = answer["usage"]["prompt_tokens"]
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": [0.25, -0.5, 0.125]}
                for index, _ in enumerate(inputs)
            ],
            "model": answer["model"],
            "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
        }

    def _anthropic_stream(self, answer: dict) -> None:
        """Server-sent events as the Messages API streams them: the usage of the input in
        `message_start`, the final output count in `message_delta`."""
        usage = answer["usage"]
        start_usage = {key: value for key, value in usage.items() if key != "output_tokens"}
        start_usage["output_tokens"] = 1
        self._events(
            [
                (
                    "message_start",
                    {
                        "type": "message_start",
                        "message": {
                            "id": answer["id"],
                            "type": "message",
                            "role": "assistant",
                            "model": answer["model"],
                            "content": [],
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": start_usage,
                        },
                    },
                ),
                *self._content_events(answer),
                (
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {
                            "stop_reason": answer.get("stop_reason", "end_turn"),
                            "stop_sequence": None,
                        },
                        "usage": self._delta_usage(answer),
                    },
                ),
                ("message_stop", {"type": "message_stop"}),
            ],
            {"request-id": "req_" + answer["id"]},
        )

    @staticmethod
    def _message(answer: dict) -> dict:
        """A Messages API response (also InvokeModel's body for an Anthropic model)."""
        return {
            "id": answer["id"],
            "type": "message",
            "role": "assistant",
            "model": answer["model"],
            # A tool-using step answers with its `tool_use` block instead.
            "content": answer.get("content", [{"type": "text", "text": "Cached answer."}]),
            "stop_reason": answer.get("stop_reason", "end_turn"),
            "stop_sequence": None,
            "usage": answer["usage"],
        }

    def _bedrock(self, answer: dict) -> None:
        """InvokeModel answers the Messages API body; Converse its own shape, where
        `inputTokens` leaves out the cache reads and writes counted beside it."""
        if "status" in answer:
            error = answer["error"]
            return self._answer(
                answer["status"], {"message": error["message"]}, {"x-amzn-ErrorType": error["type"]}
            )
        if self.path.endswith("/invoke"):
            return self._answer(200, self._message(answer))
        content = [_converse_block(block) for block in self._message(answer)["content"]]
        stop_reason = answer.get("stop_reason", "end_turn")
        usage = _converse_usage(answer["usage"])
        if self.path.endswith("/converse-stream"):
            return self._converse_stream(content, stop_reason, usage)
        return self._answer(
            200,
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop_reason,
                "usage": usage,
                "metrics": {"latencyMs": 120},
            },
        )

    def _converse_stream(self, content: list, stop_reason: str, usage: dict) -> None:
        """ConverseStream's answer: AWS event-stream messages, the usage in the last one."""
        events = [("messageStart", {"role": "assistant"})]
        for index, block in enumerate(content):
            if "toolUse" in block:
                tool = block["toolUse"]
                start = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}
                events.append(("contentBlockStart", {"start": start, "contentBlockIndex": index}))
                delta = {"toolUse": {"input": json.dumps(tool["input"])}}
            else:
                delta = {"text": block["text"]}
            events += [
                ("contentBlockDelta", {"delta": delta, "contentBlockIndex": index}),
                ("contentBlockStop", {"contentBlockIndex": index}),
            ]
        events += [
            ("messageStop", {"stopReason": stop_reason}),
            ("metadata", {"usage": usage, "metrics": {"latencyMs": 120}}),
        ]
        data = b"".join(_event_stream_message(kind, payload) for kind, payload in events)
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def _content_events(answer: dict) -> list:
        """Each content block streamed: a text block as one `text_delta`, a `tool_use` block
        with its input as one `input_json_delta`."""
        blocks = answer.get("content", [{"type": "text", "text": "Cached answer."}])
        events = []
        for index, block in enumerate(blocks):
            if block["type"] == "tool_use":
                start = {**block, "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            else:
                start = {"type": "text", "text": ""}
                delta = {"type": "text_delta", "text": block["text"]}
            events += [
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start},
                ),
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                ),
                ("content_block_stop", {"type": "content_block_stop", "index": index}),
            ]
        return events

    @staticmethod
    def _delta_usage(answer: dict) -> dict:
        """`message_delta`'s usage: the final output count only, or with `"delta_usage":
        "cumulative"` in the response table every cumulative count, as the API sends now."""
        usage = answer["usage"]
        if answer.get("delta_usage") == "cumulative":
            keys = [
                "input_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
                "output_tokens",
            ]
            return {key: usage[key] for key in keys if key in usage}
        return {"output_tokens": usage["output_tokens"]}

    def _openai_stream(self, answer: dict, include_usage: bool) -> None:
        """Chat completion chunks; with `include_usage`, a last chunk without choices carries
        the usage."""

        def chunk(choices: list, usage: dict | None = None) -> dict:
            return {
                "id": answer["id"],
                "object": "chat.completion.chunk",
                "created": 1761955200,
                "model": answer["model"],
                "system_fingerprint": "fp_fake",
                "choices": choices,
                "usage": usage,
            }

        chunks = [
            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
            chunk(
                [
                    {
                        "index": 0,
                        "delta": {"content": answer.get("content", "Cached answer.")},
                        "finish_reason": None,
                    }
                ]
            ),
            chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        ]
        if include_usage:
            chunks.append(chunk([], answer["usage"]))
        self._events([(None, item) for item in chunks] + [(None, "[DONE]")])

    def _events(self, events: list, headers: dict | None = None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        for event, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            if event:
                self.wfile.write(f"event: {event}\n".encode())
            self.wfile.write(f"data: {text}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


def serve_tables_from_stdin() -> None:
    """For scripts in other languages: reads `{"anthropic": {...}, "openai": {...}}` (response
    tables as `start` takes them) from stdin, prints the base URL as one line and serves until
    stdin is closed."""
    import sys

    tables = json.loads(sys.stdin.readline())
    server, url = start(tables.get("anthropic", {}), tables.get("openai", {}))
    print(url, flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    serve_tables_from_stdin()
