"""Fill a SQLite store fast and read its timings back, outside the measured path.

Rows are made by the store's own mapping (`execution_to_row`) from real `Execution` values, so a
bulk-loaded row is exactly what `SqliteStore.submit` would have written; only the per-row round
trip is skipped. What a benchmark measures always goes through the store or the processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.domain import Attempt, Execution, Outcome, State, new_id
from common.store.sqlite import SqliteStore
from common.store.sqlite_schema import INSERT_EXECUTION, execution_to_row, from_us

TENANT = "bench"


def create_store_file(path: Path) -> None:
    """An empty store file with the schema and indexes the store itself creates."""

    async def init() -> None:
        store = SqliteStore(str(path))
        await store.init()
        await store.close()

    asyncio.run(init())


def echo_execution(now: datetime, *, delay_s: float = 0.0, done: bool = False) -> Execution:
    """A PENDING echo execution, or (done) one that SUCCEEDED on its first attempt."""
    execution = Execution(
        id=new_id(),
        tenant=TENANT,
        agent="echo",
        input={"message": "bench", "delay_s": delay_s},
        max_attempts=5,
        available_at=now,
        created_at=now,
        updated_at=now,
    )
    if not done:
        return execution
    attempt = Attempt(
        number=1, worker_id="bench", started_at=now, ended_at=now, outcome=Outcome.SUCCEEDED
    )
    return execution.model_copy(
        update={
            "state": State.SUCCEEDED,
            "executions": 1,
            "attempts": [attempt],
            "result": {"message": "bench"},
            "started_at": now,
            "attempt_started_at": now,
            "finished_at": now,
        }
    )


def _rows(template: Execution, count: int) -> Iterator[dict[str, Any]]:
    row = execution_to_row(template)
    for _ in range(count):
        yield {**row, "id": new_id()}


def bulk_insert(path: Path, template: Execution, count: int) -> float:
    """Insert `count` copies of `template` (fresh ids) in one transaction; returns the commit
    instant (epoch seconds), from which a backlog counts as submitted."""
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_EXECUTION, _rows(template, count))
        conn.execute("COMMIT")
        return datetime.now(UTC).timestamp()
    finally:
        conn.close()


def read_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 60000")
    return conn


def count_in_states(conn: sqlite3.Connection, *states: State) -> int:
    marks = ", ".join("?" * len(states))
    query = f"SELECT COUNT(*) FROM executions WHERE state IN ({marks})"
    return int(conn.execute(query, [s.value for s in states]).fetchone()[0])


def timings(conn: sqlite3.Connection, since_us: int = 0) -> list[tuple[float, float, float]]:
    """(created, started, finished) in epoch seconds of executions created at or after
    `since_us` that have finished."""
    rows = conn.execute(
        "SELECT created_at, started_at, finished_at FROM executions "
        "WHERE created_at >= ? AND finished_at IS NOT NULL",
        (since_us,),
    ).fetchall()
    return [tuple(_seconds(v) for v in row) for row in rows]  # type: ignore[misc]


def _seconds(value: int) -> float:
    instant = from_us(value)
    assert instant is not None
    return instant.timestamp()
