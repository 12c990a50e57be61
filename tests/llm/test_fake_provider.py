"""The fake provider through the real HTTP stack (httpx and the OpenAI client under
langchain-openai): each injected failure is classified as the fleet needs it."""

from __future__ import annotations

import json

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool

from common.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ContextOverflow,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UnknownModel,
    classify,
)
from common.llm.faults import Fault, FaultPlan
from common.llm.scripted import tool_then_answer


async def failure_of(model) -> Exception:
    with pytest.raises(Exception) as caught:
        await model.ainvoke("hello")
    return classify(caught.value)


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (Fault.rate_limit(retry_after=2), RateLimited),
        (Fault.server_error(), ProviderUnavailable),
        (Fault.unavailable(), ProviderUnavailable),
        (Fault.slow(), ProviderTimeout),
        (Fault.drop(), ConnectionFailed),
        (Fault.auth(), AuthenticationFailed),
        (Fault.unknown_model(), UnknownModel),
        (Fault.context_overflow(), ContextOverflow),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else v.kind.name.lower(),
)
async def test_an_injected_failure_is_classified_as_the_fleet_expects(
    fake_provider, openai_client, fault, error_type
):
    async with fake_provider(plan=FaultPlan({1: fault})) as fake:
        error = await failure_of(openai_client(fake))

    assert type(error) is error_type
    assert error.retryable is error_type.retryable


async def test_a_429_carries_the_retry_after_of_its_header(fake_provider, openai_client):
    async with fake_provider(plan=FaultPlan({1: Fault.rate_limit(retry_after=2)})) as fake:
        error = await failure_of(openai_client(fake))

    assert isinstance(error, RateLimited)
    assert error.retry_after == 2.0


async def test_faults_hit_exactly_the_scripted_calls(fake_provider, openai_client):
    async with fake_provider(plan=FaultPlan({2: Fault.unavailable()})) as fake:
        model = openai_client(fake)
        first = await model.ainvoke("one")
        error = await failure_of(model)
        third = await model.ainvoke("three")

    assert first.text == "echo: one"
    assert isinstance(error, ProviderUnavailable)
    assert third.text == "echo: three"
    assert fake.stats.to_dict()["by_status"] == {"200": 2, "503": 1}


async def test_a_wrong_api_key_is_answered_401(fake_provider, openai_client):
    async with fake_provider(api_key="right") as fake:
        error = await failure_of(openai_client(fake, api_key="wrong"))

    assert isinstance(error, AuthenticationFailed)


async def test_a_model_the_provider_does_not_serve_is_answered_404(fake_provider, openai_client):
    async with fake_provider(models=["deepseek-chat"]) as fake:
        error = await failure_of(openai_client(fake, model="gpt-17"))

    assert isinstance(error, UnknownModel)


@tool
def search(query: str) -> str:
    """Search the corpus."""
    return f"3 posts about {query}"


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "sse"])
async def test_a_tool_calling_agent_round_trips_through_the_provider(
    fake_provider, openai_client, streaming
):
    async with fake_provider(policy=tool_then_answer("search")) as fake:
        agent = create_agent(openai_client(fake, streaming=streaming, stream_usage=True), [search])
        result = await agent.ainvoke({"messages": [HumanMessage("rust async")]})

    call, tool_reply, answer = result["messages"][1:]
    assert call.tool_calls == [
        {"name": "search", "args": {"query": "rust async"}, "id": "call_1", "type": "tool_call"}
    ]
    assert isinstance(tool_reply, ToolMessage)
    assert answer.text == "answer: 3 posts about rust async"
    assert answer.usage_metadata["input_tokens"] > 0
    assert answer.usage_metadata["output_tokens"] > 0
    assert fake.stats.ok == 2


async def test_capacity_mode_answers_429_beyond_capacity_with_the_time_capacity_frees_up(
    fake_provider, openai_client
):
    # One request per 10 s: the second, made at once, is surely beyond capacity.
    async with fake_provider(capacity=0.1) as fake:
        model = openai_client(fake)
        await model.ainvoke("first")
        error = await failure_of(model)

    assert isinstance(error, RateLimited)
    assert 0 < error.retry_after <= 10
    assert fake.stats.to_dict()["by_status"] == {"200": 1, "429": 1}


async def test_repeated_ok_counts_a_repeated_identical_successful_request(
    fake_provider, openai_client
):
    async with fake_provider() as fake:
        model = openai_client(fake)
        await model.ainvoke("same question")
        await model.ainvoke("another question")
        await model.ainvoke("same question")

    assert fake.stats.ok == 3
    assert fake.stats.repeated_ok == 1


async def test_a_failed_request_repeated_successfully_is_not_a_repeat(fake_provider, openai_client):
    async with fake_provider(plan=FaultPlan({1: Fault.rate_limit()})) as fake:
        model = openai_client(fake)
        await failure_of(model)
        await model.ainvoke("hello")

    assert fake.stats.repeated_ok == 0


async def test_stats_and_reset_are_served_over_http(fake_provider, openai_client, http):
    async with fake_provider(plan=FaultPlan({1: Fault.drop()})) as fake:
        await failure_of(openai_client(fake))
        await openai_client(fake).ainvoke("hello")
        stats = (await http.get(f"{fake.url}/stats")).json()
        after_reset = (await http.post(f"{fake.url}/reset")).json()
        models = (await http.get(f"{fake.base_url}/models")).json()

    assert stats["requests"] == 2
    assert stats["ok"] == 1
    assert stats["by_status"] == {"200": 1, "dropped": 1}
    assert after_reset["requests"] == 0
    assert "deepseek-chat" in [m["id"] for m in models["data"]]


async def test_reset_restarts_the_fault_script(fake_provider, openai_client, http):
    async with fake_provider(plan=FaultPlan({1: Fault.unavailable()})) as fake:
        first = await failure_of(openai_client(fake))
        await http.post(f"{fake.url}/reset")
        again = await failure_of(openai_client(fake))

    assert isinstance(first, ProviderUnavailable)
    assert isinstance(again, ProviderUnavailable)


async def test_a_malformed_request_is_answered_400(fake_provider, http):
    async with fake_provider() as fake:
        response = await http.post(f"{fake.base_url}/chat/completions", content=b"{not json")

    assert response.status_code == 400
    assert json.loads(response.text)["error"]["type"] == "invalid_request_error"


async def test_a_slow_reply_still_answers_a_client_that_waits_long_enough(
    fake_provider, openai_client
):
    async with fake_provider(plan=FaultPlan({1: Fault.slow(seconds=0.05)})) as fake:
        answer = await openai_client(fake, timeout=5).ainvoke("patience")

    assert answer.text == "echo: patience"
    assert fake.stats.abandoned == 0
