"""Issue 3's acceptance measurement: with the provider failing 30% of calls (a seeded 429/5xx mix),
50 research executions on distinct corpus topics all SUCCEED through 4 real worker loops, and
the successful LLM calls summed over them equal those of a failure-free run of the same 50:
no successful call was paid twice (`repeated_ok == 0` on the provider).

Real time, short intervals: the loops poll every 20 ms and parked executions are due again
within 20-200 ms (Retry-After 50 ms). Run with `-s` to see the counts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentfleet.runtime import make_workers
from common.agents.registry import default_registry
from common.clock import SystemClock
from common.domain import FAILED_OUTCOMES, Execution, State, Usage
from common.llm.fake_app import FakeProviderStats
from common.llm.faults import Fault, FaultPlan
from common.metrics import Metrics
from common.store.sqlite import SqliteStore
from tests.research.fleet import corpus_topics, provider_settings, research_provider
from tests.research.fleet import worker_resources as open_worker_resources
from tests.worker.harness import all_terminal, submit, wait_until

pytestmark = pytest.mark.slow

EXECUTIONS = 50
WORKERS = 4
FAIL_RATE = 0.3
FAILURE_MIX = {
    Fault.rate_limit(retry_after=0.05): 0.5,
    Fault.unavailable(): 0.3,
    Fault.server_error(): 0.2,
}
#: A budget for a provider that fails 30% of calls: each attempt makes a few calls.
MAX_ATTEMPTS = 30


@dataclass
class Batch:
    executions: list[Execution]
    provider: FakeProviderStats

    @property
    def usage(self) -> Usage:
        return sum((e.usage for e in self.executions), Usage())

    @property
    def attempts(self) -> int:
        return sum(e.executions for e in self.executions)

    @property
    def failed_attempts(self) -> int:
        return sum(a.outcome in FAILED_OUTCOMES for e in self.executions for a in e.attempts)


async def run_batch(db: Path, plan: FaultPlan) -> Batch:
    """Submit the 50 topics and run 4 worker loops until every execution is final."""
    store = SqliteStore(str(db))
    await store.init()
    clock = SystemClock()
    try:
        async with research_provider(plan) as fake:
            settings = provider_settings(
                db,
                fake,
                poll_interval=0.02,
                retry_initial_interval=0.02,
                retry_maximum_interval=0.2,
            )
            async with open_worker_resources(settings, store) as resources:
                workers = make_workers(
                    WORKERS, store, default_registry(), settings, resources, Metrics()
                )
                loops = [asyncio.create_task(w.run()) for w in workers]
                ids = [
                    await submit(
                        store, clock, "reddit_research", t.model_dump(), max_attempts=MAX_ATTEMPTS
                    )
                    for t in corpus_topics(EXECUTIONS)
                ]
                for worker in workers:
                    worker.wake()
                await wait_until(await all_terminal(store), limit=90)
                for worker in workers:
                    worker.stop()
                await asyncio.gather(*loops)
            executions = [await store.get("t1", execution_id) for execution_id in ids]
            return Batch([e for e in executions if e is not None], fake.stats)
    finally:
        await store.close()


def report(name: str, batch: Batch) -> None:
    usage, stats = batch.usage, batch.provider
    states = {s.value: sum(e.state is s for e in batch.executions) for s in State}
    print(
        f"\n{name}: {states} attempts={batch.attempts} (failed {batch.failed_attempts}) "
        f"llm_calls_ok={usage.llm_calls_ok} llm_calls_failed={usage.llm_calls_failed} "
        f"tool_calls={usage.tool_calls} tokens={usage.prompt_tokens}+{usage.completion_tokens} "
        f"cost_usd={usage.cost_usd:.6f} | provider: requests={stats.requests} ok={stats.ok} "
        f"repeated_ok={stats.repeated_ok} by_status={dict(sorted(stats.by_status.items()))}"
    )


async def test_fifty_research_executions_succeed_at_30_percent_failures_paying_no_call_twice(
    tmp_path,
):
    clean = await run_batch(tmp_path / "clean.db", FaultPlan())
    report("failure-free", clean)
    flaky = await run_batch(
        tmp_path / "flaky.db", FaultPlan(rate=FAIL_RATE, mix=FAILURE_MIX, seed=3)
    )
    report("30% failing", flaky)

    assert len(clean.executions) == len(flaky.executions) == EXECUTIONS
    assert all(e.state is State.SUCCEEDED for e in clean.executions)
    assert all(len(e.result["findings"]) >= e.input["min_findings"] for e in clean.executions)
    assert all(e.state is State.SUCCEEDED for e in flaky.executions), [
        (e.id, e.state, e.error) for e in flaky.executions if e.state is not State.SUCCEEDED
    ]
    # The faults happened, were counted and cost attempts ...
    failed_requests = flaky.provider.requests - flaky.provider.ok
    assert failed_requests >= 0.2 * flaky.provider.requests
    assert flaky.usage.llm_calls_failed == failed_requests
    assert flaky.failed_attempts == failed_requests  # each failed call failed one attempt
    # ... and yet every successful call was made exactly once.
    assert flaky.provider.repeated_ok == 0 and clean.provider.repeated_ok == 0
    assert flaky.usage.llm_calls_ok == clean.usage.llm_calls_ok == clean.provider.ok
    assert flaky.provider.ok == clean.provider.ok
    assert flaky.usage.tool_calls == clean.usage.tool_calls
    assert flaky.usage.prompt_tokens == clean.usage.prompt_tokens
    assert flaky.usage.cost_usd == pytest.approx(clean.usage.cost_usd)
    by_topic = {e.input["topic"]: e.result for e in clean.executions}
    assert all(by_topic[e.input["topic"]] == e.result for e in flaky.executions)
