"""Firing due schedules: each tick becomes exactly one execution across the whole fleet.

Every worker runs `fire_due` now and then. For each due schedule it submits the tick's execution
with the tick's idempotency key, then advances the schedule with an optimistic update on the
version it read. Two workers that race on one tick submit into the same execution (the unique
idempotency key decides) and only one advance wins; a worker that crashes between submit and
advance leaves the tick due, and whoever fires it next lands on the same execution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from common.clock import Clock
from common.domain import NewExecution, Overlap, Schedule
from common.schedules import latest_tick, next_tick, tick_key
from common.store.base import Store

log = logging.getLogger("agentfleet.scheduler")


@dataclass(frozen=True)
class Fired:
    schedule_id: str
    tick: str
    execution_id: str | None  # None: skipped because the previous run is unfinished


class Scheduler:
    def __init__(self, store: Store, clock: Clock, batch: int = 50) -> None:
        self.store = store
        self.clock = clock
        self.batch = batch

    async def fire_due(self) -> list[Fired]:
        """Fire (or skip) the latest due tick of every due schedule; returns what this call won."""
        now = self.clock.now()
        fired = []
        for schedule in await self.store.due_schedules(now, self.batch):
            outcome = await self._fire(schedule)
            if outcome is not None:
                fired.append(outcome)
        return fired

    async def _fire(self, schedule: Schedule) -> Fired | None:
        now = self.clock.now()
        # After downtime only the latest missed tick fires.
        tick = max(schedule.next_fire_at, latest_tick(schedule.cron, schedule.timezone, now))
        following = next_tick(schedule.cron, schedule.timezone, max(tick, now))
        if await self._previous_unfinished(schedule):
            won = await self.store.advance_schedule(schedule, now, following, None, None)
            if won is not None:
                log.info("schedule %s: tick %s skipped, previous run unfinished", schedule.id, tick)
            return Fired(schedule.id, tick.isoformat(), None) if won else None
        execution, _ = await self.store.submit(
            NewExecution(
                tenant=schedule.tenant,
                agent=schedule.agent,
                input=schedule.input,
                max_attempts=schedule.max_attempts,
                priority=schedule.priority,
                idempotency_key=tick_key(schedule.id, tick),
                schedule_id=schedule.id,
            ),
            now,
        )
        won = await self.store.advance_schedule(schedule, now, following, tick, execution.id)
        if won is None:
            return None  # another worker advanced this tick (into the same execution)
        log.info("schedule %s: tick %s fired as %s", schedule.id, tick, execution.id)
        return Fired(schedule.id, tick.isoformat(), execution.id)

    async def _previous_unfinished(self, schedule: Schedule) -> bool:
        if schedule.overlap is not Overlap.SKIP or schedule.last_execution_id is None:
            return False
        previous = await self.store.get(schedule.tenant, schedule.last_execution_id)
        return previous is not None and not previous.state.terminal
