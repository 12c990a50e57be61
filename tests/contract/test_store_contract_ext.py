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
from common.domain import (
    Attempt,
    Execution,
    NewExecution,
    Outcome,
    Overlap,
    Schedule,
    State,
    new_id,
)
from common.errors import NotFound, StateConflict
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


# --- schedules -------------------------------------------------------------------------------

MINUTE = 60


def schedule(clock: ManualClock, tenant: str = "acme", **fields) -> Schedule:
    """A schedule due every minute, next due one minute from now."""
    values = {
        "id": new_id(),
        "tenant": tenant,
        "agent": "echo",
        "input": {"message": "daily"},
        "cron": "* * * * *",
        "timezone": "Europe/Berlin",
        "overlap": Overlap.SKIP,
        "max_attempts": 3,
        "priority": 2,
        "next_fire_at": clock.now() + timedelta(seconds=MINUTE),
        "created_at": clock.now(),
        "updated_at": clock.now(),
    }
    return Schedule(**(values | fields))


async def created(store: Store, clock: ManualClock, **fields) -> Schedule:
    return await store.create_schedule(schedule(clock, **fields))


async def due_tick(store: Store, clock: ManualClock) -> Schedule:
    """A created schedule, read back from `due_schedules` once its tick has come."""
    made = await created(store, clock)
    clock.advance(MINUTE)
    [due] = await store.due_schedules(clock.now(), 10)
    assert due.id == made.id
    return due


async def test_a_created_schedule_reads_back_as_created(any_store, clock):
    made = await created(any_store, clock, overlap=Overlap.ALLOW, paused=True)

    assert await any_store.get_schedule("acme", made.id) == made


async def test_another_tenants_schedule_reads_as_none(any_store, clock):
    made = await created(any_store, clock, tenant="acme")

    assert await any_store.get_schedule("globex", made.id) is None
    assert await any_store.get_schedule("acme", "does-not-exist") is None


async def test_schedules_are_listed_per_tenant_oldest_first(any_store, clock):
    first = await created(any_store, clock, id="0001")
    second = await created(any_store, clock, id="0002")
    await created(any_store, clock, tenant="globex")

    assert await any_store.list_schedules("acme") == [first, second]


async def test_creating_a_schedule_with_an_existing_id_is_a_conflict(any_store, clock):
    made = await created(any_store, clock)

    with pytest.raises(StateConflict):
        await any_store.create_schedule(schedule(clock, id=made.id, agent="other"))
    assert await any_store.get_schedule("acme", made.id) == made


async def test_a_deleted_schedule_is_gone_and_never_due(any_store, clock):
    made = await created(any_store, clock)

    assert await any_store.delete_schedule("acme", made.id) is True

    clock.advance(MINUTE)
    assert await any_store.get_schedule("acme", made.id) is None
    assert await any_store.due_schedules(clock.now(), 10) == []
    assert await any_store.delete_schedule("acme", made.id) is False


async def test_deleting_another_tenants_schedule_is_refused_and_keeps_it(any_store, clock):
    made = await created(any_store, clock, tenant="acme")

    assert await any_store.delete_schedule("globex", made.id) is False
    assert await any_store.get_schedule("acme", made.id) == made


async def test_a_paused_schedule_is_not_due(any_store, clock):
    made = await created(any_store, clock)

    paused = await any_store.set_schedule_paused("acme", made.id, True, clock.now())

    assert paused.paused and paused.version == made.version + 1
    clock.advance(MINUTE * 5)
    assert await any_store.due_schedules(clock.now(), 10) == []


async def test_a_resumed_schedule_is_due_at_the_next_fire_time_it_was_given(any_store, clock):
    made = await created(any_store, clock)
    await any_store.set_schedule_paused("acme", made.id, True, clock.now())
    clock.advance(MINUTE * 5)
    upcoming = clock.now() + timedelta(seconds=30)

    resumed = await any_store.set_schedule_paused("acme", made.id, False, clock.now(), upcoming)

    assert not resumed.paused and resumed.next_fire_at == upcoming
    assert resumed.updated_at == clock.now() and resumed.version == made.version + 2
    assert await any_store.due_schedules(clock.now(), 10) == []
    clock.advance(30)
    assert [s.id for s in await any_store.due_schedules(clock.now(), 10)] == [made.id]


