"""The embedded store: one SQLite file that several processes on one machine share safely.

WAL mode lets readers run beside the one writer; every read-modify-write is one short
`BEGIN IMMEDIATE` transaction, so it takes the write lock before it reads and never has to
upgrade a stale snapshot. All sqlite3 calls run on one dedicated thread that owns the
connection, so a lock wait (up to the busy timeout) never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from common.domain import (
    FAILED_OUTCOMES,
    Attempt,
    Claim,
    ErrorInfo,
    Execution,
    ExecutionState,
    NewExecution,
    Page,
    ProgressEvent,
    QueueStats,
    Renewal,
    State,
    Usage,
)
from common.errors import NotFound, StateConflict, StoreUnavailable
from common.store import sqlite_holder as holder
from common.store import sqlite_schema as sql
from common.store.base import Store, batches
from common.store.sqlite_flow import SqliteFlowStates
from common.store.sqlite_holder import fence, immediate
from common.store.sqlite_schedules import SqliteSchedules
from common.store.sqlite_schema import execution_to_row, from_us, row_to_execution, to_us

T = TypeVar("T")


class SqliteStore(SqliteFlowStates, SqliteSchedules, Store):
    """`Store` on one SQLite file (or ":memory:"), shared safely by several processes."""

    def __init__(self, path: str, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.round_trips = 0
        self._claims = 0  # this claimer's turn in the round-robin over tenants
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentfleet-sqlite")

    # --- plumbing ----------------------------------------------------------------------------

    async def _run(self, operation: Callable[..., T], *args: Any) -> T:
        """One store operation (one round trip) on the connection's own thread."""
        if self._closed:
            raise StoreUnavailable(f"SQLite store {self.path!r} is closed")
        self.round_trips += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._call, operation, args)

    def _call(self, operation: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return operation(self._connection(), *args)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path!r} unavailable: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            try:
                for pragma in sql.PRAGMAS:
                    conn.execute(pragma.format(busy_timeout_ms=int(self.busy_timeout * 1000)))
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    # --- lifecycle ---------------------------------------------------------------------------

    async def init(self) -> None:
        await self._run(_create_schema)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._thread, conn.close)
        self._thread.shutdown(wait=True)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    # --- API side ----------------------------------------------------------------------------

    async def submit(self, new: NewExecution, now: datetime) -> tuple[Execution, bool]:
        return await self._run(_insert_or_existing, new.pending(now))

    async def get(self, tenant: str, execution_id: str) -> Execution | None:
        row = await self._run(
            lambda conn: conn.execute(sql.SELECT_BY_ID, (execution_id, tenant)).fetchone()
        )
        return None if row is None else row_to_execution(row)

    async def list_executions(
        self,
        tenant: str,
        *,
        state: State | None = None,
        agent: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Page:
        query, params = sql.LIST_SELECT, [tenant]
        for clause, value in (("state = ?", state), ("agent = ?", agent), ("id < ?", after)):
            if value is not None:
                query += f" AND {clause}"
                params.append(str(value))
        rows = await self._run(
            lambda conn: conn.execute(query + sql.LIST_ORDER, (*params, first + 1)).fetchall()
        )
        return Page(
            items=[row_to_execution(row) for row in rows[:first]], has_next=len(rows) > first
        )

    async def request_cancel(self, tenant: str, execution_id: str, now: datetime) -> Execution:
        return await self._run(_request_cancel, tenant, execution_id, to_us(now))

    async def retry(self, tenant: str, execution_id: str, now: datetime) -> Execution:
        return await self._run(_retry, tenant, execution_id, to_us(now))

    async def stats(self, tenant: str | None, now: datetime) -> QueueStats:
        counts, oldest = await self._run(_stats, tenant, to_us(now))
        return QueueStats(
            counts={state: counts.get(state.value, 0) for state in State},
            oldest_due_pending_at=from_us(oldest),
        )

    async def events(
        self, tenant: str, execution_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[ProgressEvent]:
        rows = await self._run(
            lambda conn: conn.execute(
                sql.SELECT_EVENTS, (execution_id, tenant, after_seq, limit)
            ).fetchall()
        )
        return [
            ProgressEvent(
                execution_id=row["execution_id"],
                seq=row["seq"],
                attempt=row["attempt"],
                kind=row["kind"],
                tool=row["tool"],
                summary=row["summary"],
                at=from_us(row["at"]),
            )
            for row in rows
        ]

    # --- worker side -------------------------------------------------------------------------

    async def claim_next(
        self,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
        limit: int,
        *,
        tenant_cap: int | None = None,
    ) -> list[Execution]:
        lease = now + timedelta(seconds=lease_seconds)
        rotation, self._claims = self._claims, self._claims + 1
        rows, lost = await self._run(
            holder.claim_next, worker_id, now, lease, limit, tenant_cap, rotation
        )
        self.claim_conflicts += lost
        return [row_to_execution(row) for row in rows]

    async def renew_lease(
        self, claim: Claim, now: datetime, lease_seconds: float
    ) -> Renewal | None:
        lease = now + timedelta(seconds=lease_seconds)
        params = {**fence(claim), "lease_expires_at": to_us(lease), "now": to_us(now)}
        row = await self._run(lambda conn: conn.execute(sql.RENEW_LEASE, params).fetchone())
        if row is None:
            return None
        return Renewal(lease_expires_at=lease, cancel_requested=bool(row["cancel_requested"]))

    async def append_event(
        self,
        claim: Claim,
        kind: str,
        summary: str,
        now: datetime,
        tool: str | None = None,
        *,
        usage: Usage | None = None,
    ) -> ProgressEvent | None:
        attempt_usage = None if usage is None else usage.model_dump_json()
        event = {
            "execution_id": claim.execution_id,
            "attempt": claim.executions,
            "kind": kind,
            "tool": tool,
            "summary": summary,
        }
        seq = await self._run(
            holder.append_event, claim, {**event, "at": to_us(now)}, attempt_usage
        )
        return None if seq is None else ProgressEvent(**event, seq=seq, at=now)

    async def park_for_retry(
        self, claim: Claim, now: datetime, available_at: datetime, attempt: Attempt
    ) -> bool:
        params = {"state": State.PENDING.value, "available_at": to_us(available_at), "failed": 1}
        return await self._run(holder.end_attempt, claim, attempt, now, params)

    async def finish(
        self,
        claim: Claim,
        now: datetime,
        state: State,
        attempt: Attempt,
        *,
        result: dict[str, Any] | None = None,
        error: ErrorInfo | None = None,
    ) -> bool:
        if not state.terminal:
            raise ValueError(f"finish needs a terminal state, not {state}")
        params = {
            "state": state.value,
            "failed": int(attempt.outcome in FAILED_OUTCOMES),
            "result": None if result is None else json.dumps(result),
            "error": None if error is None else error.model_dump_json(),
            "finished_at": to_us(now),
        }
        return await self._run(holder.end_attempt, claim, attempt, now, params)

    async def release(
        self,
        claim: Claim,
        now: datetime,
        attempt: Attempt,
        available_at: datetime | None = None,
    ) -> bool:
        due = to_us(now if available_at is None else available_at)
        params = {"state": State.PENDING.value, "available_at": due, "failed": 0}
        return await self._run(holder.end_attempt, claim, attempt, now, params)

    # --- fleet housekeeping -------------------------------------------------------------------

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, ExecutionState]:
        states: dict[str, ExecutionState] = {}
        for batch in batches(execution_ids):
            rows = await self._run(_select_states, batch)
            states |= {
                row["id"]: ExecutionState(State(row["state"]), from_us(row["finished_at"]))
                for row in rows
            }
        return states

    # --- API keys ----------------------------------------------------------------------------

    async def create_api_key(self, tenant: str, key_hash: str, now: datetime) -> None:
        await self._run(_create_api_key, tenant, key_hash, to_us(now))

    async def tenant_for_key(self, key_hash: str) -> str | None:
        row = await self._run(lambda conn: conn.execute(sql.SELECT_API_KEY, (key_hash,)).fetchone())
        return None if row is None else row["tenant"]


# --- operations: each runs on the store's thread as one round trip ---------------------------


def _create_schema(conn: sqlite3.Connection) -> None:
    with immediate(conn):
        for statement in sql.DDL:
            conn.execute(statement)
        for table, column, declaration in sql.ADDED_COLUMNS:
            present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _insert_or_existing(conn: sqlite3.Connection, execution: Execution) -> tuple[Execution, bool]:
    try:
        conn.execute(sql.INSERT_EXECUTION, execution_to_row(execution))
        return execution, True
    except sqlite3.IntegrityError:
        if execution.idempotency_key is None:
            raise
    # The unique index decided a race (or a repeat): the first submit's execution wins.
    row = conn.execute(
        sql.SELECT_BY_IDEMPOTENCY_KEY, (execution.tenant, execution.idempotency_key)
    ).fetchone()
    if row is None:  # pragma: no cover - the row that won cannot vanish; executions are kept
        raise StoreUnavailable("idempotency conflict but no execution holds the key")
    return row_to_execution(row), False


def _request_cancel(
    conn: sqlite3.Connection, tenant: str, execution_id: str, now: int
) -> Execution:
    with immediate(conn):
        row = conn.execute(sql.SELECT_BY_ID, (execution_id, tenant)).fetchone()
        if row is None:
            raise NotFound(f"no execution {execution_id}")
        state = State(row["state"])
        if state in (State.SUCCEEDED, State.FAILED):
            raise StateConflict(f"execution {execution_id} is already {state}")
        statement = {State.PENDING: sql.CANCEL_PENDING, State.RUNNING: sql.CANCEL_RUNNING}
        if state in statement:
            row = conn.execute(statement[state], {"id": execution_id, "now": now}).fetchone()
        return row_to_execution(row)


def _retry(conn: sqlite3.Connection, tenant: str, execution_id: str, now: int) -> Execution:
    with immediate(conn):
        row = conn.execute(sql.SELECT_BY_ID, (execution_id, tenant)).fetchone()
        if row is None:
            raise NotFound(f"no execution {execution_id}")
        retried = conn.execute(sql.RETRY, {"id": execution_id, "now": now}).fetchone()
        if retried is None:
            raise StateConflict(
                f"execution {execution_id} is {row['state']}; only FAILED or CANCELLED "
                "executions can be retried"
            )
        return row_to_execution(retried)


def _stats(conn: sqlite3.Connection, tenant: str | None, now: int) -> tuple[dict, int | None]:
    if tenant is None:
        counts = conn.execute(sql.COUNT_BY_STATE).fetchall()
        oldest = conn.execute(sql.OLDEST_DUE_PENDING, (now,)).fetchone()
    else:
        counts = conn.execute(sql.COUNT_BY_STATE_FOR_TENANT, (tenant,)).fetchall()
        oldest = conn.execute(sql.OLDEST_DUE_PENDING_FOR_TENANT, (tenant, now)).fetchone()
    return {state: count for state, count in counts}, oldest[0]


def _select_states(conn: sqlite3.Connection, ids: Sequence[str]) -> list[sqlite3.Row]:
    return conn.execute(sql.select_states(len(ids)), list(ids)).fetchall()


def _create_api_key(conn: sqlite3.Connection, tenant: str, key_hash: str, now: int) -> None:
    try:
        conn.execute(sql.INSERT_API_KEY, (key_hash, tenant, now))
    except sqlite3.IntegrityError as exc:
        raise StateConflict("this API key already exists") from exc
