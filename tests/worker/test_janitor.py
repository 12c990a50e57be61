"""Checkpoint retention (worker/janitor.py): a worker deletes the checkpoints of an execution that
succeeded or was cancelled at once and keeps a failed one's for a retry; the janitor deletes what
nobody will resume, on every store backend with its own checkpointer."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint

from common.agents.registry import AgentRegistry
from common.checkpoints import checkpoint_threads, open_checkpointer, thread_config
from common.clock import ManualClock
from common.domain import ExecutionState, State
from common.settings import Settings
from common.store.base import Store
from common.store.sqlite import SqliteStore
from tests.worker.harness import Probe, step, submit, worker_settings
from worker.janitor import CheckpointJanitor, expendable
from worker.loop import Worker

RETENTION = timedelta(hours=168)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def fleet(any_store) -> AsyncIterator[tuple[Store, BaseCheckpointSaver]]:
    """Each store backend and the checkpointer a worker opens beside it: on the store's SQLite
    file, or in the store's MongoDB database."""
    if isinstance(any_store, SqliteStore):
        opened = open_checkpointer(Settings(sqlite_path=any_store.path))
    else:
        opened = open_checkpointer(Settings(), mongo_database=any_store.database)
    async with opened as saver:
        yield any_store, saver


async def checkpointed(saver: BaseCheckpointSaver, execution_id: str) -> None:
    """A checkpoint of `execution_id`'s graph, as an attempt's first step leaves it."""
    config = {"configurable": {**thread_config(execution_id)["configurable"], "checkpoint_ns": ""}}
    await saver.aput(config, empty_checkpoint(), {}, {})


async def has_checkpoints(saver: BaseCheckpointSaver, execution_id: str) -> bool:
    return await saver.aget_tuple(thread_config(execution_id)) is not None


def janitor(store: Store, saver: BaseCheckpointSaver, clock: ManualClock, page: int = 500):
    return CheckpointJanitor(store, saver, clock, RETENTION, page=page)


async def failed(store: Store, clock: ManualClock) -> str:
    """An execution whose only attempt failed for good."""
    execution_id = await submit(store, clock, "flaky", {"fail_times": 1, "error": "auth"})
    worker = Worker(store, Probe().registry(), worker_settings(), worker_id="w1", clock=clock)
    await step(worker)
    assert (await store.get("t1", execution_id)).state is State.FAILED
    return execution_id


# --- the janitor -------------------------------------------------------------------------------


async def test_the_janitor_deletes_the_checkpoints_of_an_execution_cancelled_while_pending(
    fleet, clock
):
    store, saver = fleet
    execution_id = await submit(store, clock, "echo", {"message": "hi"})
    await checkpointed(saver, execution_id)  # an attempt ran and parked for a retry
    await store.request_cancel("t1", execution_id, clock.now())  # no worker sees this end

    assert await janitor(store, saver, clock).sweep() == 1

    assert not await has_checkpoints(saver, execution_id)


async def test_the_janitor_keeps_a_recently_failed_executions_checkpoints(fleet, clock):
    store, saver = fleet
    execution_id = await failed(store, clock)
    await checkpointed(saver, execution_id)
    clock.advance(RETENTION.total_seconds() - 1)

    assert await janitor(store, saver, clock).sweep() == 0

    assert await has_checkpoints(saver, execution_id)


async def test_the_janitor_deletes_a_failed_executions_checkpoints_after_the_retention(
    fleet, clock
):
    store, saver = fleet
    execution_id = await failed(store, clock)
    await checkpointed(saver, execution_id)
    clock.advance(RETENTION.total_seconds() + 1)

    assert await janitor(store, saver, clock).sweep() == 1

    assert not await has_checkpoints(saver, execution_id)


async def test_the_janitor_keeps_the_checkpoints_of_pending_and_running_executions(fleet, clock):
    store, saver = fleet
    running = await submit(store, clock, "echo", {"message": "a"})
    await store.claim_next("w1", clock.now(), 30, 1)
    pending = await submit(store, clock, "echo", {"message": "b"})
    for execution_id in (running, pending):
        await checkpointed(saver, execution_id)
    clock.advance(RETENTION.total_seconds() * 2)

    assert await janitor(store, saver, clock).sweep() == 0

    assert await has_checkpoints(saver, running) and await has_checkpoints(saver, pending)