@pytest.mark.parametrize("tenant", ["acme", "globex"], ids=["unknown", "other-tenant"])
async def test_pausing_a_schedule_that_is_not_the_tenants_is_not_found(any_store, clock, tenant):
    made = await created(any_store, clock, tenant="acme")
    schedule_id = made.id if tenant == "globex" else "does-not-exist"

    with pytest.raises(NotFound):
        await any_store.set_schedule_paused(tenant, schedule_id, True, clock.now())
    assert await any_store.get_schedule("acme", made.id) == made


async def test_due_schedules_of_every_tenant_come_longest_due_first(any_store, clock):
    late = await created(any_store, clock, tenant="globex", next_fire_at=clock.now())
    soon = await created(any_store, clock, next_fire_at=clock.now() + timedelta(seconds=20))
    await created(any_store, clock, next_fire_at=clock.now() + timedelta(seconds=90))
    clock.advance(MINUTE)

    due = await any_store.due_schedules(clock.now(), 10)

    assert [s.id for s in due] == [late.id, soon.id]


async def test_due_schedules_are_read_up_to_the_limit(any_store, clock):
    for _ in range(3):
        await created(any_store, clock)
    clock.advance(MINUTE)

    assert len(await any_store.due_schedules(clock.now(), 2)) == 2
    assert await any_store.due_schedules(clock.now(), 0) == []


async def test_advancing_a_fired_tick_records_it_and_moves_to_the_next(any_store, clock):
    due = await due_tick(any_store, clock)
    following = due.next_fire_at + timedelta(seconds=MINUTE)

    advanced = await any_store.advance_schedule(
        due, clock.now(), following, due.next_fire_at, "exec-1"
    )

    assert advanced is not None
    assert advanced.next_fire_at == following and advanced.version == due.version + 1
    assert (advanced.last_fired_at, advanced.last_execution_id) == (due.next_fire_at, "exec-1")
    assert advanced.updated_at == clock.now()
    assert await any_store.get_schedule("acme", due.id) == advanced
    assert await any_store.due_schedules(clock.now(), 10) == []


async def test_advancing_a_skipped_tick_keeps_the_last_fired_execution(any_store, clock):
    due = await due_tick(any_store, clock)
    fired = await any_store.advance_schedule(
        due, clock.now(), due.next_fire_at + timedelta(seconds=MINUTE), due.next_fire_at, "e1"
    )
    assert fired is not None
    clock.advance(MINUTE)

    skipped = await any_store.advance_schedule(
        fired, clock.now(), fired.next_fire_at + timedelta(seconds=MINUTE), None, None
    )

    assert skipped is not None and skipped.version == fired.version + 1
    assert (skipped.last_fired_at, skipped.last_execution_id) == (due.next_fire_at, "e1")


async def test_concurrent_advances_of_one_seen_tick_have_exactly_one_winner(any_store, clock):
    due = await due_tick(any_store, clock)
    following = due.next_fire_at + timedelta(seconds=MINUTE)

    results = await asyncio.gather(
        *(
            any_store.advance_schedule(due, clock.now(), following, due.next_fire_at, f"e{i}")
            for i in range(10)
        )
    )

    winners = [advanced for advanced in results if advanced is not None]
    assert len(winners) == 1
    assert await any_store.get_schedule("acme", due.id) == winners[0]


async def test_an_advance_from_a_stale_read_is_refused_and_changes_nothing(any_store, clock):
    due = await due_tick(any_store, clock)
    following = due.next_fire_at + timedelta(seconds=MINUTE)
    won = await any_store.advance_schedule(due, clock.now(), following, due.next_fire_at, "e1")

    again = await any_store.advance_schedule(
        due, clock.now(), following + timedelta(seconds=MINUTE), due.next_fire_at, "e2"
    )

    assert again is None
    assert await any_store.get_schedule("acme", due.id) == won


