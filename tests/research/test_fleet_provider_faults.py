"""reddit_research through real Workers, a SQLite store and the worker's own resources, against
the local fake provider over HTTP (langchain-openai with its retries off): transient provider
failures are parked and resumed until the execution succeeds; permanent ones fail it at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.domain import Outcome, State
from common.llm.faults import Fault, FaultPlan
from common.store.base import Store
from tests.research.conftest import CountingSource
from tests.research.fleet import (
    fleet_worker,
    provider_settings,
    research_provider,
    worker_resources,
)
from tests.research.test_research_agent import TOPIC
from tests.worker.harness import step, submit

#: The research conversation's 3rd LLM call: after the searches and the first reads were paid.
FAILING_CALL = 3


async def run_clean(sqlite_store: Store, clock, tmp_path) -> tuple:
    async with research_provider() as fake:
        settings = provider_settings(tmp_path / "agentfleet.db", fake)
        source = CountingSource()
        async with worker_resources(settings, sqlite_store, source) as resources:
            worker = fleet_worker(sqlite_store, settings, resources, clock, "clean")
            execution_id = await submit(sqlite_store, clock, "reddit_research", TOPIC.model_dump())
            await step(worker)
        done = await sqlite_store.get("t1", execution_id)
        return done, fake.stats.ok, source


@pytest.fixture
async def clean(sqlite_store, clock, tmp_path):
    """The same research without any fault: what a failed-and-resumed run must add up to."""
    done, ok, source = await run_clean(sqlite_store, clock, tmp_path)
    assert done.state is State.SUCCEEDED and done.usage.llm_calls_failed == 0
    assert ok == done.usage.llm_calls_ok
    return done, source


@pytest.mark.parametrize(
    ("fault", "error_type", "floor"),
    [
        (Fault.rate_limit(retry_after=2), "RateLimited", 2.0),
        (Fault.unavailable(retry_after=3), "ProviderUnavailable", 3.0),
        (Fault.server_error(), "ProviderUnavailable", 0.0),
        (Fault.slow(seconds=30), "ProviderTimeout", 0.0),
        (Fault.drop(), "ConnectionFailed", 0.0),
    ],
    ids=["429", "503", "500", "timeout", "drop"],
)
async def test_a_transient_provider_failure_is_parked_resumed_and_succeeds_paying_each_call_once(
    sqlite_store, clock, tmp_path, clean, fault, error_type, floor
):
    clean_done, clean_source = clean
    plan = FaultPlan({FAILING_CALL: fault})
    async with research_provider(plan) as fake:
        # A short client timeout (local replies take milliseconds): the stall times out in 1 s.
        settings = provider_settings(tmp_path / "agentfleet.db", fake, llm_timeout=1)
        source = CountingSource()
        async with worker_resources(settings, sqlite_store, source) as resources:
            worker = fleet_worker(sqlite_store, settings, resources, clock, "w1")
            execution_id = await submit(sqlite_store, clock, "reddit_research", TOPIC.model_dump())

            await step(worker)
            parked = await sqlite_store.get("t1", execution_id)
            assert parked.state is State.PENDING
            (first,) = parked.attempts
            assert (first.outcome, first.error.type) == (Outcome.RETRYING, error_type)
            assert first.usage.llm_calls_ok == FAILING_CALL - 1
            assert first.usage.llm_calls_failed == 1
            assert parked.available_at >= clock.now() + timedelta(seconds=floor)
            assert parked.available_at > clock.now()
            assert await step(worker) == 0  # not claimable before available_at

            clock.set(parked.available_at)
            await step(worker)
            done = await sqlite_store.get("t1", execution_id)

        stats = fake.stats
    assert done.state is State.SUCCEEDED and done.executions == 2
    assert done.result == clean_done.result
    assert done.usage.llm_calls_ok == clean_done.usage.llm_calls_ok == stats.ok
    assert done.usage.llm_calls_failed == 1
    assert done.usage.tool_calls == clean_done.usage.tool_calls
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (
        clean_done.usage.prompt_tokens,
        clean_done.usage.completion_tokens,
    )
    assert done.usage.cost_usd == pytest.approx(clean_done.usage.cost_usd) and done.usage.cost_usd
    assert stats.repeated_ok == 0
    assert sorted(source.calls) == sorted(clean_source.calls)  # no tool call made twice
    assert [a.usage.llm_calls_ok for a in done.attempts] == [
        FAILING_CALL - 1,
        clean_done.usage.llm_calls_ok - FAILING_CALL + 1,
    ]
    events = await sqlite_store.events("t1", execution_id)
    assert len(events) == clean_done.usage.llm_calls_ok + clean_done.usage.tool_calls
    assert {e.attempt for e in events} == {1, 2}


async def test_a_wrong_api_key_fails_the_execution_on_attempt_1_with_a_clear_error(
    sqlite_store, clock, tmp_path
):
    async with research_provider() as fake:
        settings = provider_settings(tmp_path / "agentfleet.db", fake, llm_api_key="sk-wrong")
        async with worker_resources(settings, sqlite_store) as resources:
            worker = fleet_worker(sqlite_store, settings, resources, clock, "w1")
            execution_id = await submit(sqlite_store, clock, "reddit_research", TOPIC.model_dump())
            await step(worker)
        done = await sqlite_store.get("t1", execution_id)
        stats = fake.stats

    assert done.state is State.FAILED and done.executions == 1
    assert done.error.type == "AuthenticationFailed" and not done.error.retryable
    assert "401" in done.error.message and "Incorrect API key" in done.error.message
    (attempt,) = done.attempts
    assert attempt.outcome is Outcome.FAILED
    assert (done.usage.llm_calls_ok, done.usage.llm_calls_failed) == (0, 1)
    assert stats.by_status["401"] == 1 and stats.requests == 1  # the client did not retry


async def test_a_context_overflow_fails_the_execution_without_another_attempt(
    sqlite_store, clock, tmp_path
):
    plan = FaultPlan({FAILING_CALL: Fault.context_overflow()})
    async with research_provider(plan) as fake:
        settings = provider_settings(tmp_path / "agentfleet.db", fake)
        async with worker_resources(settings, sqlite_store) as resources:
            worker = fleet_worker(sqlite_store, settings, resources, clock, "w1")
            execution_id = await submit(sqlite_store, clock, "reddit_research", TOPIC.model_dump())
            await step(worker)
            clock.advance(3600)
            assert await step(worker) == 0  # nothing left to retry
        done = await sqlite_store.get("t1", execution_id)

    assert done.state is State.FAILED and done.executions == 1
    assert done.error.type == "ContextOverflow" and "context length" in done.error.message
    assert done.usage.llm_calls_ok == FAILING_CALL - 1 and done.usage.llm_calls_failed == 1
