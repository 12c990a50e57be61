"""Building blocks for worker tests: test agents with observable side effects, and stepping."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel

from common.agents.base import AgentContext, AgentSpec
from common.agents.builtin import BUILTIN_AGENTS
from common.agents.registry import AgentRegistry
from common.clock import ManualClock
from common.domain import NewExecution, State, Usage
from common.settings import Settings, load_settings
from common.store.base import Store
from worker.loop import Worker


class Note(BaseModel):
    note: str = ""


@dataclass
class Probe:
    """Side effects of the test agents: how often each execution's body ran, and gates."""

    runs: Counter[str] = field(default_factory=Counter)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    def registry(self) -> AgentRegistry:
        async def count(data: Note, ctx: AgentContext) -> Note:
            self.runs[ctx.execution_id] += 1
            return Note(note=data.note)

        async def block(data: Note, ctx: AgentContext) -> Note:
            self.runs[ctx.execution_id] += 1
            ctx.add_usage(Usage(tool_calls=1))  # each step is paid for before it is reported
            await ctx.progress("tool", "started")
            self.entered.set()
            await self.gate.wait()
            ctx.add_usage(Usage(tool_calls=1))
            await ctx.progress("tool", "finishing")
            return Note(note="done")

        return AgentRegistry(
            [
                *BUILTIN_AGENTS,
                AgentSpec("count", "counts its runs", Note, Note, count),
                AgentSpec("block", "waits for the test's gate", Note, Note, block),
            ]
        )


def worker_settings(**overrides) -> Settings:
    base = {
        "concurrency": 8,
        "poll_interval": 0.01,
        "lease_seconds": 30,
        "heartbeat_seconds": 10,
        "shutdown_grace": 0.05,
        "retry_initial_interval": 1,
        "retry_maximum_interval": 10,
    }
    return load_settings({}, base=base | overrides)


def make_worker(store: Store, registry: AgentRegistry, clock: ManualClock, name: str, **overrides):
    return Worker(
        store,
        registry,
        worker_settings(**overrides),
        worker_id=name,
        clock=clock,
        rng=random.Random(name),
    )


async def submit(store: Store, clock: ManualClock, agent: str, data: dict, **kw) -> str:
    new = NewExecution(
        tenant=kw.pop("tenant", "t1"),
        agent=agent,
        input=data,
        max_attempts=kw.pop("max_attempts", 5),
        **kw,
    )
    execution, _ = await store.submit(new, clock.now())
    return execution.id


async def step(worker: Worker) -> int:
    """Claim what is due and wait until those attempts have written their outcome."""
    claimed = await worker.claim_once()
    tasks = [r.task for r in worker.inflight.values() if r.task is not None]
    await asyncio.gather(*tasks)
    return claimed


async def wait_until(predicate, limit: float = 20.0) -> None:
    """Poll an async predicate; fail with a clear message if it never holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def all_terminal(store: Store, tenant: str = "t1"):
    async def check() -> bool:
        stats = await store.stats(tenant, ManualClock().now())
        return stats.counts.get(State.PENDING, 0) + stats.counts.get(State.RUNNING, 0) == 0

    return check
