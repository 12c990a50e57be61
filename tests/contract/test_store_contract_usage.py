"""The store contract for what a running attempt has spent (`attempt_usage`, common/store/base.py).

The holder reports its running total with each progress event; a takeover after its lease
expired records that total on the lost attempt and adds it to the execution's `usage`, in the
claim's own update; every end of an attempt clears it. Runs once per backend (`any_store`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.clock import ManualClock
from common.domain import Execution, Outcome, State, Usage
from common.store.base import Store
from tests.contract.test_store_contract import LEASE, claim_one, ended, submit

SPENT = Usage(llm_calls_ok=2, llm_calls_failed=1, prompt_tokens=300, tool_calls=3, cost_usd=0.25)
MORE = Usage(llm_calls_ok=3, llm_calls_failed=1, prompt_tokens=450, tool_calls=4, cost_usd=0.5)


async def reported(store: Store, clock: ManualClock, usage: Usage, worker: str = "w1"):
    """An execution claimed by `worker`, whose holder reported `usage` with a progress event."""
    await submit(store, clock)
    held = await claim_one(store, clock, worker)
    assert await store.append_event(held.claim(), "llm", "asked", clock.now(), usage=usage)
    return held


async def take_over(store: Store, clock: ManualClock, worker: str = "w2") -> Execution:
    clock.advance(LEASE + 1)
    return await claim_one(store, clock, worker)


async def test_a_progress_event_with_usage_stores_the_attempts_running_total(any_store, clock):
    held = await reported(any_store, clock, SPENT)
    await any_store.append_event(held.claim(), "llm", "asked again", clock.now(), usage=MORE)

    stored = await any_store.get("acme", held.id)

    assert stored.attempt_usage == MORE  # replaced, not added: it is a running total
    assert stored.usage == Usage()  # counted only when the attempt ends


async def test_a_progress_event_without_usage_keeps_the_reported_usage(any_store, clock):
    held = await reported(any_store, clock, SPENT)

    await any_store.append_event(held.claim(), "state", "thinking", clock.now())

    assert (await any_store.get("acme", held.id)).attempt_usage == SPENT


async def test_a_takeover_records_the_lost_attempt_with_its_reported_usage(any_store, clock):
    held = await reported(any_store, clock, SPENT)

    taken = await take_over(any_store, clock)

    (lost,) = taken.attempts
    assert (lost.outcome, lost.worker_id, lost.usage) == (Outcome.LOST, "w1", SPENT)
    assert taken.usage == SPENT
    assert taken.attempt_usage is None
    assert await any_store.get("acme", held.id) == taken


async def test_a_takeover_of_an_attempt_that_reported_nothing_records_no_usage(any_store, clock):
    await submit(any_store, clock)
    await claim_one(any_store, clock, "w1")

    taken = await take_over(any_store, clock)

    assert taken.attempts[0].usage == Usage() and taken.usage == Usage()


async def test_usage_of_lost_and_finished_attempts_adds_up(any_store, clock):
    await reported(any_store, clock, SPENT)
    second = await take_over(any_store, clock, "w2")
    await any_store.append_event(second.claim(), "llm", "asked", clock.now(), usage=MORE)
    third = await take_over(any_store, clock, "w3")
    attempt = ended(third, clock, Outcome.SUCCEEDED, usage=SPENT)

    assert await any_store.finish(third.claim(), clock.now(), State.SUCCEEDED, attempt)

    done = await any_store.get("acme", third.id)
    assert [a.usage for a in done.attempts] == [SPENT, MORE, SPENT]
    assert done.usage == SPENT + MORE + SPENT
    assert done.failed_attempts == 2


async def test_a_stale_holders_event_with_usage_is_refused_and_changes_nothing(any_store, clock):
    held = await reported(any_store, clock, SPENT)
    taken = await take_over(any_store, clock)

    refused = await any_store.append_event(held.claim(), "llm", "late", clock.now(), usage=MORE)

    assert refused is None
    assert await any_store.get("acme", held.id) == taken
    assert len(await any_store.events("acme", held.id)) == 1


async def _park(store: Store, clock: ManualClock, held: Execution, attempt) -> bool:
    later = clock.now() + timedelta(seconds=10)
    return await store.park_for_retry(held.claim(), clock.now(), later, attempt)


async def _finish(store: Store, clock: ManualClock, held: Execution, attempt) -> bool:
    return await store.finish(held.claim(), clock.now(), State.FAILED, attempt)


async def _release(store: Store, clock: ManualClock, held: Execution, attempt) -> bool:
    return await store.release(held.claim(), clock.now(), attempt)


async def _defer(store: Store, clock: ManualClock, held: Execution, attempt) -> bool:
    later = clock.now() + timedelta(seconds=10)
    return await store.release(held.claim(), clock.now(), attempt, available_at=later)


@pytest.mark.parametrize(
    ("end", "outcome"),
    [
        (_park, Outcome.RETRYING),
        (_finish, Outcome.FAILED),
        (_release, Outcome.RELEASED),
        (_defer, Outcome.DEFERRED),
    ],
    ids=["park", "finish", "release", "defer"],
)
async def test_every_end_of_an_attempt_clears_its_reported_usage_and_counts_it_once(
    any_store, clock, end, outcome
):
    held = await reported(any_store, clock, SPENT)

    assert await end(any_store, clock, held, ended(held, clock, outcome, usage=MORE))

    stored = await any_store.get("acme", held.id)
    assert stored.attempt_usage is None
    assert stored.usage == MORE  # the attempt's own total, not the report added on top
    if stored.state is State.PENDING:  # the next takeover has nothing left to count
        clock.advance(3600)
        await claim_one(any_store, clock, "w2")
        assert (await take_over(any_store, clock, "w3")).usage == MORE
