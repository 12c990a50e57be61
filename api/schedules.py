"""Recurring schedules: create, list, pause, resume, delete. Workers fire the ticks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.errors import bad_input
from api.validation import validate_submission
from common import domain
from common.domain import new_id
from common.errors import NotFound
from common.schedules import InvalidSchedule, next_tick, validate


@strawberry.enum(description="What a tick does while the schedule's previous run is unfinished.")
class ScheduleOverlap(enum.Enum):
    SKIP = "SKIP"
    ALLOW = "ALLOW"


@strawberry.type(description="A recurring execution of an agent on a cron schedule.")
class Schedule:
    id: strawberry.ID
    agent: str
    input: JSON
    cron: str
    timezone: str
    overlap: ScheduleOverlap
    paused: bool
    max_attempts: int
    priority: int
    next_fire_at: datetime
    last_fired_at: datetime | None
    last_execution_id: strawberry.ID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, s: domain.Schedule) -> Schedule:
        return cls(
            id=strawberry.ID(s.id),
            agent=s.agent,
            input=JSON(s.input),
            cron=s.cron,
            timezone=s.timezone,
            overlap=ScheduleOverlap(s.overlap.value),
            paused=s.paused,
            max_attempts=s.max_attempts,
            priority=s.priority,
            next_fire_at=s.next_fire_at,
            last_fired_at=s.last_fired_at,
            last_execution_id=strawberry.ID(s.last_execution_id) if s.last_execution_id else None,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


def _checked_cron(cron: str, timezone: str) -> None:
    try:
        validate(cron, timezone)
    except InvalidSchedule as exc:
        raise bad_input(str(exc), fields=["cron" if "cron" in str(exc) else "timezone"]) from None


@strawberry.type
class ScheduleQueries:
    @strawberry.field(description="Your schedules, oldest first.")
    async def schedules(self, info: Info) -> list[Schedule]:
        tenant = await info.context.tenant()
        return [
            Schedule.from_domain(s) for s in await info.context.deps.store.list_schedules(tenant)
        ]


@strawberry.type
class ScheduleMutations:
    @strawberry.mutation(
        description=(
            "Run an agent on a cron schedule (5 fields, evaluated in `timezone`). With overlap "
            "SKIP a tick is skipped while the previous run is unfinished; after downtime only "
            "the latest missed tick fires."
        )
    )
    async def create_schedule(
        self,
        info: Info,
        agent: str,
        input_: Annotated[JSON, strawberry.argument(name="input")],
        cron: str,
        timezone: str = "UTC",
        overlap: ScheduleOverlap = ScheduleOverlap.SKIP,
        max_attempts: int | None = None,
        priority: int | None = None,
    ) -> Schedule:
        deps = info.context.deps
        tenant = await info.context.tenant()
        _checked_cron(cron, timezone)
        checked = validate_submission(
            settings=deps.settings,
            registry=deps.registry,
            tenant=tenant,
            agent=agent,
            raw_input=input_,
            idempotency_key=None,
            priority=priority,
            max_attempts=max_attempts,
        )
        now = deps.clock.now()
        schedule = domain.Schedule(
            id=new_id(),
            tenant=tenant,
            agent=agent,
            input=checked.input,
            cron=cron,
            timezone=timezone,
            overlap=domain.Overlap(overlap.value),
            max_attempts=checked.max_attempts,
            priority=checked.priority,
            next_fire_at=next_tick(cron, timezone, now),
            created_at=now,
            updated_at=now,
        )
        return Schedule.from_domain(await deps.store.create_schedule(schedule))

    @strawberry.mutation(description="Stop firing ticks until resumed.")
    async def pause_schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        deps = info.context.deps
        tenant = await info.context.tenant()
        paused = await deps.store.set_schedule_paused(tenant, str(id), True, deps.clock.now())
        return Schedule.from_domain(paused)

    @strawberry.mutation(description="Fire again from the next tick on; missed ticks are not run.")
    async def resume_schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        deps = info.context.deps
        tenant = await info.context.tenant()
        current = await deps.store.get_schedule(tenant, str(id))
        if current is None:
            raise NotFound(f"no schedule {id}")
        now = deps.clock.now()
        following = next_tick(current.cron, current.timezone, now)
        resumed = await deps.store.set_schedule_paused(tenant, str(id), False, now, following)
        return Schedule.from_domain(resumed)

    @strawberry.mutation(description="Delete a schedule; executions it fired are kept.")
    async def delete_schedule(self, info: Info, id: strawberry.ID) -> bool:
        tenant = await info.context.tenant()
        if not await info.context.deps.store.delete_schedule(tenant, str(id)):
            raise NotFound(f"no schedule {id}")
        return True
