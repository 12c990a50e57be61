"""The seed's failure story in miniature: the provider fails the 3rd LLM call with 429; the
retry resumes at that call from the checkpoint, so usage equals a clean run plus one failed
call, and no tool call or successful LLM call is repeated."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from common.agents.base import AgentContext
from common.checkpoints import open_checkpointer, resume_or_start, thread_config
from common.clock import ManualClock
from common.errors import RateLimited, classify
from common.llm.faults import Fault, FaultPlan
from common.llm.scripted import CallCounter, ScriptedChatModel
from common.llm.usage import UsageCallback
from common.settings import Settings


def two_lookups_then_answer(messages: Sequence[BaseMessage]) -> AIMessage:
    done = sum(isinstance(m, ToolMessage) for m in messages)
    if done < 2:
        query = ["otters", "beavers"][done]
        return AIMessage("", tool_calls=[{"name": "lookup", "args": {"query": query}, "id": None}])
    return AIMessage(f"found {done} facts")


@pytest.fixture
def lookups() -> list[str]:
    return []


@pytest.fixture
def lookup(lookups):
    @tool
    def lookup(query: str) -> str:
        """Look something up."""
        lookups.append(query)
        return f"facts about {query}"

    return lookup


@pytest.fixture
async def saver(tmp_path):
    async with open_checkpointer(Settings(sqlite_path=str(tmp_path / "agentfleet.db"))) as saver:
        yield saver


async def run_attempt(saver, model: BaseChatModel, lookup, ctx: AgentContext) -> dict:
    agent = create_agent(model, [lookup], checkpointer=saver)
    graph_input = await resume_or_start(
        saver, ctx.execution_id, {"messages": [HumanMessage("rodents")]}
    )
    config = {**thread_config(ctx.execution_id), "callbacks": [UsageCallback(ctx)]}
    return await agent.ainvoke(graph_input, config)


def context(execution_id: str, attempt: int) -> AgentContext:
    return AgentContext(execution_id, "tenant", attempt, attempt - 1, ManualClock())


async def test_a_retry_after_a_429_resumes_at_the_failed_llm_call(saver, lookup, lookups):
    counter = CallCounter()

    def model() -> ScriptedChatModel:
        faults = {3: RateLimited("429", retry_after=2)}
        return ScriptedChatModel(policy=two_lookups_then_answer, faults=faults, counter=counter)

    first = context("exec-1", attempt=1)
    with pytest.raises(RateLimited):
        await run_attempt(saver, model(), lookup, first)
    second = context("exec-1", attempt=2)
    result = await run_attempt(saver, model(), lookup, second)

    assert result["messages"][-1].text == "found 2 facts"
    assert lookups == ["otters", "beavers"]
    assert (first.usage + second.usage).model_dump(
        exclude={"prompt_tokens", "completion_tokens", "cost_usd"}
    ) == {
        "llm_calls_ok": 3,
        "llm_calls_failed": 1,
        "tool_calls": 2,
    }
    assert second.usage.llm_calls_ok == 1


async def test_over_http_the_resumed_run_pays_no_successful_call_twice(
    saver, lookup, lookups, fake_provider, openai_client
):
    script = FaultPlan({3: Fault.rate_limit(retry_after=2)})
    async with fake_provider(policy=two_lookups_then_answer, plan=script) as fake:
        first = context("exec-1", attempt=1)
        with pytest.raises(Exception) as caught:
            await run_attempt(saver, openai_client(fake), lookup, first)
        second = context("exec-1", attempt=2)
        await run_attempt(saver, openai_client(fake), lookup, second)

    error = classify(caught.value)
    assert isinstance(error, RateLimited) and error.retry_after == 2
    assert lookups == ["otters", "beavers"]
    assert (fake.stats.ok, fake.stats.repeated_ok) == (3, 0)
    assert first.usage.llm_calls_ok + second.usage.llm_calls_ok == 3
    assert first.usage.llm_calls_failed + second.usage.llm_calls_failed == 1
