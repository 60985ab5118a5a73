"""LangChain (`langchain-anthropic`, `langchain-openai`) under a real LangChain instrumentation,
exporting over OTLP to the agent under test.

`--instrumentation openinference` instruments with OpenInference's LangChain instrumentor,
`openllmetry` with OpenLLMetry's; one per process (an instrumentor cannot be undone). The
Anthropic SDK (2.x) adds its own span to every Anthropic call, so an Anthropic call is described
by LangChain's span and the SDK's. Each call runs in its own trace under an app span `POST /chat`
whose `app.call` names it (`<instrumentation>:<call>`). Every exported span is printed as one JSON
document prefixed with `EXPORTED_SPANS ` (as instrumented_calls.py prints them). Exit codes: 0
success, 3 a required package is missing, 1 otherwise.

Used by tests/real_instrumentation/.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import fake_provider
from fake_provider import OVERLOADED, anthropic_answer, openai_answer

try:
    import app_run
    import anthropic
    from langchain.agents import create_agent
    from langchain_anthropic import ChatAnthropic
    from langchain_core.tools import tool
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI
    from openinference.instrumentation.langchain import (
        LangChainInstrumentor as OpenInferenceLangChainInstrumentor,
    )
    from opentelemetry.instrumentation.langchain import (
        LangchainInstrumentor as OpenLLMetryLangChainInstrumentor,
    )
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(
        f"MISSING_PYTHON_PACKAGES: {error}. Install them with "
        "`python3 -m pip install -r tests/python/requirements.txt`",
        file=sys.stderr,
    )
    sys.exit(3)

SERVICE_NAME = "langchain-app"


# The usage the fake API answers with, by prompt. The expected costs in
# tests/real_instrumentation/ are worked out by hand from these numbers.
ANTHROPIC_RESPONSES = {
    "langchain-plain": anthropic_answer(
        "msg_01LangChainPlain00000001",
        "claude-sonnet-4-5-20250929",
        3000,
        400,
        read=12000,
        write=5000,
        split=(2000, 3000),
    ),
    "langchain-chain": anthropic_answer(
        "msg_01LangChainChain00000001", "claude-haiku-4-5-20251001", 8000, 1000, read=2000, split=(0, 0)
    ),
    "langchain-stream": anthropic_answer(
        "msg_01LangChainStream0000001",
        "claude-sonnet-4-5-20250929",
        2000,
        600,
        read=8000,
        split=(0, 0),
        delta_usage="cumulative",
    ),
    "langchain-unknown-model": anthropic_answer("msg_01LangChainUnknown000001", "acme-llm-1", 500, 50),
    # An agent's two steps: the model asks for the tool, then answers from its result.
    "langchain-agent": anthropic_answer(
        "msg_01LangChainAgentStep0001",
        "claude-sonnet-4-5-20250929",
        4000,
        200,
        content=[
            {
                "type": "tool_use",
                "id": "toolu_01LangChainAgent0001",
                "name": "get_weather",
                "input": {"city": "Paris"},
            }
        ],
        stop_reason="tool_use",
    ),
    "sunny in Paris": anthropic_answer(
        "msg_01LangChainAgentStep0002", "claude-sonnet-4-5-20250929", 1000, 300, read=4000
    ),
    "langchain-error": OVERLOADED,
}

OPENAI_RESPONSES = {
    "langchain-openai": openai_answer(
        "chatcmpl-LangChainOpenAI0001", "gpt-4o-2024-08-06", 6000, 300, cached=3000
    ),
}


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="the agent's OTLP endpoint, http://host:port")
    parser.add_argument("--instrumentation", required=True, choices=["openinference", "openllmetry"])
    arguments = parser.parse_args()

    server, base = fake_provider.start(ANTHROPIC_RESPONSES, OPENAI_RESPONSES)
    provider = app_run.app_provider(SERVICE_NAME, arguments.endpoint)
    copies = app_run.keep_copies(provider)
    tracer = provider.get_tracer("langchain-app", "1.0.0")
    instrumentor = {
        "openinference": OpenInferenceLangChainInstrumentor,
        "openllmetry": OpenLLMetryLangChainInstrumentor,
    }[arguments.instrumentation]
    instrumentor().instrument(tracer_provider=provider)

    def claude(model: str = "claude-sonnet-4-5") -> ChatAnthropic:
        return ChatAnthropic(
            model=model, api_key="sk-ant-test", base_url=base, max_retries=0, max_tokens=2048
        )

    system = SystemMessage(
        content=[
            {
                "type": "text",
                "text": "A long system prompt worth caching.",
                "cache_control": {"type": "ephemeral"},
            }
        ]
    )

    def invoke(prompt: str, model: str = "claude-sonnet-4-5") -> None:
        answer = claude(model).invoke([system, HumanMessage(content=prompt)])
        assert answer.usage_metadata["input_tokens"], answer

    def chain(prompt: str) -> None:
        template = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{question}")])
        text = (template | claude("claude-haiku-4-5") | StrOutputParser()).invoke({"question": prompt})
        assert text, text

    def stream(prompt: str) -> None:
        chunks = list(claude().stream([system, HumanMessage(content=prompt)]))
        assert chunks, chunks

    def openai_invoke(prompt: str) -> None:
        model = ChatOpenAI(model="gpt-4o", api_key="sk-test", base_url=base + "/v1", max_retries=0)
        answer = model.invoke([("system", "A long system prompt worth caching."), ("human", prompt)])
        assert answer.usage_metadata["input_tokens"], answer

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    def agent(prompt: str) -> None:
        graph = create_agent(claude(), tools=[get_weather])
        state = graph.invoke({"messages": [HumanMessage(content=prompt)]})
        assert len(state["messages"]) == 4, state

    def refused(prompt: str) -> None:
        try:
            invoke(prompt)
        except anthropic.APIStatusError as error:
            assert error.status_code == 529, error
        else:
            raise AssertionError("the fake API should have refused the call")

    calls = [
        ("langchain-plain", lambda: invoke("langchain-plain")),
        ("langchain-chain", lambda: chain("langchain-chain")),
        ("langchain-stream", lambda: stream("langchain-stream")),
        ("langchain-openai", lambda: openai_invoke("langchain-openai")),
        ("langchain-unknown-model", lambda: invoke("langchain-unknown-model", "acme-llm-1")),
        ("langchain-agent", lambda: agent("langchain-agent")),
        ("langchain-error", lambda: refused("langchain-error")),
    ]
    app_run.run_calls(tracer, calls, lambda name: f"{arguments.instrumentation}:{name}")
    return app_run.finish(provider, copies, server)

if __name__ == "__main__":
    sys.exit(main())
