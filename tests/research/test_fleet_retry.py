"""A user's retry of a FAILED research execution is cheap: the execution ran out of attempts in a
provider outage, kept its checkpoints (only SUCCEEDED and CANCELLED executions drop them at
once), and `retryExecution` resumes it at the step that failed, so the calls that had succeeded
are neither made nor paid for again.
"""

from __future__ import annotations

from common.checkpoints import thread_config
from common.domain import Outcome, State
from common.llm.faults import Fault, FaultPlan
from tests.research.conftest import CountingSource
from tests.research.fleet import (
    fleet_worker,
    provider_settings,
    research_provider,
    worker_resources,
)
from tests.research.test_fleet_provider_faults import FAILING_CALL, run_clean
from tests.research.test_research_agent import TOPIC
from tests.worker.harness import step, submit


async def test_a_retried_failed_execution_resumes_at_the_failed_step_paying_no_call_twice(
    sqlite_store, clock, tmp_path
):
    clean, clean_ok, clean_source = await run_clean(sqlite_store, clock, tmp_path)
    outage = FaultPlan({FAILING_CALL: Fault.unavailable()})
    async with research_provider(outage) as fake:
        settings = provider_settings(tmp_path / "agentfleet.db", fake)
        source = CountingSource()
        async with worker_resources(settings, sqlite_store, source) as resources:
            worker = fleet_worker(sqlite_store, settings, resources, clock, "w1")
            saver = resources["checkpointer"]
            execution_id = await submit(
                sqlite_store, clock, "reddit_research", TOPIC.model_dump(), max_attempts=1
            )
            await step(worker)
            failed = await sqlite_store.get("t1", execution_id)
            assert failed.state is State.FAILED  # its only attempt met the outage
            assert await saver.aget_tuple(thread_config(execution_id)) is not None  # kept
            answered_before_retry = fake.stats.ok

            clock.advance(3600)  # the outage is over; the user retries
            await sqlite_store.retry("t1", execution_id, clock.now())
            await step(worker)
            done = await sqlite_store.get("t1", execution_id)
            assert await saver.aget_tuple(thread_config(execution_id)) is None  # succeeded: gone
        stats = fake.stats

    assert done.state is State.SUCCEEDED and done.executions == 2
    assert done.result == clean.result
    assert [a.outcome for a in done.attempts] == [Outcome.FAILED, Outcome.SUCCEEDED]
    assert answered_before_retry == FAILING_CALL - 1
    # The retry made only the calls the failed attempt had not: each was answered once.
    assert stats.repeated_ok == 0
    assert stats.ok == clean_ok == done.usage.llm_calls_ok
    assert done.attempts[-1].usage.llm_calls_ok == clean_ok - (FAILING_CALL - 1)
    assert sorted(source.calls) == sorted(clean_source.calls)  # no tool call made twice
