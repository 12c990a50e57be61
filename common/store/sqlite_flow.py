"""Provider flow state on SQLite: one row per key, each write one conditional statement."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from common.domain import FlowRecord
from common.store import sqlite_schema as sql
from common.store.base import flow_state_json

T = TypeVar("T")


def _record(row: sqlite3.Row | None) -> FlowRecord | None:
    if row is None:
        return None
    return FlowRecord(key=row["key"], version=row["version"], state=json.loads(row["state"]))


class SqliteFlowStates:
    """`Store`'s flow-state methods for `SqliteStore` (mixed in; uses its `_run`)."""

    if TYPE_CHECKING:

        async def _run(self, operation: Callable[..., T], *args: Any) -> T: ...

    async def get_flow_state(self, key: str) -> FlowRecord | None:
        row = await self._run(lambda conn: conn.execute(sql.SELECT_FLOW_STATE, (key,)).fetchone())
        return _record(row)

    async def put_flow_state(
        self, key: str, state: dict[str, Any], expected_version: int | None
    ) -> FlowRecord | None:
        text = flow_state_json(state)
        params: tuple[Any, ...]
        if expected_version is None:
            statement, params = sql.INSERT_FLOW_STATE, (key, text)
        else:
            statement, params = sql.UPDATE_FLOW_STATE, (text, key, expected_version)
        # fetchall: a RETURNING statement is complete (and committed) only once fully stepped.
        rows = await self._run(lambda conn: conn.execute(statement, params).fetchall())
        return _record(rows[0] if rows else None)

    async def list_flow_states(self) -> list[FlowRecord]:
        rows = await self._run(lambda conn: conn.execute(sql.SELECT_FLOW_STATES).fetchall())
        return [record for row in rows if (record := _record(row)) is not None]
