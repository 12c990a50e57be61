"""The worker drives every claimed execution to its next state, fenced by its claim."""

from __future__ import annotations

import asyncio

import pytest

from common.domain import Outcome, State
from tests.worker.harness import Probe, all_terminal, make_worker, step, submit, wait_until


@pytest.fixture
def probe() -> Probe:
    return Probe()


async def test_four_worker_loops_run_each_of_500_executions_exactly_once(
    sqlite_store, clock, probe
):
    ids = [await submit(sqlite_store, clock, "count", {"note": str(i)}) for i in range(500)]
    workers = [make_worker(sqlite_store, probe.registry(), clock, f"w{i}") for i in range(4)]
    loops = [asyncio.create_task(w.run()) for w in workers]
    await wait_until(await all_terminal(sqlite_store))
    for w in workers:
        w.stop()
    await asyncio.gather(*loops)

    assert all(probe.runs[i] == 1 for i in ids)
    assert len(probe.runs) == 500
    executions = [await sqlite_store.get("t1", i) for i in ids]
    assert {e.state for e in executions} == {State.SUCCEEDED}
    assert all(e.executions == 1 for e in executions)
    assert sum(w.claimed for w in workers) == 500
    assert sum(1 for w in workers if w.claimed) >= 2  # the work really was shared


