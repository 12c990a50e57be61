"""The store contract for fleet housekeeping: `execution_states` (common/store/base.py), what the
checkpoint janitor asks about the threads it found. Runs once per backend (`any_store`)."""

from __future__ import annotations

from common.domain import ExecutionState, Outcome, State
from common.store.base import STATES_BATCH
from tests.contract.test_store_contract import claim_one, ended, submit


async def test_the_states_of_executions_are_read_by_id_whatever_their_tenant(any_store, clock):
    failed = await submit(any_store, clock, tenant="acme")
    held = await claim_one(any_store, clock)
    running = await submit(any_store, clock, tenant="globex")
    await claim_one(any_store, clock)
    pending = await submit(any_store, clock, tenant="initech")
    cancelled = await submit(any_store, clock, tenant="initech")
    clock.advance(5)
    cancelled_at = clock.now()
    await any_store.request_cancel("initech", cancelled.id, cancelled_at)
    clock.advance(5)
    attempt = ended(held, clock, Outcome.FAILED)
    await any_store.finish(held.claim(), clock.now(), State.FAILED, attempt)

    states = await any_store.execution_states([failed.id, running.id, pending.id, cancelled.id])

    assert states == {
        failed.id: ExecutionState(State.FAILED, clock.now()),
        running.id: ExecutionState(State.RUNNING, None),
        pending.id: ExecutionState(State.PENDING, None),
        cancelled.id: ExecutionState(State.CANCELLED, cancelled_at),
    }


async def test_an_id_without_an_execution_is_missing_from_the_answer(any_store, clock):
    known = await submit(any_store, clock)

    states = await any_store.execution_states([known.id, "no-such-execution"])

    assert list(states) == [known.id]


async def test_no_ids_read_no_states(any_store):
    assert await any_store.execution_states([]) == {}


async def test_more_ids_than_one_batch_are_all_answered(any_store, clock):
    known = [(await submit(any_store, clock)).id for _ in range(3)]
    unknown = [f"unknown-{i:05d}" for i in range(2 * STATES_BATCH)]

    states = await any_store.execution_states([known[0], *unknown, *known[1:]])

    assert sorted(states) == sorted(known)
    assert {s.state for s in states.values()} == {State.PENDING}
