"""Schedules fire each tick exactly once across competing workers (injected clock)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from common.clock import ManualClock
from common.domain import NewExecution, Outcome, Overlap, Schedule, State, new_id
from common.schedules import next_tick, tick_key
from common.store.base import Store
from worker.scheduler import Scheduler


async def make_schedule(store: Store, clock: ManualClock, **kw) -> Schedule:
    now = clock.now()
    cron = kw.pop("cron", "* * * * *")
    schedule = Schedule(
        id=new_id(),
        tenant="t1",
        agent="echo",
        input={"message": "tick"},
        cron=cron,
        timezone="UTC",
        max_attempts=3,
        next_fire_at=next_tick(cron, "UTC", now),
        created_at=now,
        updated_at=now,
        **kw,
    )
    return await store.create_schedule(schedule)


async def fired_executions(store: Store, schedule_id: str) -> list:
    page = await store.list_executions("t1", first=200)
    return [e for e in page.items if e.schedule_id == schedule_id]


async def test_every_minute_fires_once_per_tick_with_four_workers_over_ten_minutes(
    any_store, clock
):
    schedule = await make_schedule(any_store, clock, overlap=Overlap.ALLOW)
    workers = [Scheduler(any_store, clock) for _ in range(4)]
    won = []
    for _ in range(10):
        clock.advance(60)
        results = await asyncio.gather(*(w.fire_due() for w in workers))
        won.extend(f for r in results for f in r)
        # a late fifth look at the same minute finds nothing due
        assert await Scheduler(any_store, clock).fire_due() == []

    executions = await fired_executions(any_store, schedule.id)
    assert len(executions) == 10
    assert len(won) == 10  # exactly one worker won each tick
    assert len({e.idempotency_key for e in executions}) == 10
    assert sorted(f.execution_id for f in won) == sorted(e.id for e in executions)


async def test_after_downtime_only_the_latest_missed_tick_fires(any_store, clock):
    schedule = await make_schedule(any_store, clock, overlap=Overlap.ALLOW)
    clock.advance(10 * 60 + 30)  # ten ticks missed
    fired = await Scheduler(any_store, clock).fire_due()
    assert len(fired) == 1
    latest = clock.now().replace(second=0, microsecond=0)
    assert fired[0].tick == latest.isoformat()
    after = await any_store.get_schedule("t1", schedule.id)
    assert after.next_fire_at == latest + timedelta(minutes=1)


async def test_skip_overlap_skips_a_tick_while_the_previous_run_is_unfinished(any_store, clock):
    schedule = await make_schedule(any_store, clock, overlap=Overlap.SKIP)
    scheduler = Scheduler(any_store, clock)
    clock.advance(60)
    (first,) = await scheduler.fire_due()
    assert first.execution_id is not None

    clock.advance(60)  # the first run is still PENDING
    (skipped,) = await scheduler.fire_due()
    assert skipped.execution_id is None

    (claimed,) = await any_store.claim_next("w1", clock.now(), 30, 1)
    attempt = _attempt(claimed, clock)
    await any_store.finish(claimed.claim(), clock.now(), State.SUCCEEDED, attempt, result={})
    clock.advance(60)
    (second,) = await scheduler.fire_due()
    assert second.execution_id not in (None, first.execution_id)
    assert len(await fired_executions(any_store, schedule.id)) == 2


async def test_a_crash_between_submit_and_advance_refires_into_the_same_execution(any_store, clock):
    schedule = await make_schedule(any_store, clock, overlap=Overlap.ALLOW)
    clock.advance(60)
    tick = schedule.next_fire_at
    # a worker submitted the tick's execution, then died before advancing the schedule
    orphan, _ = await any_store.submit(
        NewExecution(
            tenant="t1",
            agent="echo",
            input={"message": "tick"},
            max_attempts=3,
            idempotency_key=tick_key(schedule.id, tick),
            schedule_id=schedule.id,
        ),
        clock.now(),
    )
    (fired,) = await Scheduler(any_store, clock).fire_due()
    assert fired.execution_id == orphan.id
    assert [e.id for e in await fired_executions(any_store, schedule.id)] == [orphan.id]


async def test_a_paused_schedule_does_not_fire(any_store, clock):
    schedule = await make_schedule(any_store, clock)
    await any_store.set_schedule_paused("t1", schedule.id, True, clock.now())
    clock.advance(300)
    assert await Scheduler(any_store, clock).fire_due() == []
    assert await fired_executions(any_store, schedule.id) == []


def _attempt(execution, clock):
    from common.domain import Attempt

    return Attempt(
        number=execution.executions,
        worker_id="w1",
        started_at=clock.now(),
        ended_at=clock.now(),
        outcome=Outcome.SUCCEEDED,
    )
