"""The store contract, continued: provider flow state, deferral, schedules, tenant fairness.

Runs once per backend through the `any_store` fixture, like `test_store_contract.py`. Time comes
from the injected clock in whole seconds, so every backend stores it exactly.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest

from common.clock import ManualClock
from common.domain import Attempt, Execution, NewExecution, Outcome, State
from common.store.base import Store

LEASE = 30.0


def new(tenant: str = "acme", **fields) -> NewExecution:
    return NewExecution(
        tenant=tenant, agent="echo", input={"message": "hi"}, max_attempts=3, **fields
    )


async def submit(store: Store, clock: ManualClock, **fields) -> Execution:
    execution, created = await store.submit(new(**fields), clock.now())
    assert created
    return execution


async def claim_one(store: Store, clock: ManualClock, worker_id: str = "w1") -> Execution:
    claimed = await store.claim_next(worker_id, clock.now(), LEASE, 1)
    assert len(claimed) == 1
    return claimed[0]


def ended(execution: Execution, clock: ManualClock, outcome: Outcome) -> Attempt:
    """The record of the current holder's attempt, ending now."""
    assert execution.worker_id is not None and execution.attempt_started_at is not None
    return Attempt(
        number=execution.executions,
        worker_id=execution.worker_id,
        started_at=execution.attempt_started_at,
        ended_at=clock.now(),
        outcome=outcome,
    )


async def defer(store: Store, clock: ManualClock, held: Execution, seconds: float) -> bool:
    """Give `held` back until `seconds` from now, as a provider cooldown does."""
    attempt = ended(held, clock, Outcome.DEFERRED)
    until = clock.now() + timedelta(seconds=seconds)
    return await store.release(held.claim(), clock.now(), attempt, until)


# --- provider flow state ---------------------------------------------------------------------

COOLDOWN = {"cooldown_until": 1767225600.5, "limit": 8, "window": [3, 5], "open": None}


async def test_an_unknown_flow_key_reads_as_none(any_store):
    assert await any_store.get_flow_state("provider:deepseek") is None


async def test_a_first_put_creates_version_one(any_store):
    record = await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)

    assert record is not None
    assert (record.key, record.version, record.state) == ("provider:deepseek", 1, COOLDOWN)
    assert await any_store.get_flow_state("provider:deepseek") == record


async def test_a_put_on_the_current_version_replaces_the_state_and_moves_the_version_on(
    any_store,
):
    await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)

    record = await any_store.put_flow_state("provider:deepseek", {"limit": 4}, 1)

    assert record is not None and (record.version, record.state) == (2, {"limit": 4})
    assert await any_store.get_flow_state("provider:deepseek") == record


async def test_a_put_on_a_stale_version_is_refused_and_changes_nothing(any_store):
    await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)
    current = await any_store.put_flow_state("provider:deepseek", {"limit": 4}, 1)

    assert await any_store.put_flow_state("provider:deepseek", {"limit": 1}, 1) is None
    assert await any_store.get_flow_state("provider:deepseek") == current


async def test_inserting_a_key_that_exists_is_refused_and_changes_nothing(any_store):
    first = await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)

    assert await any_store.put_flow_state("provider:deepseek", {"limit": 1}, None) is None
    assert await any_store.get_flow_state("provider:deepseek") == first


async def test_updating_a_key_that_does_not_exist_is_refused(any_store):
    assert await any_store.put_flow_state("provider:deepseek", COOLDOWN, 1) is None
    assert await any_store.get_flow_state("provider:deepseek") is None


async def test_concurrent_inserts_of_one_key_have_exactly_one_winner(any_store):
    results = await asyncio.gather(
        *(any_store.put_flow_state("provider:openai", {"by": i}, None) for i in range(10))
    )

    winners = [record for record in results if record is not None]
    assert len(winners) == 1
    assert await any_store.get_flow_state("provider:openai") == winners[0]


async def test_concurrent_updates_of_one_version_have_exactly_one_winner(any_store):
    await any_store.put_flow_state("provider:openai", {"by": None}, None)

    results = await asyncio.gather(
        *(any_store.put_flow_state("provider:openai", {"by": i}, 1) for i in range(10))
    )

    winners = [record for record in results if record is not None]
    assert len(winners) == 1 and winners[0].version == 2
    assert await any_store.get_flow_state("provider:openai") == winners[0]