async def test_a_paused_schedule_cannot_be_advanced(any_store, clock):
    due = await due_tick(any_store, clock)
    paused = await any_store.set_schedule_paused("acme", due.id, True, clock.now())

    advanced = await any_store.advance_schedule(
        paused, clock.now(), due.next_fire_at + timedelta(seconds=MINUTE), due.next_fire_at, "e1"
    )

    assert advanced is None
    assert await any_store.get_schedule("acme", due.id) == paused


async def test_a_tick_read_before_a_pause_and_resume_cannot_be_advanced(any_store, clock):
    due = await due_tick(any_store, clock)
    await any_store.set_schedule_paused("acme", due.id, True, clock.now())
    resumed = await any_store.set_schedule_paused("acme", due.id, False, clock.now())

    advanced = await any_store.advance_schedule(
        due, clock.now(), due.next_fire_at + timedelta(seconds=MINUTE), due.next_fire_at, "e1"
    )

    assert advanced is None
    assert await any_store.get_schedule("acme", due.id) == resumed


async def test_an_execution_submitted_for_a_schedule_keeps_its_schedule_id(any_store, clock):
    execution = await submit(any_store, clock, schedule_id="sched-1", idempotency_key="tick-1")

    assert (await any_store.get("acme", execution.id)).schedule_id == "sched-1"
    listed = await any_store.list_executions("acme")
    assert [e.schedule_id for e in listed.items] == ["sched-1"]


# --- tenant fairness -------------------------------------------------------------------------


async def backlog(store: Store, clock: ManualClock, tenant: str, n: int, **fields) -> list[str]:
    """`n` due executions of `tenant`, each a second older than the next."""
    ids = []
    for _ in range(n):
        ids.append((await submit(store, clock, tenant=tenant, **fields)).id)
        clock.advance(1)
    return ids


def tenants_of(claimed: list[Execution]) -> list[str]:
    return sorted(execution.tenant for execution in claimed)


async def test_a_claim_interleaves_tenants_so_a_newer_execution_is_not_starved(any_store, clock):
    await backlog(any_store, clock, "acme", 50)
    [newer] = await backlog(any_store, clock, "globex", 1)

    claimed = await any_store.claim_next("w1", clock.now(), LEASE, 2)

    assert tenants_of(claimed) == ["acme", "globex"]
    assert newer in {execution.id for execution in claimed}


async def test_after_one_tenants_claim_the_next_claim_serves_the_other(any_store, clock):
    await backlog(any_store, clock, "acme", 50)
    await backlog(any_store, clock, "globex", 1)

    first = await any_store.claim_next("w1", clock.now(), LEASE, 1)
    second = await any_store.claim_next("w1", clock.now(), LEASE, 1)

    assert tenants_of(first + second) == ["acme", "globex"]


async def test_each_tenant_keeps_its_own_claim_order(any_store, clock):
    acme = await backlog(any_store, clock, "acme", 3)
    urgent = await submit(any_store, clock, tenant="acme", priority=5)
    globex = await backlog(any_store, clock, "globex", 3)

    claimed = await any_store.claim_next("w1", clock.now(), LEASE, 4)

    mine = [e.id for e in claimed if e.tenant == "acme"]
    theirs = [e.id for e in claimed if e.tenant == "globex"]
    assert mine == [urgent.id, acme[0]] and theirs == globex[:2]


async def test_a_tenant_with_fewer_executions_in_flight_is_served_first(any_store, clock):
    await backlog(any_store, clock, "acme", 10)
    await any_store.claim_next("w1", clock.now(), LEASE, 3)  # acme has 3 in flight
    await backlog(any_store, clock, "globex", 10)

    claimed = await any_store.claim_next("w2", clock.now(), LEASE, 4)

    assert tenants_of(claimed).count("globex") >= 3


async def test_a_claim_over_several_tenants_takes_up_to_its_limit(any_store, clock):
    for tenant in ("acme", "globex", "initech"):
        await backlog(any_store, clock, tenant, 5)

    claimed = await any_store.claim_next("w1", clock.now(), LEASE, 8)

    assert len(claimed) == 8
    assert all(tenants_of(claimed).count(t) >= 2 for t in ("acme", "globex", "initech"))


