"""Usage accounting: calls, tokens, tool calls and cost counted into the attempt's context."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from common.agents.base import AgentContext
from common.clock import ManualClock
from common.domain import Usage
from common.errors import ConfigurationError, RateLimited
from common.llm.scripted import ScriptedChatModel, tool_then_answer
from common.llm.usage import DEFAULT_PRICES, UsageCallback, estimate_cost, load_prices


def context() -> AgentContext:
    return AgentContext(
        execution_id="exec-1", tenant="t", attempt=1, failed_attempts=0, clock=ManualClock()
    )


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return f"facts about {query}"


def test_cost_is_tokens_times_the_price_per_million():
    prices = {"deepseek-chat": (0.28, 0.42)}

    assert estimate_cost("deepseek-chat", 1_000_000, 500_000, prices) == pytest.approx(0.49)


def test_a_dated_model_name_is_priced_as_its_family_and_the_longest_prefix_wins():
    cost = estimate_cost("gpt-4o-mini-2024-07-18", 1_000_000, 0, DEFAULT_PRICES)

    assert cost == pytest.approx(DEFAULT_PRICES["gpt-4o-mini"][0])


def test_an_unknown_model_costs_nothing():
    assert estimate_cost("llama3.1", 10_000, 10_000, DEFAULT_PRICES) == 0.0


def test_configured_prices_override_and_extend_the_defaults():
    prices = load_prices('{"deepseek-chat": [1, 2], "llama3.1": [0.1, 0.1]}')

    assert prices["deepseek-chat"] == (1.0, 2.0)
    assert prices["llama3.1"] == (0.1, 0.1)
    assert prices["gpt-4o-mini"] == DEFAULT_PRICES["gpt-4o-mini"]


@pytest.mark.parametrize("raw", ["[1, 2]", '{"m": [1]}', '{"m": "cheap"}', '{"m": [-1, 0]}', "{"])
def test_a_malformed_price_table_is_a_configuration_error(raw):
    with pytest.raises(ConfigurationError, match="AGENTFLEET_LLM_PRICES"):
        load_prices(raw)


async def test_an_agent_run_counts_its_llm_calls_tokens_tool_calls_and_cost():
    ctx = context()
    model = ScriptedChatModel(policy=tool_then_answer("lookup"), model_name="deepseek-chat")
    agent = create_agent(model, [lookup])

    result = await agent.ainvoke(
        {"messages": [HumanMessage("otters")]}, {"callbacks": [UsageCallback(ctx)]}
    )

    answers = [m for m in result["messages"] if m.type == "ai"]
    prompt = sum(m.usage_metadata["input_tokens"] for m in answers)
    completion = sum(m.usage_metadata["output_tokens"] for m in answers)
    assert ctx.usage == Usage(
        llm_calls_ok=2,
        tool_calls=1,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=estimate_cost("deepseek-chat", prompt, completion, DEFAULT_PRICES),
    )


async def test_a_failed_llm_call_is_counted_as_failed_and_costs_nothing():
    ctx = context()
    model = ScriptedChatModel(
        policy=tool_then_answer("lookup"), model_name="deepseek-chat", faults={1: RateLimited()}
    )

    with pytest.raises(RateLimited):
        await create_agent(model, [lookup]).ainvoke(
            {"messages": [HumanMessage("otters")]}, {"callbacks": [UsageCallback(ctx)]}
        )

    assert ctx.usage == Usage(llm_calls_failed=1)


async def test_usage_over_http_matches_what_the_provider_counted(fake_provider, openai_client):
    ctx = context()
    async with fake_provider(policy=tool_then_answer("lookup")) as fake:
        agent = create_agent(openai_client(fake), [lookup])
        await agent.ainvoke(
            {"messages": [HumanMessage("otters")]}, {"callbacks": [UsageCallback(ctx)]}
        )

    assert (ctx.usage.llm_calls_ok, ctx.usage.tool_calls) == (2, 1)
    assert ctx.usage.prompt_tokens == fake.stats.prompt_tokens
    assert ctx.usage.completion_tokens == fake.stats.completion_tokens
    assert ctx.usage.cost_usd == pytest.approx(
        estimate_cost(
            "deepseek-chat", fake.stats.prompt_tokens, fake.stats.completion_tokens, DEFAULT_PRICES
        )
    )


async def test_an_unanswered_request_over_http_counts_as_a_failed_call(
    fake_provider, openai_client
):
    from common.llm.faults import Fault, FaultPlan

    ctx = context()
    async with fake_provider(plan=FaultPlan({1: Fault.drop()})) as fake:
        with pytest.raises(Exception, match="Connection error"):
            await openai_client(fake).ainvoke("hi", {"callbacks": [UsageCallback(ctx)]})

    assert ctx.usage == Usage(llm_calls_failed=1)
