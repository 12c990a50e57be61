"""The seed's failure story through a worker on the embedded store: the 3rd LLM call fails with
429 (Retry-After 2 s), the execution is parked at least 2 s, attempt 2 resumes at that step, and
the execution succeeds having paid each successful LLM and tool call once."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from common.agents.registry import default_registry
from common.checkpoints import open_checkpointer, thread_config
from common.domain import State
from common.errors import RateLimited
from common.llm import CallCounter
from tests.research.conftest import CountingSource
from tests.research.test_research_agent import TOPIC, scripted
from tests.worker.harness import step, submit, worker_settings
from worker.loop import Worker


@pytest.fixture
async def checkpointer(sqlite_store, tmp_path) -> AsyncIterator:
    settings = worker_settings(sqlite_path=str(tmp_path / "agentfleet.db"))  # the store's file
    async with open_checkpointer(settings) as saver:
        yield saver


def research_worker(store, clock, checkpointer, chat_model, source) -> Worker:
    async def on_terminal(execution_id: str) -> None:
        await checkpointer.adelete_thread(execution_id)

    resources = {"checkpointer": checkpointer, "chat_model": chat_model, "reddit": source}
    return Worker(
        store,
        default_registry(),
        worker_settings(),
        worker_id="w1",
        clock=clock,
        rng=random.Random(7),
        resources=resources,
        on_terminal=on_terminal,
    )


async def test_the_seed_failure_story_through_a_worker(sqlite_store, clock, checkpointer):
    store = sqlite_store
    clean_source = CountingSource()
    clean_worker = research_worker(store, clock, checkpointer, scripted(), clean_source)
    clean_id = await submit(store, clock, "reddit_research", TOPIC.model_dump(), tenant="t1")
    await step(clean_worker)
    clean = await store.get("t1", clean_id)
    assert clean is not None and clean.state is State.SUCCEEDED

    source = CountingSource()
    flaky_model = scripted({3: RateLimited("simulated 429", retry_after=2)}, CallCounter())
    worker = research_worker(store, clock, checkpointer, flaky_model, source)
    execution_id = await submit(store, clock, "reddit_research", TOPIC.model_dump())

    await step(worker)
    parked = await store.get("t1", execution_id)
    assert parked is not None and parked.state is State.PENDING
    assert parked.attempts[-1].error.type == "RateLimited"
    assert parked.available_at >= clock.now() + timedelta(seconds=2)
    assert await step(worker) == 0  # not due yet

    clock.set(parked.available_at)
    await step(worker)
    done = await store.get("t1", execution_id)

    assert done is not None and done.state is State.SUCCEEDED and done.executions == 2
    assert done.result == clean.result
    assert done.usage.llm_calls_ok == clean.usage.llm_calls_ok
    assert done.usage.llm_calls_failed == 1
    assert done.usage.tool_calls == clean.usage.tool_calls
    assert sorted(source.calls) == sorted(clean_source.calls)  # no tool call made twice
    events = await store.events("t1", execution_id)
    assert len(events) == clean.usage.llm_calls_ok + clean.usage.tool_calls
    assert await checkpointer.aget_tuple(thread_config(execution_id)) is None  # cleaned up
