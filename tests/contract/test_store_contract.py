"""The store contract: every backend behaves exactly like this (see common/store/base.py).

Runs once per backend through the `any_store` fixture. Time comes from the injected clock and
moves in whole seconds, so every backend stores it exactly (MongoDB keeps milliseconds).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from common.clock import ManualClock
from common.domain import (
    ATTEMPTS_KEPT,
    Attempt,
    Claim,
    ErrorInfo,
    Execution,
    NewExecution,
    Outcome,
    State,
    Usage,
)
from common.errors import NotFound, StateConflict
from common.store.base import Store

LEASE = 30.0


def new(tenant: str = "acme", agent: str = "echo", **fields) -> NewExecution:
    return NewExecution(
        tenant=tenant, agent=agent, input={"message": "hi"}, max_attempts=3, **fields
    )


def ended(execution: Execution, clock: ManualClock, outcome: Outcome, **fields) -> Attempt:
    """The record of the current holder's attempt, ending now."""
    assert execution.worker_id is not None and execution.attempt_started_at is not None
    return Attempt(
        number=execution.executions,
        worker_id=execution.worker_id,
        started_at=execution.attempt_started_at,
        ended_at=clock.now(),
        outcome=outcome,
        **fields,
    )


async def submit(store: Store, clock: ManualClock, **fields) -> Execution:
    execution, created = await store.submit(new(**fields), clock.now())
    assert created
    return execution


async def claim_one(store: Store, clock: ManualClock, worker_id: str = "w1") -> Execution:
    claimed = await store.claim_next(worker_id, clock.now(), LEASE, 1)
    assert len(claimed) == 1
    return claimed[0]


async def taken_over(store: Store, clock: ManualClock) -> tuple[Execution, Execution]:
    """An execution claimed by w1, whose lease expired and which w2 then claimed."""
    await submit(store, clock)
    first = await claim_one(store, clock, "w1")
    clock.advance(LEASE + 1)
    second = await claim_one(store, clock, "w2")
    return first, second


# --- submit and read -------------------------------------------------------------------------


async def test_a_submitted_execution_reads_back_as_pending_and_due(any_store, clock):
    submitted = await submit(any_store, clock, priority=5, idempotency_key="k1")

    stored = await any_store.get("acme", submitted.id)

    assert stored == submitted
    assert stored.state == State.PENDING
    assert stored.executions == 0
    assert stored.available_at == clock.now()
    assert stored.input == {"message": "hi"}


async def test_an_unknown_id_reads_as_none(any_store):
    assert await any_store.get("acme", "does-not-exist") is None


async def test_a_repeated_idempotency_key_returns_the_existing_execution(any_store, clock):
    first = await submit(any_store, clock, idempotency_key="k1")
    clock.advance(5)

    again, created = await any_store.submit(new(idempotency_key="k1"), clock.now())

    assert created is False
    assert again.id == first.id
    assert again.created_at == first.created_at


