"""The offline scripted chat model: a policy behind LangChain's chat-model interface."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool

from common.errors import RateLimited
from common.llm.scripted import (
    CallCounter,
    ScriptedChatModel,
    echo_policy,
    estimate_prompt_tokens,
    tool_then_answer,
)


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return f"facts about {query}"


async def test_the_policy_answers_and_the_answer_carries_usage_and_model_name():
    model = ScriptedChatModel(policy=echo_policy, model_name="scripted-test")

    answer = await model.ainvoke([HumanMessage("hello there")])

    assert answer.text == "echo: hello there"
    assert answer.response_metadata["model_name"] == "scripted-test"
    assert answer.usage_metadata == {
        "input_tokens": estimate_prompt_tokens([HumanMessage("hello there")]),
        "output_tokens": 5,
        "total_tokens": estimate_prompt_tokens([HumanMessage("hello there")]) + 5,
    }


async def test_create_agent_runs_the_scripted_model_through_its_tools():
    agent = create_agent(ScriptedChatModel(policy=tool_then_answer("lookup")), [lookup])

    result = await agent.ainvoke({"messages": [HumanMessage("otters")]})

    assert [m.type for m in result["messages"]] == ["human", "ai", "tool", "ai"]
    assert result["messages"][1].tool_calls[0]["args"] == {"query": "otters"}
    assert result["messages"][-1].text == "answer: facts about otters"


async def test_the_same_conversation_gets_the_same_answer():
    model = ScriptedChatModel(policy=tool_then_answer("lookup"))
    conversation = [HumanMessage("otters")]

    first, again = await model.ainvoke(conversation), await model.ainvoke(conversation)

    assert (again.tool_calls, again.usage_metadata) == (first.tool_calls, first.usage_metadata)


async def test_a_planned_fault_replaces_exactly_that_call_of_the_shared_counter():
    counter = CallCounter()
    faults = {2: RateLimited("429", retry_after=2)}
    first = ScriptedChatModel(policy=echo_policy, faults=faults, counter=counter)
    second = ScriptedChatModel(policy=echo_policy, faults=faults, counter=counter)

    await first.ainvoke("one")
    with pytest.raises(RateLimited) as caught:
        await second.ainvoke("two")
    answer = await second.ainvoke("three")

    assert caught.value.retry_after == 2
    assert answer.text == "echo: three"
    assert counter.calls == 3


async def test_a_policy_may_name_its_own_tool_call_ids():
    def policy(messages):
        return AIMessage("", tool_calls=[{"name": "lookup", "args": {}, "id": "mine"}])

    answer = await ScriptedChatModel(policy=policy).ainvoke("x")

    assert answer.tool_calls[0]["id"] == "mine"
