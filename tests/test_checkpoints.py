"""Step-level resume: a retried graph run continues where the failed one stopped."""

from __future__ import annotations

import asyncio
import contextlib
import operator
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from common.checkpoints import (
    AsyncMongoSaver,
    checkpoint_threads,
    delete_checkpoints,
    open_checkpointer,
    resume_or_start,
    thread_config,
)
from common.errors import RateLimited
from common.settings import Settings


class State(TypedDict):
    log: Annotated[list[str], operator.add]


@pytest.fixture(
    params=[
        "sqlite",
        "sqlite-memory",
        "mongomock",
        pytest.param("mongodb", marks=pytest.mark.mongodb),
    ]
)
async def saver(request, tmp_path) -> AsyncIterator[BaseCheckpointSaver]:
    """The checkpointer of every store backend."""
    if request.param.startswith("sqlite"):
        path = ":memory:" if request.param == "sqlite-memory" else str(tmp_path / "agentfleet.db")
        async with open_checkpointer(Settings(sqlite_path=path)) as sqlite_saver:
            yield sqlite_saver
    elif request.param == "mongomock":
        from tests.support.mongomock_shim import mongomock_client

        database = mongomock_client()["agentfleet_test"]
        async with open_checkpointer(Settings(), mongo_database=database) as mongo_saver:
            yield mongo_saver
    else:
        url = os.environ.get("MONGODB_URL")
        if not url:
            pytest.skip("MONGODB_URL is not set: no real MongoDB server to test against")
        settings = Settings(mongodb_url=url, mongodb_db=f"agentfleet_test_{uuid.uuid4().hex[:12]}")
        async with open_checkpointer(settings) as mongo_saver:
            assert isinstance(mongo_saver, AsyncMongoSaver)
            yield mongo_saver
            await mongo_saver.checkpoints.database.client.drop_database(settings.mongodb_db)


def two_step_graph(saver: BaseCheckpointSaver, calls: Counter[str], failures: Counter[str]):
    """first → second; `second` raises while `failures["second"]` is positive."""

    async def first(state: State) -> State:
        calls["first"] += 1
        return {"log": ["first"]}

    async def second(state: State) -> State:
        calls["second"] += 1
        if failures["second"] > 0:
            failures["second"] -= 1
            raise RateLimited("429", retry_after=2)
        return {"log": ["second"]}

    builder = StateGraph(State)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    return builder.compile(checkpointer=saver)


def fan_out_graph(saver: BaseCheckpointSaver, calls: Counter[str], failures: Counter[str]):
    """START → (lucky ∥ flaky) → END: two tasks in one step; `flaky` fails while told to."""

    async def lucky(state: State) -> State:
        calls["lucky"] += 1
        return {"log": ["lucky"]}

    async def flaky(state: State) -> State:
        calls["flaky"] += 1
        if failures["flaky"] > 0:
            failures["flaky"] -= 1
            raise RateLimited("429")
        return {"log": ["flaky"]}

    builder = StateGraph(State)
    builder.add_node("lucky", lucky)
    builder.add_node("flaky", flaky)
    builder.add_edge(START, "lucky")
    builder.add_edge(START, "flaky")
    builder.add_edge("lucky", END)
    builder.add_edge("flaky", END)
    return builder.compile(checkpointer=saver)


async def run_attempt(graph, saver: BaseCheckpointSaver, execution_id: str) -> State:
    graph_input = await resume_or_start(saver, execution_id, {"log": []})
    return await graph.ainvoke(graph_input, thread_config(execution_id))


async def test_a_retry_resumes_after_the_last_successful_step(saver):
    calls, failures = Counter[str](), Counter(second=1)
    graph = two_step_graph(saver, calls, failures)

    with pytest.raises(RateLimited):
        await run_attempt(graph, saver, "exec-1")
    result = await run_attempt(graph, saver, "exec-1")

    assert result["log"] == ["first", "second"]
    assert calls == {"first": 1, "second": 2}


async def test_a_successful_task_beside_a_failed_one_in_the_same_step_is_not_rerun(saver):
    calls, failures = Counter[str](), Counter(flaky=1)
    graph = fan_out_graph(saver, calls, failures)

    with pytest.raises(RateLimited):
        await run_attempt(graph, saver, "exec-1")
    result = await run_attempt(graph, saver, "exec-1")

    assert sorted(result["log"]) == ["flaky", "lucky"]
    assert calls == {"lucky": 1, "flaky": 2}