async def test_concurrent_submits_with_one_key_create_one_execution(any_store, clock):
    results = await asyncio.gather(
        *(any_store.submit(new(idempotency_key="race"), clock.now()) for _ in range(20))
    )

    assert len({execution.id for execution, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    page = await any_store.list_executions("acme")
    assert [execution.id for execution in page.items] == [results[0][0].id]


async def test_the_same_key_in_two_tenants_makes_two_executions(any_store, clock):
    mine = await submit(any_store, clock, tenant="acme", idempotency_key="k1")
    theirs = await submit(any_store, clock, tenant="globex", idempotency_key="k1")

    assert mine.id != theirs.id


async def test_submits_without_a_key_are_never_deduplicated(any_store, clock):
    first = await submit(any_store, clock)
    second = await submit(any_store, clock)

    assert first.id != second.id


# --- tenant isolation ------------------------------------------------------------------------


async def test_another_tenants_execution_reads_as_none(any_store, clock):
    execution = await submit(any_store, clock, tenant="acme")

    assert await any_store.get("globex", execution.id) is None


async def test_another_tenants_executions_are_not_listed(any_store, clock):
    await submit(any_store, clock, tenant="acme")

    page = await any_store.list_executions("globex")

    assert page.items == [] and page.has_next is False


async def test_cancelling_another_tenants_execution_is_not_found_and_changes_nothing(
    any_store, clock
):
    execution = await submit(any_store, clock, tenant="acme")

    with pytest.raises(NotFound):
        await any_store.request_cancel("globex", execution.id, clock.now())
    assert await any_store.get("acme", execution.id) == execution


async def test_retrying_another_tenants_execution_is_not_found(any_store, clock):
    execution = await submit(any_store, clock, tenant="acme")
    await any_store.request_cancel("acme", execution.id, clock.now())

    with pytest.raises(NotFound):
        await any_store.retry("globex", execution.id, clock.now())
    assert (await any_store.get("acme", execution.id)).state == State.CANCELLED


async def test_another_tenants_events_are_not_visible(any_store, clock):
    await submit(any_store, clock, tenant="acme")
    running = await claim_one(any_store, clock)
    await any_store.append_event(running.claim(), "llm", "asked", clock.now())

    assert await any_store.events("globex", running.id) == []
    assert len(await any_store.events("acme", running.id)) == 1


# --- listing ---------------------------------------------------------------------------------


async def test_listing_is_newest_first_with_cursor_pagination(any_store, clock):
    ids = [(await submit(any_store, clock)).id for _ in range(5)]
    newest_first = sorted(ids, reverse=True)

    first = await any_store.list_executions("acme", first=2)
    second = await any_store.list_executions("acme", first=2, after=first.items[-1].id)
    last = await any_store.list_executions("acme", first=2, after=second.items[-1].id)

    assert [e.id for e in first.items + second.items + last.items] == newest_first
    assert (first.has_next, second.has_next, last.has_next) == (True, True, False)


async def test_listing_filters_by_state(any_store, clock):
    pending = await submit(any_store, clock)
    cancelled = await submit(any_store, clock)
    await any_store.request_cancel("acme", cancelled.id, clock.now())

    page = await any_store.list_executions("acme", state=State.PENDING)

    assert [e.id for e in page.items] == [pending.id]


async def test_listing_filters_by_agent(any_store, clock):
    echo = await submit(any_store, clock, agent="echo")
    await submit(any_store, clock, agent="flaky")

    page = await any_store.list_executions("acme", agent="echo")

    assert [e.id for e in page.items] == [echo.id]


# --- claiming --------------------------------------------------------------------------------


async def test_many_concurrent_claimers_of_one_due_execution_have_exactly_one_winner(
    any_store, clock
):
    execution = await submit(any_store, clock)

    results = await asyncio.gather(
        *(any_store.claim_next(f"w{i}", clock.now(), LEASE, 1) for i in range(24))
    )

    winners = [claimed for claimed in results if claimed]
    assert len(winners) == 1
    [won] = winners[0]
    assert won.id == execution.id
    assert won.state == State.RUNNING
    assert won.executions == 1
    assert await any_store.get("acme", execution.id) == won


async def test_a_claim_sets_the_holder_lease_and_start_times(any_store, clock):
    await submit(any_store, clock)

    claimed = await claim_one(any_store, clock, "w7")

    assert claimed.worker_id == "w7"
    assert claimed.lease_expires_at == clock.now() + timedelta(seconds=LEASE)
    assert claimed.started_at == claimed.attempt_started_at == clock.now()


async def test_an_execution_that_is_not_yet_due_is_not_claimed(any_store, clock):
    later = clock.now() + timedelta(seconds=10)
    await any_store.submit(new(), later)

    assert await any_store.claim_next("w1", clock.now(), LEASE, 5) == []
    clock.advance(10)
    assert len(await any_store.claim_next("w1", clock.now(), LEASE, 5)) == 1


async def test_claims_take_the_highest_priority_first_then_the_oldest(any_store, clock):
    old_low = await submit(any_store, clock, priority=0)
    clock.advance(1)
    high = await submit(any_store, clock, priority=9)
    clock.advance(1)
    new_low = await submit(any_store, clock, priority=0)

    order = [(await claim_one(any_store, clock, f"w{i}")).id for i in range(3)]

    assert order == [high.id, old_low.id, new_low.id]


async def test_a_batch_claim_returns_executions_in_claim_order(any_store, clock):
    old_low = await submit(any_store, clock, priority=0)
    clock.advance(1)
    high = await submit(any_store, clock, priority=9)

    claimed = await any_store.claim_next("w1", clock.now(), LEASE, 5)

    assert [e.id for e in claimed] == [high.id, old_low.id]


async def test_an_expired_lease_of_higher_priority_is_taken_over_before_pending_work(
    any_store, clock
):
    urgent = await submit(any_store, clock, priority=9)
    await claim_one(any_store, clock, "w1")
    clock.advance(LEASE + 1)
    await submit(any_store, clock, priority=0)

    assert (await claim_one(any_store, clock, "w2")).id == urgent.id


async def test_a_claim_takes_at_most_its_limit(any_store, clock):
    for _ in range(5):
        await submit(any_store, clock)

    assert len(await any_store.claim_next("w1", clock.now(), LEASE, 3)) == 3
    assert len(await any_store.claim_next("w2", clock.now(), LEASE, 3)) == 2


async def test_a_running_execution_with_a_live_lease_is_not_claimed(any_store, clock):
    await submit(any_store, clock)
    await claim_one(any_store, clock, "w1")
    clock.advance(LEASE - 1)

    assert await any_store.claim_next("w2", clock.now(), LEASE, 1) == []


async def test_a_lease_is_not_taken_over_at_the_instant_it_expires(any_store, clock):
    await submit(any_store, clock)
    await claim_one(any_store, clock, "w1")
    clock.advance(LEASE)

    assert await any_store.claim_next("w2", clock.now(), LEASE, 1) == []


async def test_an_expired_lease_is_taken_over_and_the_lost_attempt_recorded(any_store, clock):
    first, second = await taken_over(any_store, clock)

    assert second.id == first.id
    assert second.worker_id == "w2"
    assert second.executions == 2
    assert second.failed_attempts == 1
    assert second.started_at == first.started_at
    [lost] = second.attempts
    assert (lost.number, lost.worker_id, lost.outcome) == (1, "w1", Outcome.LOST)
    assert lost.started_at == first.attempt_started_at
    assert lost.ended_at == clock.now()
    assert lost.error is not None and lost.error.type == "LeaseExpired"


async def test_a_cancel_requested_before_a_takeover_is_kept(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock, "w1")
    await any_store.request_cancel("acme", running.id, clock.now())
    clock.advance(LEASE + 1)

    second = await claim_one(any_store, clock, "w2")

    assert second.cancel_requested is True


# --- fencing ---------------------------------------------------------------------------------


def _stale_writes(store: Store, old: Execution, clock: ManualClock):
    claim, now = old.claim(), clock.now()
    failed = ended(old, clock, Outcome.RETRYING, error=ErrorInfo(type="RateLimited", message="x"))
    return {
        "renew_lease": lambda: store.renew_lease(claim, now, LEASE),
        "append_event": lambda: store.append_event(claim, "llm", "late", now),
        "park_for_retry": lambda: store.park_for_retry(claim, now, now, failed),
        "finish": lambda: store.finish(
            claim, now, State.SUCCEEDED, ended(old, clock, Outcome.SUCCEEDED), result={"a": 1}
        ),
        "release": lambda: store.release(claim, now, ended(old, clock, Outcome.RELEASED)),
    }


@pytest.mark.parametrize(
    "write", ["renew_lease", "append_event", "park_for_retry", "finish", "release"]
)
async def test_a_write_with_a_lost_claim_is_refused_and_changes_nothing(any_store, clock, write):
    old, current = await taken_over(any_store, clock)
    clock.advance(1)

    outcome = await _stale_writes(any_store, old, clock)[write]()

    assert outcome in (None, False)
    assert await any_store.get("acme", current.id) == current
    assert await any_store.events("acme", current.id) == []


async def test_a_write_with_a_made_up_worker_id_is_refused(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock, "w1")
    forged = Claim(running.id, running.executions, "intruder")

    assert await any_store.renew_lease(forged, clock.now(), LEASE) is None
    assert await any_store.get("acme", running.id) == running


# --- the holder's writes ---------------------------------------------------------------------


async def test_renewing_a_lease_extends_it(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    clock.advance(20)

    renewal = await any_store.renew_lease(running.claim(), clock.now(), LEASE)

    assert renewal is not None
    assert renewal.lease_expires_at == clock.now() + timedelta(seconds=LEASE)
    assert renewal.cancel_requested is False
    stored = await any_store.get("acme", running.id)
    assert stored.lease_expires_at == renewal.lease_expires_at


async def test_a_renewed_lease_is_not_taken_over_at_the_original_expiry(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock, "w1")
    clock.advance(20)
    await any_store.renew_lease(running.claim(), clock.now(), LEASE)
    clock.advance(20)

    assert await any_store.claim_next("w2", clock.now(), LEASE, 1) == []


async def test_parking_for_retry_makes_it_pending_later_and_counts_the_failure(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    clock.advance(2)
    later = clock.now() + timedelta(seconds=60)
    usage = Usage(llm_calls_failed=1, prompt_tokens=10)
    error = ErrorInfo(type="RateLimited", message="429", retryable=True)
    attempt = ended(running, clock, Outcome.RETRYING, error=error, usage=usage)

    assert await any_store.park_for_retry(running.claim(), clock.now(), later, attempt) is True

    parked = await any_store.get("acme", running.id)
    assert parked.state == State.PENDING
    assert parked.available_at == later
    assert parked.failed_attempts == 1
    assert parked.attempts == [attempt]
    assert parked.usage == usage
    assert parked.worker_id is None and parked.lease_expires_at is None
    assert parked.finished_at is None


async def test_a_parked_execution_is_claimed_again_once_due_with_usage_accumulated(
    any_store, clock
):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    usage = Usage(llm_calls_ok=1, prompt_tokens=10, cost_usd=0.25)
    attempt = ended(running, clock, Outcome.RETRYING, usage=usage)
    await any_store.park_for_retry(running.claim(), clock.now(), clock.now(), attempt)
    again = await claim_one(any_store, clock, "w2")

    await any_store.finish(
        again.claim(),
        clock.now(),
        State.SUCCEEDED,
        ended(again, clock, Outcome.SUCCEEDED, usage=usage),
    )

    done = await any_store.get("acme", running.id)
    assert again.executions == 2
    assert done.usage == usage + usage
    assert [a.number for a in done.attempts] == [1, 2]


async def test_finishing_as_succeeded_stores_the_result(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    clock.advance(3)
    attempt = ended(running, clock, Outcome.SUCCEEDED)

    ok = await any_store.finish(
        running.claim(), clock.now(), State.SUCCEEDED, attempt, result={"message": "hi"}
    )

    done = await any_store.get("acme", running.id)
    assert ok is True
    assert done.state == State.SUCCEEDED
    assert done.result == {"message": "hi"}
    assert done.error is None
    assert done.finished_at == clock.now()
    assert done.failed_attempts == 0
    assert done.attempts == [attempt]
    assert done.worker_id is None and done.lease_expires_at is None


async def test_finishing_as_failed_stores_the_error_and_counts_the_attempt(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    error = ErrorInfo(type="AuthenticationFailed", message="bad key")
    attempt = ended(running, clock, Outcome.FAILED, error=error)

    await any_store.finish(running.claim(), clock.now(), State.FAILED, attempt, error=error)

    done = await any_store.get("acme", running.id)
    assert done.state == State.FAILED
    assert done.error == error
    assert done.result is None
    assert done.failed_attempts == 1
    assert done.finished_at == clock.now()


async def test_finishing_as_cancelled_ends_the_execution(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    attempt = ended(running, clock, Outcome.CANCELLED)

    await any_store.finish(running.claim(), clock.now(), State.CANCELLED, attempt)

    done = await any_store.get("acme", running.id)
    assert done.state == State.CANCELLED
    assert done.failed_attempts == 0
    assert done.finished_at == clock.now()


async def test_a_finished_execution_is_never_claimed_again(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    attempt = ended(running, clock, Outcome.SUCCEEDED)
    await any_store.finish(running.claim(), clock.now(), State.SUCCEEDED, attempt, result={})
    clock.advance(LEASE * 10)

    assert await any_store.claim_next("w2", clock.now(), LEASE, 5) == []


async def test_a_second_finish_by_the_same_holder_is_refused(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    attempt = ended(running, clock, Outcome.SUCCEEDED)
    await any_store.finish(running.claim(), clock.now(), State.SUCCEEDED, attempt, result={})

    again = await any_store.finish(
        running.claim(), clock.now(), State.FAILED, attempt, error=ErrorInfo(type="X", message="x")
    )

    assert again is False
    assert (await any_store.get("acme", running.id)).state == State.SUCCEEDED


async def test_a_release_makes_it_pending_and_due_now_without_counting_a_failure(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    clock.advance(5)
    attempt = ended(running, clock, Outcome.RELEASED)

    assert await any_store.release(running.claim(), clock.now(), attempt) is True

    released = await any_store.get("acme", running.id)
    assert released.state == State.PENDING
    assert released.available_at == clock.now()
    assert released.failed_attempts == 0
    assert released.attempts == [attempt]
    assert released.worker_id is None
    assert (await claim_one(any_store, clock, "w2")).executions == 2


async def test_attempts_keep_only_the_newest_records(any_store, clock):
    await submit(any_store, clock)
    for _ in range(ATTEMPTS_KEPT + 3):
        running = await claim_one(any_store, clock)
        await any_store.release(
            running.claim(), clock.now(), ended(running, clock, Outcome.RELEASED)
        )

    stored = await any_store.get("acme", running.id)

    assert len(stored.attempts) == ATTEMPTS_KEPT
    assert [a.number for a in stored.attempts] == list(range(4, ATTEMPTS_KEPT + 4))


# --- progress events -------------------------------------------------------------------------


async def test_events_are_numbered_in_order_and_read_after_a_sequence_number(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    for step in range(5):
        clock.advance(1)
        event = await any_store.append_event(
            running.claim(), "tool", f"step {step}", clock.now(), tool="search"
        )
        assert event is not None and event.seq == step + 1 and event.attempt == 1

    later = await any_store.events("acme", running.id, after_seq=2)

    assert [e.seq for e in later] == [3, 4, 5]
    assert [e.summary for e in later] == ["step 2", "step 3", "step 4"]
    assert later[0].tool == "search"
    assert (await any_store.get("acme", running.id)).event_seq == 5


async def test_events_are_read_up_to_the_limit(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    for _ in range(4):
        await any_store.append_event(running.claim(), "llm", "asked", clock.now())

    assert [e.seq for e in await any_store.events("acme", running.id, limit=2)] == [1, 2]


# --- cancel and retry ------------------------------------------------------------------------


async def test_cancelling_a_pending_execution_cancels_it_at_once(any_store, clock):
    execution = await submit(any_store, clock)
    clock.advance(1)

    cancelled = await any_store.request_cancel("acme", execution.id, clock.now())

    assert cancelled.state == State.CANCELLED
    assert cancelled.finished_at == clock.now()
    assert await any_store.get("acme", execution.id) == cancelled
    assert await any_store.claim_next("w1", clock.now(), LEASE, 1) == []


async def test_cancelling_a_running_execution_asks_its_holder_to_stop(any_store, clock):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)

    cancelling = await any_store.request_cancel("acme", running.id, clock.now())
    renewal = await any_store.renew_lease(running.claim(), clock.now(), LEASE)

    assert cancelling.state == State.RUNNING
    assert cancelling.cancel_requested is True
    assert renewal is not None and renewal.cancel_requested is True


async def test_cancelling_a_cancelled_execution_returns_it_unchanged(any_store, clock):
    execution = await submit(any_store, clock)
    cancelled = await any_store.request_cancel("acme", execution.id, clock.now())
    clock.advance(1)

    assert await any_store.request_cancel("acme", execution.id, clock.now()) == cancelled


@pytest.mark.parametrize("final", [State.SUCCEEDED, State.FAILED])
async def test_cancelling_a_finished_execution_is_a_conflict(any_store, clock, final):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    outcome = Outcome.SUCCEEDED if final == State.SUCCEEDED else Outcome.FAILED
    await any_store.finish(running.claim(), clock.now(), final, ended(running, clock, outcome))
    before = await any_store.get("acme", running.id)

    with pytest.raises(StateConflict):
        await any_store.request_cancel("acme", running.id, clock.now())
    assert await any_store.get("acme", running.id) == before


async def test_cancelling_an_unknown_execution_is_not_found(any_store, clock):
    with pytest.raises(NotFound):
        await any_store.request_cancel("acme", "does-not-exist", clock.now())


async def test_retrying_a_failed_execution_gives_it_a_fresh_budget_and_keeps_history(
    any_store, clock
):
    await submit(any_store, clock)
    running = await claim_one(any_store, clock)
    error = ErrorInfo(type="AuthenticationFailed", message="bad key")
    attempt = ended(running, clock, Outcome.FAILED, error=error)
    await any_store.finish(running.claim(), clock.now(), State.FAILED, attempt, error=error)
    clock.advance(60)

    retried = await any_store.retry("acme", running.id, clock.now())

    assert retried.state == State.PENDING
    assert retried.available_at == clock.now()
    assert retried.failed_attempts == 0
    assert retried.attempts == [attempt]
    assert retried.error is None and retried.finished_at is None
    assert (await claim_one(any_store, clock, "w2")).executions == 2


async def test_retrying_a_cancelled_execution_makes_it_pending(any_store, clock):
    execution = await submit(any_store, clock)
    await any_store.request_cancel("acme", execution.id, clock.now())

    retried = await any_store.retry("acme", execution.id, clock.now())

    assert retried.state == State.PENDING
    assert retried.cancel_requested is False


@pytest.mark.parametrize("running", [False, True])
async def test_retrying_a_pending_or_running_execution_is_a_conflict(any_store, clock, running):
    execution = await submit(any_store, clock)
    if running:
        execution = await claim_one(any_store, clock)

    with pytest.raises(StateConflict):
        await any_store.retry("acme", execution.id, clock.now())
    assert await any_store.get("acme", execution.id) == execution


async def test_retrying_an_unknown_execution_is_not_found(any_store, clock):
    with pytest.raises(NotFound):
        await any_store.retry("acme", "does-not-exist", clock.now())


# --- stats and API keys ----------------------------------------------------------------------


async def test_stats_count_states_and_find_the_oldest_due_pending(any_store, clock):
    await submit(any_store, clock)  # the oldest: claimed below, so RUNNING
    clock.advance(1)
    second = await submit(any_store, clock)
    await any_store.submit(new(), clock.now() + timedelta(seconds=100))  # not due yet
    cancelled = await submit(any_store, clock)
    await any_store.request_cancel("acme", cancelled.id, clock.now())
    await submit(any_store, clock, tenant="globex")
    await claim_one(any_store, clock)
    clock.advance(1)

    mine = await any_store.stats("acme", clock.now())
    everyone = await any_store.stats(None, clock.now())

    def counts(stats):
        return {state: stats.counts.get(state, 0) for state in State if stats.counts.get(state)}

    assert counts(mine) == {State.PENDING: 2, State.RUNNING: 1, State.CANCELLED: 1}
    assert counts(everyone) == {State.PENDING: 3, State.RUNNING: 1, State.CANCELLED: 1}
    assert mine.oldest_due_pending_at == everyone.oldest_due_pending_at == second.available_at


async def test_stats_of_an_empty_store_have_no_oldest_pending(any_store, clock):
    stats = await any_store.stats(None, clock.now())

    assert sum(stats.counts.values()) == 0
    assert stats.oldest_due_pending_at is None


async def test_an_api_key_maps_to_its_tenant(any_store, clock):
    await any_store.create_api_key("acme", "hash-1", clock.now())

    assert await any_store.tenant_for_key("hash-1") == "acme"


async def test_an_unknown_api_key_maps_to_no_tenant(any_store, clock):
    await any_store.create_api_key("acme", "hash-1", clock.now())

    assert await any_store.tenant_for_key("hash-2") is None
