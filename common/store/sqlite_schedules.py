"""Recurring schedules on SQLite: each read or write is one statement, so none needs a lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from common.domain import Schedule
from common.errors import NotFound, StateConflict
from common.store import sqlite_schema as sql
from common.store.sqlite_schema import row_to_schedule, schedule_to_row, to_us

T = TypeVar("T")


class SqliteSchedules:
    """`Store`'s schedule methods for `SqliteStore` (mixed in; uses its `_run`)."""

    if TYPE_CHECKING:

        async def _run(self, operation: Callable[..., T], *args: Any) -> T: ...

    async def create_schedule(self, schedule: Schedule) -> Schedule:
        await self._run(_insert_schedule, schedule_to_row(schedule))
        return schedule

    async def get_schedule(self, tenant: str, schedule_id: str) -> Schedule | None:
        rows = await self._run(_fetch, sql.SELECT_SCHEDULE, (schedule_id, tenant))
        return row_to_schedule(rows[0]) if rows else None

    async def list_schedules(self, tenant: str) -> list[Schedule]:
        rows = await self._run(_fetch, sql.LIST_SCHEDULES, (tenant,))
        return [row_to_schedule(row) for row in rows]

    async def delete_schedule(self, tenant: str, schedule_id: str) -> bool:
        deleted = await self._run(
            lambda conn: conn.execute(sql.DELETE_SCHEDULE, (schedule_id, tenant)).rowcount
        )
        return bool(deleted)

    async def set_schedule_paused(
        self,
        tenant: str,
        schedule_id: str,
        paused: bool,
        now: datetime,
        next_fire_at: datetime | None = None,
    ) -> Schedule:
        params = {
            "id": schedule_id,
            "tenant": tenant,
            "paused": int(paused),
            "next_fire_at": None if next_fire_at is None else to_us(next_fire_at),
            "now": to_us(now),
        }
        rows = await self._run(_fetch, sql.SET_SCHEDULE_PAUSED, params)
        if not rows:
            raise NotFound(f"no schedule {schedule_id}")
        return row_to_schedule(rows[0])

    async def due_schedules(self, now: datetime, limit: int) -> list[Schedule]:
        if limit <= 0:  # SQLite reads a negative LIMIT as no limit at all
            return []
        rows = await self._run(_fetch, sql.DUE_SCHEDULES, {"now": to_us(now), "limit": limit})
        return [row_to_schedule(row) for row in rows]

    async def advance_schedule(
        self,
        seen: Schedule,
        now: datetime,
        next_fire_at: datetime,
        fired_at: datetime | None,
        execution_id: str | None,
    ) -> Schedule | None:
        params = {
            "id": seen.id,
            "tenant": seen.tenant,
            "version": seen.version,
            "seen_next_fire_at": to_us(seen.next_fire_at),
            "next_fire_at": to_us(next_fire_at),
            "fired_at": None if fired_at is None else to_us(fired_at),
            "execution_id": execution_id,
            "now": to_us(now),
        }
        rows = await self._run(_fetch, sql.ADVANCE_SCHEDULE, params)
        return row_to_schedule(rows[0]) if rows else None


def _fetch(conn: sqlite3.Connection, statement: str, params: Any) -> list[sqlite3.Row]:
    # fetchall: a RETURNING statement is complete (and committed) only once fully stepped.
    return conn.execute(statement, params).fetchall()


def _insert_schedule(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    try:
        conn.execute(sql.INSERT_SCHEDULE, row)
    except sqlite3.IntegrityError as exc:
        raise StateConflict(f"schedule {row['id']} already exists") from exc
