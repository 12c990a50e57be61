"""Recurring schedules on MongoDB: each read or write is one operation on one document."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from common.domain import Schedule
from common.errors import NotFound, StateConflict
from common.store import mongo_queries as q
from common.store.mongo_models import to_document, to_schedule

T = TypeVar("T")


class MongoSchedules:
    """`Store`'s schedule methods for `MongoStore` (mixed in; uses its `_call`)."""

    _schedules: Any

    if TYPE_CHECKING:

        async def _call(self, operation: Awaitable[T]) -> T: ...

    async def create_schedule(self, schedule: Schedule) -> Schedule:
        try:
            await self._call(self._schedules.insert_one(to_document(schedule)))
        except DuplicateKeyError as exc:
            raise StateConflict(f"schedule {schedule.id} already exists") from exc
        return schedule

    async def get_schedule(self, tenant: str, schedule_id: str) -> Schedule | None:
        doc = await self._call(self._schedules.find_one(q.schedule_filter(tenant, schedule_id)))
        return to_schedule(doc) if doc else None

    async def list_schedules(self, tenant: str) -> list[Schedule]:
        cursor = self._schedules.find(q.tenant_schedules_filter(tenant)).sort(q.SCHEDULE_ORDER)
        return [to_schedule(doc) for doc in await self._call(cursor.to_list())]

    async def delete_schedule(self, tenant: str, schedule_id: str) -> bool:
        result = await self._call(
            self._schedules.delete_one(q.schedule_filter(tenant, schedule_id))
        )
        return bool(result.deleted_count)

    async def set_schedule_paused(
        self,
        tenant: str,
        schedule_id: str,
        paused: bool,
        now: datetime,
        next_fire_at: datetime | None = None,
    ) -> Schedule:
        doc = await self._call(
            self._schedules.find_one_and_update(
                q.schedule_filter(tenant, schedule_id),
                q.pause_update(paused, now, next_fire_at),
                return_document=ReturnDocument.AFTER,
            )
        )
        if doc is None:
            raise NotFound(f"no schedule {schedule_id}")
        return to_schedule(doc)

    async def due_schedules(self, now: datetime, limit: int) -> list[Schedule]:
        if limit <= 0:  # MongoDB reads a limit of 0 as no limit at all
            return []
        cursor = (
            self._schedules.find(q.due_schedules_filter(now))
            .sort(q.DUE_SCHEDULE_ORDER)
            .limit(limit)
        )
        return [to_schedule(doc) for doc in await self._call(cursor.to_list())]

    async def advance_schedule(
        self,
        seen: Schedule,
        now: datetime,
        next_fire_at: datetime,
        fired_at: datetime | None,
        execution_id: str | None,
    ) -> Schedule | None:
        doc = await self._call(
            self._schedules.find_one_and_update(
                q.advance_filter(seen),
                q.advance_update(now, next_fire_at, fired_at, execution_id),
                return_document=ReturnDocument.AFTER,
            )
        )
        return to_schedule(doc) if doc else None
