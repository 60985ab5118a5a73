"""AWS Bedrock through `boto3` (`bedrock-runtime` Converse and InvokeModel with Anthropic
models) under OpenLLMetry's Bedrock instrumentation, the client pointed at the fake API with
`endpoint_url`, exporting over OTLP to the agent under test.

Model ids as Bedrock takes them: inference profiles `us.anthropic.…-v1:0` (in-region) and
`global.anthropic.…-v1:0`. Each call runs in its own trace under an app span `POST /chat` whose
`app.call` names it. Every exported span is printed as one JSON document prefixed with
`EXPORTED_SPANS ` (as instrumented_calls.py prints them). Exit codes: 0 success, 3 a required
package is missing, 1 otherwise.

Used by tests/real_instrumentation/.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import fake_provider
from fake_provider import anthropic_answer, weather_tool_answers

try:
    import app_run
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from opentelemetry.instrumentation.bedrock import BedrockInstrumentor
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(
        f"MISSING_PYTHON_PACKAGES: {error}. Install them with "
        "`python3 -m pip install -r tests/python/requirements.txt`",
        file=sys.stderr,
    )
    sys.exit(3)

SERVICE_NAME = "bedrock-app"
SONNET_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_GLOBAL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"


# The usage the fake API answers with, by prompt, in the Anthropic table's shape (the fake
# turns it into Converse's). The expected costs in tests/real_instrumentation/ are worked
# out by hand from these numbers.
RESPONSES = {
    "bedrock-converse": anthropic_answer(
        "msg_bdrk_01BedrockConverse0001", "claude-sonnet-4-5-20250929", 4000, 500, read=16000
    ),
    # More uncached input than cache reads and writes together: read as "includes cache", the
    # input would shrink to 15,000 and the call be under-priced.
    "bedrock-uncached-larger": anthropic_answer(
        "msg_bdrk_01BedrockUncachedLarger",
        "claude-sonnet-4-5-20250929",
        20000,
        1000,
        read=3000,
        write=2000,
    ),
    "bedrock-converse-cache-write": anthropic_answer(
        "msg_bdrk_01BedrockCacheWrite001", "claude-haiku-4-5-20251001", 2000, 300, write=8000
    ),
    "bedrock-invoke": anthropic_answer(
        "msg_bdrk_01BedrockInvoke000001", "claude-sonnet-4-5-20250929", 6000, 400, read=4000
    ),
    # Streamed with ConverseStream: the usage arrives in the last event, `metadata`.
    "bedrock-stream": anthropic_answer(
        "msg_bdrk_01BedrockStream000001", "claude-sonnet-4-5-20250929", 2500, 500, read=7500
    ),
    # A tool-using call of two Converse requests.
    **weather_tool_answers("bedrock-tool", "Bedrock"),
    "bedrock-unknown-model": anthropic_answer("msg_bdrk_01BedrockUnknown00001", "acme-llm-1", 300, 30),
    "bedrock-error": {
        "status": 400,
        "error": {"type": "ValidationException", "message": "The provided model is not ready."},
    },
}


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="the agent's OTLP endpoint, http://host:port")
    arguments = parser.parse_args()

    server, base = fake_provider.start(RESPONSES, {})
    provider = app_run.app_provider(SERVICE_NAME, arguments.endpoint)
    copies = app_run.keep_copies(provider)
    tracer = provider.get_tracer("bedrock-app", "1.0.0")
    BedrockInstrumentor().instrument(tracer_provider=provider)

    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=base,
        aws_access_key_id="AKIATEST",
        aws_secret_access_key="test-secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )

    def converse(prompt: str, model_id: str) -> None:
        answer = client.converse(
            modelId=model_id,
            system=[{"text": "A long system prompt worth caching."}, {"cachePoint": {"type": "default"}}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": 1024},
        )
        assert answer["usage"]["outputTokens"], answer

    def converse_stream(prompt: str, model_id: str) -> None:
        answer = client.converse_stream(
            modelId=model_id,
            system=[{"text": "A long system prompt worth caching."}, {"cachePoint": {"type": "default"}}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": 1024},
        )
        events = list(answer["stream"])
        assert events[-1]["metadata"]["usage"]["outputTokens"], events

    def converse_tool(prompt: str, model_id: str) -> None:
        """Asks for the weather with a tool, sends the tool's result back."""
        tool = app_run.WEATHER_TOOL
        tools = {
            "tools": [
                {
                    "toolSpec": {
                        "name": tool["name"],
                        "description": tool["description"],
                        "inputSchema": {"json": tool["input_schema"]},
                    }
                }
            ]
        }
        messages = [{"role": "user", "content": [{"text": prompt}]}]
        first = client.converse(modelId=model_id, messages=messages, toolConfig=tools)
        assert first["stopReason"] == "tool_use", first
        tool_use = first["output"]["message"]["content"][0]["toolUse"]
        messages += [
            first["output"]["message"],
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": tool_use["toolUseId"],
                            "content": [{"text": "snowing in Oslo"}],
                        }
                    }
                ],
            },
        ]
        second = client.converse(modelId=model_id, messages=messages, toolConfig=tools)
        assert second["stopReason"] == "end_turn", second

    def invoke(prompt: str, model_id: str) -> None:
        answer = client.invoke_model(
            modelId=model_id,
            body=json.dumps(
                {
                    "anthropic_version": "bedrock-2023-05-31",
                    "max_tokens": 1024,
                    "messages": [{"role": "user", "content": prompt}],
                }
            ),
        )
        message = json.loads(answer["body"].read())
        assert message["usage"]["output_tokens"], message

    def refused(prompt: str) -> None:
        try:
            converse(prompt, SONNET_US)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ValidationException", error
        else:
            raise AssertionError("the fake API should have refused the call")

    calls = [
        ("bedrock-converse", lambda: converse("bedrock-converse", SONNET_US)),
        ("bedrock-uncached-larger", lambda: converse("bedrock-uncached-larger", SONNET_US)),
        (
            "bedrock-converse-cache-write",
            lambda: converse("bedrock-converse-cache-write", HAIKU_GLOBAL),
        ),
        ("bedrock-invoke", lambda: invoke("bedrock-invoke", SONNET_US)),
        ("bedrock-stream", lambda: converse_stream("bedrock-stream", SONNET_US)),
        ("bedrock-tool", lambda: converse_tool("bedrock-tool", HAIKU_GLOBAL)),
        (
            "bedrock-unknown-model",
            lambda: converse("bedrock-unknown-model", "us.acme.llm-1-v1:0"),
        ),
        ("bedrock-error", lambda: refused("bedrock-error")),
    ]
    app_run.run_calls(tracer, calls)
    return app_run.finish(provider, copies, server)

if __name__ == "__main__":
    sys.exit(main())