async def test_rate_limited_twice_succeeds_on_attempt_three(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(sqlite_store, clock, "flaky", {"fail_times": 2, "error": "rate_limit"})

    for _ in range(3):
        assert await step(worker) == 1
        execution = await sqlite_store.get("t1", eid)
        if execution.state is State.PENDING:
            assert execution.available_at > clock.now()  # parked, not spinning
            assert await step(worker) == 0  # not due yet
            clock.set(execution.available_at)

    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.SUCCEEDED
    assert execution.executions == 3
    assert execution.result == {"succeeded_on_attempt": 3}
    assert [a.outcome for a in execution.attempts] == [
        Outcome.RETRYING,
        Outcome.RETRYING,
        Outcome.SUCCEEDED,
    ]
    assert [a.error.type for a in execution.attempts[:2]] == ["RateLimited", "RateLimited"]


async def test_retry_after_is_honoured_when_parking(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1", retry_initial_interval=0.01)
    eid = await submit(
        sqlite_store, clock, "flaky", {"fail_times": 1, "error": "rate_limit", "retry_after_s": 7}
    )
    start = clock.now()
    await step(worker)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.PENDING
    assert (execution.available_at - start).total_seconds() >= 7


async def test_auth_error_fails_on_the_first_attempt(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(sqlite_store, clock, "flaky", {"fail_times": 1, "error": "auth"})
    await step(worker)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.FAILED
    assert execution.executions == 1
    assert execution.error.type == "AuthenticationFailed"
    assert [a.outcome for a in execution.attempts] == [Outcome.FAILED]


async def test_exhausted_attempts_fail_with_every_attempt_recorded(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(
        sqlite_store, clock, "flaky", {"fail_times": 5, "error": "server"}, max_attempts=3
    )
    for _ in range(3):
        await step(worker)
        clock.advance(60)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.FAILED
    assert execution.error.type == "ProviderUnavailable"
    assert [a.number for a in execution.attempts] == [1, 2, 3]
    assert [a.error.type for a in execution.attempts] == ["ProviderUnavailable"] * 3
    assert execution.attempts[-1].outcome is Outcome.FAILED


async def test_crashed_holder_is_fenced_out_after_takeover(sqlite_store, clock, probe):
    registry = probe.registry()
    a = make_worker(sqlite_store, registry, clock, "A")
    b = make_worker(sqlite_store, registry, clock, "B")
    eid = await submit(sqlite_store, clock, "block", {})
    await a.claim_once()
    await probe.entered.wait()
    stale_claim = a.inflight[eid].claim

    clock.advance(31)  # A stopped heartbeating: its lease expires
    probe.gate.set()  # B's attempt will not block
    assert await step(b) == 1
    after_b = await sqlite_store.get("t1", eid)
    assert after_b.state is State.SUCCEEDED
    assert after_b.executions == 2
    assert [(x.worker_id, x.outcome) for x in after_b.attempts] == [
        ("A", Outcome.LOST),
        ("B", Outcome.SUCCEEDED),
    ]
    # What A reported spending before it stopped is counted, on its attempt and in the total.
    assert [x.usage.tool_calls for x in after_b.attempts] == [1, 2]
    assert after_b.usage.tool_calls == 3

    # A wakes up: its progress raises LeaseLost inside the agent, and its writes match nothing.
    await asyncio.gather(*(r.task for r in a.inflight.values()))
    assert await sqlite_store.renew_lease(stale_claim, clock.now(), 30) is None
    assert await sqlite_store.get("t1", eid) == after_b
    assert probe.runs[eid] == 2


async def test_heartbeat_that_finds_the_lease_lost_stops_the_attempt(sqlite_store, clock, probe):
    registry = probe.registry()
    a = make_worker(sqlite_store, registry, clock, "A")
    b = make_worker(sqlite_store, registry, clock, "B")
    eid = await submit(sqlite_store, clock, "block", {})
    await a.claim_once()
    await probe.entered.wait()
    clock.advance(31)
    await b.claim_once()  # B holds it now (its attempt blocks on the gate)

    task = a.inflight[eid].task
    await a.heartbeat_once()
    await asyncio.gather(task, return_exceptions=True)
    assert eid not in a.inflight
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.RUNNING
    assert execution.worker_id == "B"

    probe.gate.set()
    await asyncio.gather(*(r.task for r in b.inflight.values()))
    assert (await sqlite_store.get("t1", eid)).state is State.SUCCEEDED


async def test_cancel_while_pending_never_runs(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(sqlite_store, clock, "count", {})
    await sqlite_store.request_cancel("t1", eid, clock.now())
    assert await step(worker) == 0
    assert (await sqlite_store.get("t1", eid)).state is State.CANCELLED
    assert probe.runs[eid] == 0


async def test_cancel_while_running_stops_within_one_heartbeat(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(sqlite_store, clock, "block", {})
    await worker.claim_once()
    await probe.entered.wait()
    task = worker.inflight[eid].task

    await sqlite_store.request_cancel("t1", eid, clock.now())
    await worker.heartbeat_once()
    await asyncio.gather(task)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.CANCELLED
    assert execution.attempts[-1].outcome is Outcome.CANCELLED
    assert not probe.gate.is_set()  # it was stopped, not finished


async def test_retry_of_a_failed_execution_runs_it_again(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(
        sqlite_store, clock, "flaky", {"fail_times": 1, "error": "server"}, max_attempts=1
    )
    await step(worker)
    assert (await sqlite_store.get("t1", eid)).state is State.FAILED

    await sqlite_store.retry("t1", eid, clock.now())
    await step(worker)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.SUCCEEDED
    assert [a.outcome for a in execution.attempts] == [Outcome.FAILED, Outcome.SUCCEEDED]


async def test_graceful_shutdown_releases_and_another_worker_finishes(sqlite_store, clock, probe):
    registry = probe.registry()
    a = make_worker(sqlite_store, registry, clock, "A", shutdown_grace=0.01)
    eid = await submit(sqlite_store, clock, "block", {})
    loop_a = asyncio.create_task(a.run())
    await probe.entered.wait()
    a.stop()
    await loop_a

    released = await sqlite_store.get("t1", eid)
    assert released.state is State.PENDING
    assert released.failed_attempts == 0  # a release is not a failure
    assert released.attempts[-1].outcome is Outcome.RELEASED

    probe.gate.set()
    b = make_worker(sqlite_store, registry, clock, "B")
    await step(b)
    finished = await sqlite_store.get("t1", eid)
    assert finished.state is State.SUCCEEDED
    assert finished.attempts[-1].worker_id == "B"


async def test_attempt_timeout_parks_for_retry(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1", attempt_timeout=0.05)
    eid = await submit(sqlite_store, clock, "block", {})
    await step(worker)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.PENDING
    assert execution.attempts[-1].error.type == "AttemptTimeout"


async def test_invalid_stored_input_fails_without_retry(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(sqlite_store, clock, "echo", {"message": 42})
    await step(worker)
    execution = await sqlite_store.get("t1", eid)
    assert execution.state is State.FAILED
    assert execution.error.type == "InvalidAgentInput"


async def test_progress_events_are_recorded_in_order(sqlite_store, clock, probe):
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1")
    eid = await submit(sqlite_store, clock, "block", {})
    probe.gate.set()
    await step(worker)
    events = await sqlite_store.events("t1", eid)
    assert [(e.seq, e.summary) for e in events] == [(1, "started"), (2, "finishing")]


async def test_checkpoints_of_durable_agents_are_cleaned_up_once_final(sqlite_store, clock):
    from common.agents.base import AgentSpec
    from common.agents.builtin import ECHO
    from common.agents.registry import AgentRegistry
    from tests.worker.harness import worker_settings
    from worker.loop import Worker

    durable_echo = AgentSpec(
        "durable_echo",
        "echo with checkpoints",
        ECHO.input_model,
        ECHO.output_model,
        ECHO.run,
        durable=True,
    )
    cleaned: list[str] = []

    async def on_terminal(execution_id: str) -> None:
        cleaned.append(execution_id)

    worker = Worker(
        sqlite_store,
        AgentRegistry([ECHO, durable_echo]),
        worker_settings(),
        worker_id="w1",
        clock=clock,
        on_terminal=on_terminal,
    )
    durable = await submit(sqlite_store, clock, "durable_echo", {"message": "a"})
    plain = await submit(sqlite_store, clock, "echo", {"message": "b"})
    await step(worker)
    assert cleaned == [durable]
    assert (await sqlite_store.get("t1", plain)).state is State.SUCCEEDED