async def test_a_first_attempt_starts_from_the_input(saver):
    assert await resume_or_start(saver, "never-ran", {"log": []}) == {"log": []}


async def test_rerunning_a_finished_thread_repeats_no_step(saver):
    calls = Counter[str]()
    graph = two_step_graph(saver, calls, Counter())
    await run_attempt(graph, saver, "exec-1")

    result = await run_attempt(graph, saver, "exec-1")

    assert result["log"] == ["first", "second"]
    assert calls == {"first": 1, "second": 1}


async def test_executions_do_not_share_checkpoints(saver):
    calls = Counter[str]()
    graph = two_step_graph(saver, calls, Counter())

    await run_attempt(graph, saver, "exec-1")
    await run_attempt(graph, saver, "exec-2")

    assert calls == {"first": 2, "second": 2}


async def test_delete_checkpoints_removes_every_checkpoint_of_the_execution(saver):
    graph = two_step_graph(saver, Counter(), Counter(second=1))
    with pytest.raises(RateLimited):
        await run_attempt(graph, saver, "exec-1")
    await run_attempt(graph, saver, "exec-2")

    await delete_checkpoints(saver, "exec-1")

    assert await saver.aget_tuple(thread_config("exec-1")) is None
    assert [c async for c in saver.alist(thread_config("exec-1"))] == []
    assert await saver.aget_tuple(thread_config("exec-2")) is not None


async def test_checkpoint_threads_pages_through_every_thread_in_order(saver):
    graph = two_step_graph(saver, Counter(), Counter())
    for execution_id in ("exec-3", "exec-1", "exec-2"):
        await run_attempt(graph, saver, execution_id)

    first = await checkpoint_threads(saver, "", 2)
    rest = await checkpoint_threads(saver, first[-1], 2)

    assert (first, rest) == (["exec-1", "exec-2"], ["exec-3"])
    assert await checkpoint_threads(saver, "exec-3", 2) == []


async def test_a_thread_whose_checkpoints_were_deleted_is_not_listed(saver):
    graph = two_step_graph(saver, Counter(), Counter())
    for execution_id in ("exec-1", "exec-2"):
        await run_attempt(graph, saver, execution_id)

    await delete_checkpoints(saver, "exec-1")

    assert await checkpoint_threads(saver, "", 10) == ["exec-2"]


async def test_checkpoint_history_lists_newest_first_and_filters_by_metadata(saver):
    graph = two_step_graph(saver, Counter(), Counter())
    await run_attempt(graph, saver, "exec-1")

    history = [c async for c in saver.alist(thread_config("exec-1"))]
    steps = [c.metadata["step"] for c in history]
    only_step_1 = [c async for c in saver.alist(thread_config("exec-1"), filter={"step": 1})]
    older = [c async for c in saver.alist(thread_config("exec-1"), before=history[0].config)]

    assert steps == sorted(steps, reverse=True)
    assert [c.metadata["step"] for c in only_step_1] == [1]
    assert older == history[1:]


async def test_mongo_identifiers_must_be_strings():
    from mongomock_motor import AsyncMongoMockClient

    saver = AsyncMongoSaver(AsyncMongoMockClient()["agentfleet_test"])

    with pytest.raises(ValueError, match="thread_id"):
        await saver.aget_tuple({"configurable": {"thread_id": {"$ne": ""}}})


async def test_the_embedded_checkpointer_puts_the_store_file_in_wal_mode(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "agentfleet.db"))
    async with open_checkpointer(settings) as saver, saver.conn.execute("PRAGMA journal_mode") as c:
        (mode,) = await c.fetchone()

    assert mode == "wal"


async def test_a_cancelled_checkpoint_write_still_commits_and_leaves_no_lock_held(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "agentfleet.db"))
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "1"}}
    writes = [("messages", {"text": "x" * 10_000})] * 20
    async with open_checkpointer(settings) as saver:
        for i in range(60):  # cancelled at every stage of the write, the statement included
            task = asyncio.create_task(saver.aput_writes(config, writes, f"task-{i}"))
            for _ in range(i % 6):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.sleep(0)
        async with saver.lock:  # taken in turn: the shielded writes have finished
            assert not saver.conn.in_transaction  # SQLite's write lock is free for others