async def test_the_janitor_deletes_the_checkpoints_of_executions_that_are_gone(fleet, clock):
    store, saver = fleet
    await checkpointed(saver, "no-such-execution")

    assert await janitor(store, saver, clock).sweep() == 1

    assert await checkpoint_threads(saver, "", 10) == []


async def test_the_janitor_pages_through_every_thread(fleet, clock):
    store, saver = fleet
    kept = [await submit(store, clock, "echo", {"message": str(i)}) for i in range(3)]
    gone = [f"gone-{i}" for i in range(4)]
    for execution_id in kept + gone:
        await checkpointed(saver, execution_id)

    assert await janitor(store, saver, clock, page=2).sweep() == len(gone)

    assert await checkpoint_threads(saver, "", 10) == sorted(kept)


def test_only_pending_running_and_recently_failed_executions_keep_their_checkpoints():
    states = {
        "pending": ExecutionState(State.PENDING, None),
        "running": ExecutionState(State.RUNNING, None),
        "succeeded": ExecutionState(State.SUCCEEDED, NOW),
        "cancelled": ExecutionState(State.CANCELLED, NOW),
        "failed-now": ExecutionState(State.FAILED, NOW),
        "failed-at-cutoff": ExecutionState(State.FAILED, NOW - RETENTION),
        "failed-long-ago": ExecutionState(State.FAILED, NOW - RETENTION - timedelta(seconds=1)),
    }

    gone = expendable([*states, "gone"], states, NOW, RETENTION)

    assert gone == ["succeeded", "cancelled", "failed-long-ago", "gone"]


# --- the worker ----------------------------------------------------------------------------------


def durable_registry(probe: Probe) -> AgentRegistry:
    """The probe's agents, each also as a durable (checkpointing) one named `durable_<name>`."""
    specs = list(probe.registry())
    return AgentRegistry(
        [*specs, *(dataclasses.replace(s, name=f"durable_{s.name}", durable=True) for s in specs)]
    )


async def test_the_worker_deletes_checkpoints_at_once_only_when_succeeded_or_cancelled(
    sqlite_store, clock
):
    probe, cleaned = Probe(), []

    async def on_terminal(execution_id: str) -> None:
        cleaned.append(execution_id)

    worker = Worker(
        sqlite_store,
        durable_registry(probe),
        worker_settings(),
        worker_id="w1",
        clock=clock,
        on_terminal=on_terminal,
    )
    succeeded = await submit(sqlite_store, clock, "durable_echo", {"message": "a"})
    failed = await submit(sqlite_store, clock, "durable_flaky", {"fail_times": 1, "error": "auth"})
    await step(worker)
    cancelled = await submit(sqlite_store, clock, "durable_block", {})
    await worker.claim_once()
    await probe.entered.wait()
    await sqlite_store.request_cancel("t1", cancelled, clock.now())
    await worker.heartbeat_once()
    await step(worker)

    states = {e: (await sqlite_store.get("t1", e)).state for e in (succeeded, failed, cancelled)}
    assert list(states.values()) == [State.SUCCEEDED, State.FAILED, State.CANCELLED]
    assert sorted(cleaned) == sorted([succeeded, cancelled])  # the failed one keeps them


async def test_a_worker_with_a_checkpointer_runs_a_janitor_with_the_configured_retention(
    sqlite_store, clock, tmp_path
):
    settings = worker_settings(checkpoint_retention_hours=2)
    async with open_checkpointer(Settings(sqlite_path=str(tmp_path / "agentfleet.db"))) as saver:
        with_saver = Worker(
            sqlite_store,
            Probe().registry(),
            settings,
            clock=clock,
            resources={"checkpointer": saver},
        )
    without = Worker(sqlite_store, Probe().registry(), settings, clock=clock)

    assert with_saver.janitor is not None and with_saver.janitor.retention == timedelta(hours=2)
    assert without.janitor is None
