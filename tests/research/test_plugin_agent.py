"""The example plugin agent runs with the fleet's machinery: registry, usage, progress, resume."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from common.agents.registry import ENTRY_POINT_GROUP, default_registry
from common.errors import RateLimited
from common.llm import CallCounter, ScriptedChatModel
from examples.plugin_agent.agent import SPEC

PLUGIN_DIR = Path(__file__).parents[2] / "examples" / "plugin_agent"
TEXT = "The fleet retries. The fleet resumes. Nothing is paid twice by the fleet."


def test_the_plugin_loads_from_a_settings_path():
    registry = default_registry("examples.plugin_agent.agent:SPEC")
    assert registry.get("word_stats") is SPEC and SPEC.durable


def test_the_plugin_declares_its_entry_point():
    project = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert entry_points == {SPEC.name: "agentfleet_word_stats.agent:SPEC"}
    assert project["tool"]["setuptools"]["package-dir"] == {"agentfleet_word_stats": "."}


async def test_the_plugin_runs_with_usage_and_progress(make_run):
    run = make_run()
    output = await SPEC.run(SPEC.input_model(text=TEXT, top_n=2), run.ctx)

    assert output.words == 13 and [(w.word, w.count) for w in output.top] == [
        ("fleet", 3),
        ("the", 3),
    ]
    assert output.summary == "A text of 13 words, mostly about fleet, the."
    assert run.ctx.usage.llm_calls_ok == 1
    assert [kind for kind, _, _ in run.events] == ["tool", "llm"]


async def test_the_plugin_resumes_after_a_failed_llm_call(make_run):
    counter, saver = CallCounter(), InMemorySaver()

    def chat_model(policy):
        faults = {1: RateLimited("simulated 429", retry_after=1)}
        return ScriptedChatModel(policy=policy, faults=faults, counter=counter)

    data = SPEC.input_model(text=TEXT)
    first = make_run("exec-plugin", 1, chat_model=chat_model, checkpointer=saver)
    with pytest.raises(RateLimited):
        await SPEC.run(data, first.ctx)
    second = make_run("exec-plugin", 2, chat_model=chat_model, checkpointer=saver)
    output = await SPEC.run(data, second.ctx)

    assert output.words == 13
    assert [kind for kind, _, _ in first.events] == ["tool"]
    assert [kind for kind, _, _ in second.events] == ["llm"]  # counting was not redone
    assert (first.ctx.usage.llm_calls_failed, second.ctx.usage.llm_calls_ok) == (1, 1)
