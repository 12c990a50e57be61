"""Chaos in one process: 8 workers, each with its own store connection, checkpointer and flow
controller, on one SQLite file and an injected clock; the fake provider fails 30% of calls (429s,
5xx, timeouts); every so often a worker crashes mid-attempt (its tasks cancelled, nothing written,
its leases left to expire) and a new one takes its place. The fleet still finishes every
execution exactly once with the clean run's findings, paying each answered call once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.agents.registry import AgentRegistry, default_registry
from common.agents.research.scripted import research_policy
from common.checkpoints import delete_checkpoints, open_checkpointer
from common.clock import ManualClock
from common.domain import Execution, NewExecution, State
from common.flow import FlowController, config_for
from common.llm.fake_provider import FakeProvider, serve_fake_provider
from common.llm.faults import FaultPlan
from common.llm.providers import ChatModelFactory
from common.reddit.corpus import CorpusSource
from common.settings import Settings
from common.store.sqlite import SqliteStore
from tests.chaos.workload import FAIL_RATE, MAX_ATTEMPTS, MIX, ChaosSize, case, judge, references
from tests.worker.harness import worker_settings
from worker.attempt import StopReason
from worker.loop import Worker

TENANT = "chaos"
TICK_REAL, TICK_CLOCK = 0.02, 0.1  # the injected clock runs five times faster than real time
CRASH_EVERY = 12  # ticks


class TickingClock(ManualClock):
    """The injected clock, moved on by the test; `sleep` waits for it like `asyncio.sleep`
    waits for real time (flow control's local waits use it)."""

    def __init__(self) -> None:
        super().__init__()
        self._ticked = asyncio.Event()

    def advance(self, seconds: float):
        moved = super().advance(seconds)
        self._ticked.set()
        self._ticked = asyncio.Event()
        return moved

    async def sleep(self, seconds: float) -> None:
        target = self.now().timestamp() + seconds
        while self.now().timestamp() < target:
            await self._ticked.wait()


class Ledger(logging.Handler):
    """The workers' attempt ends, as the JSON logs of real processes would show them."""

    def __init__(self) -> None:
        super().__init__()
        self.finishes: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        outcome = getattr(record, "outcome", None)
        if getattr(record, "accepted", False) and outcome in ("succeeded", "failed", "cancelled"):
            self.finishes[record.execution_id] += 1  # type: ignore[attr-defined]


@dataclass
class Member:
    """One worker with everything its process would own."""

    worker: Worker
    task: asyncio.Task[None]
    stack: contextlib.AsyncExitStack

    async def crash(self) -> None:
        """Die mid-attempt: cancel everything, write nothing, leave the leases to expire."""
        attempts = [r.task for r in self.worker.inflight.values() if r.task is not None]
        for running in list(self.worker.inflight.values()):
            running.interrupt(StopReason.LOST)
        self.task.cancel()
        await asyncio.gather(self.task, *attempts, return_exceptions=True)
        await self.stack.aclose()

    async def stop(self) -> None:
        self.worker.stop()
        await self.task
        await self.stack.aclose()


async def start_member(
    name: str, settings: Settings, registry: AgentRegistry, clock: TickingClock
) -> Member:
    stack = contextlib.AsyncExitStack()
    # Nine processes' worth of writers on one file: a newcomer may wait a while for the lock.
    store = SqliteStore(settings.sqlite_path, busy_timeout=60)
    await store.init()
    stack.push_async_callback(store.close)
    checkpointer = await stack.enter_async_context(open_checkpointer(settings))
    flow = FlowController(
        store, config_for(settings), clock, random.Random(name), sleep=clock.sleep
    )
    factory = ChatModelFactory(settings, flow)
    stack.push_async_callback(factory.aclose)

    async def on_terminal(execution_id: str) -> None:
        await delete_checkpoints(checkpointer, execution_id)

    resources = {
        "settings": settings,
        "checkpointer": checkpointer,
        "chat_model": factory,
        "reddit": CorpusSource(),
        "flow": flow,
    }
    worker = Worker(
        store,
        registry,
        settings,
        worker_id=name,
        clock=clock,
        rng=random.Random(name),
        resources=resources,
        on_terminal=on_terminal,
    )
    return Member(worker, asyncio.create_task(worker.run(), name=name), stack)


def chaos_settings(db: Path, base_url: str) -> Settings:
    return worker_settings(
        sqlite_path=str(db),
        llm_provider="openai",
        llm_base_url=base_url,
        llm_api_key="sk-chaos",
        llm_timeout=0.5,
        concurrency=4,
        lease_seconds=10,
        heartbeat_seconds=0.2,  # real seconds: a second of the injected clock
        shutdown_grace=1,
        retry_initial_interval=0.2,
        retry_maximum_interval=2,
        default_max_attempts=MAX_ATTEMPTS,
        flow_breaker_open_seconds=2,
    )


async def submit_all(store: SqliteStore, clock: ManualClock, n: int) -> list[str]:
    ids = []
    for i in range(n):
        new = NewExecution(TENANT, "reddit_research", case(i).model_dump(), MAX_ATTEMPTS)
        execution, _ = await store.submit(new, clock.now())
        ids.append(execution.id)
    return ids


async def unfinished(store: SqliteStore, clock: ManualClock) -> int:
    counts = (await store.stats(TENANT, clock.now())).counts
    return counts.get(State.PENDING, 0) + counts.get(State.RUNNING, 0)


async def run_chaos(tmp_path: Path, size: ChaosSize, limit: float) -> None:
    refs = await references()
    rng = random.Random(size.executions)
    clock = TickingClock()
    ledger = Ledger()
    logging.getLogger("agentfleet.worker").addHandler(ledger)
    provider = FakeProvider(research_policy, FaultPlan(rate=FAIL_RATE, mix=MIX, seed=7))
    store = SqliteStore(str(tmp_path / "chaos.db"))
    await store.init()
    loop = asyncio.get_running_loop()
    started = loop.time()
    members: list[Member] = []
    try:
        async with serve_fake_provider(provider) as fake:
            settings = chaos_settings(tmp_path / "chaos.db", fake.base_url)
            registry = default_registry()
            for i in range(size.workers):
                members.append(await start_member(f"w{i}", settings, registry, clock))
            ids = await submit_all(store, clock, size.executions)
            crashes, tick = 0, 0
            while await unfinished(store, clock):
                assert loop.time() - started < limit, "the fleet did not finish in time"
                await asyncio.sleep(TICK_REAL)
                clock.advance(TICK_CLOCK)
                tick += 1
                busy = [m for m in members if m.worker.inflight]
                if busy and crashes < size.crashes and tick % CRASH_EVERY == 0:
                    victim = rng.choice(busy)
                    members.remove(victim)
                    await victim.crash()
                    crashes += 1
                    name = f"w{size.workers + crashes}"
                    members.append(await start_member(name, settings, registry, clock))
            while members:
                await members.pop().stop()
            executions = [await store.get(TENANT, i) for i in ids]
    finally:
        for member in members:  # the run failed half-way: do not leave tasks and sockets behind
            await member.crash()
        logging.getLogger("agentfleet.worker").removeHandler(ledger)
        await store.close()
    done: list[Execution] = [e for e in executions if e is not None]
    tally = judge(done, ids, ledger.finishes, refs, provider.stats.to_dict())
    tally.crashes, tally.seconds = crashes, loop.time() - started
    print(tally.line("in-process"))
    assert crashes == size.crashes
    assert tally.states[State.SUCCEEDED.value] == size.executions, tally.errors


async def test_in_process_fleet_finishes_everything_once_through_faults_and_crashes(tmp_path):
    await run_chaos(tmp_path, ChaosSize(executions=24, crashes=6), limit=90)


@pytest.mark.chaos_big
@pytest.mark.timeout(900)
async def test_in_process_fleet_at_the_big_size(tmp_path):
    await run_chaos(tmp_path, ChaosSize(executions=300, crashes=40), limit=800)
