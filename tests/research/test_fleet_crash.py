"""A worker dies in the middle of a research execution: its LLM call hangs on the fake provider
after some steps were checkpointed, and the worker stops without any clean-up (no release, no
heartbeat). Once its lease has passed on the injected clock, another worker, in another
"process" (its own resources and SQLite connections), takes the execution over and resumes from
the checkpoint: nothing the dead worker completed is done or paid again, and what it did pay for
(reported with its progress events) is counted in the execution's usage.
"""

from __future__ import annotations

import asyncio
import contextlib

from common.domain import Outcome, State
from common.llm.faults import Fault, FaultPlan
from tests.research.conftest import CountingSource
from tests.research.fleet import (
    fleet_worker,
    provider_settings,
    research_provider,
    worker_resources,
)
from tests.research.test_research_agent import TOPIC
from tests.worker.harness import step, submit, wait_until

#: The LLM call that hangs: the searches and the first reads were answered and checkpointed.
HANGING_CALL = 3


async def test_a_crashed_workers_execution_resumes_from_its_checkpoint_on_another_worker(
    sqlite_store, clock, tmp_path
):
    store = sqlite_store
    source = CountingSource()
    plan = FaultPlan({HANGING_CALL: Fault.slow(seconds=600)})
    async with research_provider(plan) as fake:
        settings = provider_settings(tmp_path / "agentfleet.db", fake, llm_timeout=300)
        async with (
            worker_resources(settings, store, source) as resources_a,
            worker_resources(settings, store, source) as resources_b,
        ):
            worker_a = fleet_worker(store, settings, resources_a, clock, "worker-a")
            worker_b = fleet_worker(store, settings, resources_b, clock, "worker-b")
            execution_id = await submit(store, clock, "reddit_research", TOPIC.model_dump())

            assert await worker_a.claim_once() == 1
            attempt_a = worker_a.inflight[execution_id].task
            await wait_until(_received(fake, HANGING_CALL))  # A waits on the hanging call
            tools_before_crash = list(source.calls)
            events_before_crash = await store.events("t1", execution_id)

            attempt_a.cancel()  # the process dies: nothing is written, the lease is not renewed
            with contextlib.suppress(asyncio.CancelledError):
                await attempt_a
            running = await store.get("t1", execution_id)
            assert running.state is State.RUNNING and running.worker_id == "worker-a"
            assert await step(worker_b) == 0  # the lease still holds

            clock.advance(settings.lease_seconds + 1)
            assert await step(worker_b) == 1
            done = await store.get("t1", execution_id)
        stats = fake.stats

    assert done.state is State.SUCCEEDED and done.executions == 2
    lost, resumed = done.attempts
    assert (lost.outcome, lost.worker_id, lost.error.type) == (
        Outcome.LOST,
        "worker-a",
        "LeaseExpired",
    )
    assert (resumed.outcome, resumed.worker_id) == (Outcome.SUCCEEDED, "worker-b")
    # A answered HANGING_CALL - 1 calls; B made only the rest: none was answered twice.
    assert stats.repeated_ok == 0 and stats.abandoned == 1
    assert resumed.usage.llm_calls_ok == stats.ok - (HANGING_CALL - 1)
    assert len(source.calls) == len(set(source.calls))  # no tool call made twice
    assert source.calls[: len(tools_before_crash)] == tools_before_crash
    assert resumed.usage.tool_calls == len(source.calls) - len(tools_before_crash)
    # What A paid for before it died is counted too: on its LOST attempt and in the total, so
    # the execution's usage is every call the provider answered, each once.
    assert lost.usage.llm_calls_ok == HANGING_CALL - 1
    assert lost.usage.tool_calls == len(tools_before_crash)
    assert sum(a.usage.llm_calls_ok for a in done.attempts) == stats.ok
    assert done.usage.llm_calls_ok == stats.ok
    assert done.usage.tool_calls == len(source.calls)
    assert done.usage.prompt_tokens == sum(a.usage.prompt_tokens for a in done.attempts) > 0
    events = await store.events("t1", execution_id)
    assert len(events) == stats.ok + len(source.calls)  # one per step, no step twice
    assert events[: len(events_before_crash)] == events_before_crash
    assert {e.attempt for e in events[len(events_before_crash) :]} == {2}
    assert done.result["findings"] and all(
        f["source_id"] in source.returned_ids for f in done.result["findings"]
    )


def _received(fake, calls: int):
    async def check() -> bool:
        return fake.stats.requests >= calls

    return check