async def test_a_tenant_cap_limits_one_claim(any_store, clock):
    await backlog(any_store, clock, "acme", 10)

    claimed = await any_store.claim_next("w1", clock.now(), LEASE, 8, tenant_cap=3)

    assert len(claimed) == 3


async def test_a_tenant_at_its_cap_gets_no_more_claims_while_others_do(any_store, clock):
    await backlog(any_store, clock, "acme", 10)
    await any_store.claim_next("w1", clock.now(), LEASE, 2, tenant_cap=2)
    assert await any_store.claim_next("w2", clock.now(), LEASE, 8, tenant_cap=2) == []
    [theirs] = await backlog(any_store, clock, "globex", 1)

    claimed = await any_store.claim_next("w2", clock.now(), LEASE, 8, tenant_cap=2)

    assert [execution.id for execution in claimed] == [theirs]


async def test_a_tenant_under_its_cap_again_is_claimed_again(any_store, clock):
    await backlog(any_store, clock, "acme", 10)
    [held, _] = await any_store.claim_next("w1", clock.now(), LEASE, 2, tenant_cap=2)
    attempt = ended(held, clock, Outcome.SUCCEEDED)
    await any_store.finish(held.claim(), clock.now(), State.SUCCEEDED, attempt, result={})

    claimed = await any_store.claim_next("w2", clock.now(), LEASE, 8, tenant_cap=2)

    assert len(claimed) == 1


async def test_expired_leases_of_a_capped_tenant_do_not_count_as_running(any_store, clock):
    await backlog(any_store, clock, "acme", 10)
    crashed = await any_store.claim_next("w1", clock.now(), LEASE, 2, tenant_cap=2)
    clock.advance(LEASE + 1)

    claimed = await any_store.claim_next("w2", clock.now(), LEASE, 8, tenant_cap=2)

    assert len(claimed) == 2
    assert {e.id for e in claimed} == {e.id for e in crashed}  # the oldest: taken over
    assert all(e.attempts[-1].outcome == Outcome.LOST for e in claimed)


async def test_an_expired_lease_of_another_tenant_is_taken_over_beside_pending_work(
    any_store, clock
):
    [crashed] = await backlog(any_store, clock, "globex", 1)
    await any_store.claim_next("w1", clock.now(), LEASE, 1)
    clock.advance(LEASE + 1)
    await backlog(any_store, clock, "acme", 5)

    claimed = await any_store.claim_next("w2", clock.now(), LEASE, 2)

    assert tenants_of(claimed) == ["acme", "globex"]
    assert crashed in {execution.id for execution in claimed}


async def test_concurrent_claimers_over_several_tenants_claim_each_execution_once(any_store, clock):
    submitted = set()
    for tenant in ("acme", "globex", "initech"):
        submitted |= set(await backlog(any_store, clock, tenant, 12))

    results = await asyncio.gather(
        *(any_store.claim_next(f"w{i}", clock.now(), LEASE, 4) for i in range(12))
    )

    claimed = [execution.id for batch in results for execution in batch]
    assert len(claimed) == len(set(claimed))
    assert set(claimed) <= submitted


# --- every end of an attempt -----------------------------------------------------------------


@pytest.mark.parametrize("outcome", [Outcome.DEFERRED, Outcome.RETRYING, Outcome.SUCCEEDED])
async def test_an_ended_attempt_leaves_no_holder_lease_or_attempt_start_behind(
    any_store, clock, outcome
):
    await submit(any_store, clock)
    held = await claim_one(any_store, clock)
    attempt = ended(held, clock, outcome)
    if outcome is Outcome.DEFERRED:
        await any_store.release(held.claim(), clock.now(), attempt, clock.now())
    elif outcome is Outcome.RETRYING:
        await any_store.park_for_retry(held.claim(), clock.now(), clock.now(), attempt)
    else:
        await any_store.finish(held.claim(), clock.now(), State.SUCCEEDED, attempt, result={})

    after = await any_store.get("acme", held.id)
    assert (after.worker_id, after.lease_expires_at, after.attempt_started_at) == (None,) * 3