async def test_flow_states_are_listed_by_key(any_store):
    for key in ("provider:openai", "provider:deepseek", "provider:vllm"):
        await any_store.put_flow_state(key, {"name": key}, None)

    listed = await any_store.list_flow_states()

    assert [record.key for record in listed] == [
        "provider:deepseek",
        "provider:openai",
        "provider:vllm",
    ]
    assert all(record.state == {"name": record.key} for record in listed)


async def test_a_flow_state_comes_back_as_json_would_return_it(any_store):
    record = await any_store.put_flow_state("provider:x", {"pair": (1, 2), "empty": {}}, None)

    assert record is not None and record.state == {"pair": [1, 2], "empty": {}}
    stored = await any_store.get_flow_state("provider:x")
    assert stored is not None and stored.state == {"pair": [1, 2], "empty": {}}


@pytest.mark.parametrize(
    "state", [{"until": datetime(2026, 1, 1, tzinfo=UTC)}, {"limit": math.inf}], ids=["date", "inf"]
)
async def test_a_flow_state_that_json_cannot_hold_is_rejected_before_any_write(any_store, state):
    with pytest.raises((TypeError, ValueError)):
        await any_store.put_flow_state("provider:x", state, None)

    assert await any_store.get_flow_state("provider:x") is None


async def test_every_flow_state_operation_is_one_round_trip(any_store: Store):
    operations = [
        lambda: any_store.put_flow_state("provider:x", {}, None),
        lambda: any_store.put_flow_state("provider:x", {}, 1),
        lambda: any_store.put_flow_state("provider:x", {}, 1),  # lost: still one trip
        lambda: any_store.get_flow_state("provider:x"),
        lambda: any_store.list_flow_states(),
    ]
    for operation in operations:
        before = any_store.round_trips
        await operation()
        assert any_store.round_trips - before == 1


# --- deferral: park without counting a failure -----------------------------------------------


async def test_a_deferral_parks_it_until_the_given_instant_without_counting_a_failure(
    any_store, clock
):
    await submit(any_store, clock)
    held = await claim_one(any_store, clock)

    assert await defer(any_store, clock, held, 45)

    parked = await any_store.get("acme", held.id)
    assert parked.state == State.PENDING
    assert parked.available_at == clock.now() + timedelta(seconds=45)
    assert parked.failed_attempts == 0
    assert (parked.worker_id, parked.lease_expires_at) == (None, None)
    assert [(a.number, a.outcome) for a in parked.attempts] == [(1, Outcome.DEFERRED)]


async def test_a_deferred_execution_is_claimed_again_only_once_due(any_store, clock):
    await submit(any_store, clock)
    held = await claim_one(any_store, clock)
    await defer(any_store, clock, held, 45)

    clock.advance(44)
    assert await any_store.claim_next("w2", clock.now(), LEASE, 1) == []
    clock.advance(1)
    again = await claim_one(any_store, clock, "w2")

    assert again.id == held.id and again.executions == 2


async def test_deferrals_never_spend_the_attempt_budget(any_store, clock):
    execution = await submit(any_store, clock)  # max_attempts=3
    for _ in range(execution.max_attempts + 2):
        held = await claim_one(any_store, clock)
        assert await defer(any_store, clock, held, 10)
        clock.advance(10)

    parked = await any_store.get("acme", execution.id)
    assert parked.state == State.PENDING and parked.failed_attempts == 0
    assert parked.executions == execution.max_attempts + 2


async def test_a_release_without_an_instant_is_due_at_once(any_store, clock):
    await submit(any_store, clock)
    held = await claim_one(any_store, clock)
    clock.advance(3)

    assert await any_store.release(held.claim(), clock.now(), ended(held, clock, Outcome.RELEASED))

    assert (await any_store.get("acme", held.id)).available_at == clock.now()


async def test_a_deferral_by_a_holder_whose_lease_was_taken_over_is_refused(any_store, clock):
    await submit(any_store, clock)
    first = await claim_one(any_store, clock, "w1")
    clock.advance(LEASE + 1)
    second = await claim_one(any_store, clock, "w2")

    assert not await defer(any_store, clock, first, 60)

    current = await any_store.get("acme", first.id)
    assert current.state == State.RUNNING and current.worker_id == "w2"
    assert current.available_at == second.available_at
    assert [a.outcome for a in current.attempts] == [Outcome.LOST]
