"""Schema, SQL and row mapping of the SQLite backend, kept apart so `sqlite.py` reads as behaviour.

Timestamps are integers (microseconds since the Unix epoch, UTC) so that they sort and compare in
indexes; what is filtered, sorted or incremented is a plain column, the rest (input, result, error,
attempts, usage) is JSON text.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from common.domain import Execution, Schedule

SCHEMA_VERSION = 3

#: Applied to every connection. busy_timeout first, so that switching to WAL waits for a lock.
PRAGMAS = (
    "PRAGMA busy_timeout = {busy_timeout_ms}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -16000",
)

DDL = (
    """
    CREATE TABLE IF NOT EXISTS executions (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        input TEXT NOT NULL,
        state TEXT NOT NULL,
        executions INTEGER NOT NULL,
        failed_attempts INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        worker_id TEXT,
        lease_expires_at INTEGER,
        idempotency_key TEXT,
        attempts TEXT NOT NULL,
        result TEXT,
        error TEXT,
        usage TEXT NOT NULL,
        attempt_usage TEXT,
        cancel_requested INTEGER NOT NULL,
        event_seq INTEGER NOT NULL,
        schedule_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        attempt_started_at INTEGER,
        finished_at INTEGER
    )
    """,
    # The claim order: due PENDING rows are read straight off this index.
    """CREATE INDEX IF NOT EXISTS ix_executions_claim
       ON executions (state, priority DESC, available_at, id)""",
    # Lease expiry: only RUNNING rows are in it, so a claim never walks finished history.
    """CREATE INDEX IF NOT EXISTS ix_executions_lease
       ON executions (lease_expires_at) WHERE state = 'RUNNING'""",
    # Tenant fairness: which tenants have due work, and each one's own claim order. Only PENDING
    # rows are in it, so it stays the size of the backlog, whatever the history.
    """CREATE INDEX IF NOT EXISTS ix_executions_tenant_pending
       ON executions (tenant, priority DESC, available_at, id) WHERE state = 'PENDING'""",
    # A tenant's executions in flight (live leases), for its concurrency cap: RUNNING rows only.
    """CREATE INDEX IF NOT EXISTS ix_executions_tenant_running
       ON executions (tenant, lease_expires_at) WHERE state = 'RUNNING'""",
    """CREATE UNIQUE INDEX IF NOT EXISTS ux_executions_idempotency
       ON executions (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL""",
    "CREATE INDEX IF NOT EXISTS ix_executions_tenant ON executions (tenant, id)",
    "CREATE INDEX IF NOT EXISTS ix_executions_tenant_state ON executions (tenant, state, id)",
    "CREATE INDEX IF NOT EXISTS ix_executions_tenant_agent ON executions (tenant, agent, id)",
    """
    CREATE TABLE IF NOT EXISTS events (
        execution_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        tenant TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL,
        tool TEXT,
        summary TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (execution_id, seq)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS api_keys (
        key_hash TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    # Provider flow state: tiny rows changed only by compare-and-swap on `version`.
    """
    CREATE TABLE IF NOT EXISTS flow_state (
        key TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        state TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS schedules (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        input TEXT NOT NULL,
        cron TEXT NOT NULL,
        timezone TEXT NOT NULL,
        overlap TEXT NOT NULL,
        paused INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        next_fire_at INTEGER NOT NULL,
        last_fired_at INTEGER,
        last_execution_id TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    # Due schedules of every tenant, soonest first: paused ones are not even in it.
    """CREATE INDEX IF NOT EXISTS ix_schedules_due
       ON schedules (next_fire_at, id) WHERE paused = 0""",
    "CREATE INDEX IF NOT EXISTS ix_schedules_tenant ON schedules (tenant, id)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

#: Columns added to a table after it was first shipped: (table, column, declaration). A file made
#: by an older version gets them on `init`; `CREATE TABLE IF NOT EXISTS` alone would not add them.
ADDED_COLUMNS = (("executions", "attempt_usage", "TEXT"),)

COLUMNS = (
    "id",
    "tenant",
    "agent",
    "input",
    "state",
    "executions",
    "failed_attempts",
    "max_attempts",
    "priority",
    "available_at",
    "worker_id",
    "lease_expires_at",
    "idempotency_key",
    "attempts",
    "result",
    "error",
    "usage",
    "attempt_usage",
    "cancel_requested",
    "event_seq",
    "schedule_id",
    "created_at",
    "updated_at",
    "started_at",
    "attempt_started_at",
    "finished_at",
)


# --- rows: how an Execution maps to a row and back ----------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TIME_COLUMNS = (
    "available_at",
    "lease_expires_at",
    "created_at",
    "updated_at",
    "started_at",
    "attempt_started_at",
    "finished_at",
)
_JSON_COLUMNS = ("input", "attempts", "result", "error", "usage", "attempt_usage")


def to_us(instant: datetime) -> int:
    """Microseconds since the epoch; naive datetimes are taken as UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return (instant - _EPOCH) // _MICROSECOND


def from_us(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def row_to_execution(row: sqlite3.Row) -> Execution:
    doc = dict(zip(row.keys(), row, strict=True))
    for column in _TIME_COLUMNS:
        doc[column] = from_us(doc[column])
    for column in _JSON_COLUMNS:
        if doc[column] is not None:
            doc[column] = json.loads(doc[column])
    doc["cancel_requested"] = bool(doc["cancel_requested"])
    return Execution.model_validate(doc)


def execution_to_row(execution: Execution) -> dict[str, Any]:
    doc = execution.model_dump(mode="json")
    for column in _TIME_COLUMNS:
        value = getattr(execution, column)
        doc[column] = None if value is None else to_us(value)
    for column in _JSON_COLUMNS:
        doc[column] = None if doc[column] is None else json.dumps(doc[column])
    doc["cancel_requested"] = int(execution.cancel_requested)
    return {column: doc[column] for column in COLUMNS}


_SCHEDULE_TIME_COLUMNS = ("next_fire_at", "last_fired_at", "created_at", "updated_at")
SCHEDULE_COLUMNS = tuple(Schedule.model_fields)


def row_to_schedule(row: sqlite3.Row) -> Schedule:
    doc = dict(zip(row.keys(), row, strict=True))
    for column in _SCHEDULE_TIME_COLUMNS:
        doc[column] = from_us(doc[column])
    doc["input"] = json.loads(doc["input"])
    doc["paused"] = bool(doc["paused"])
    return Schedule.model_validate(doc)


def schedule_to_row(schedule: Schedule) -> dict[str, Any]:
    doc = schedule.model_dump(mode="json")
    for column in _SCHEDULE_TIME_COLUMNS:
        value = getattr(schedule, column)
        doc[column] = None if value is None else to_us(value)
    doc["input"] = json.dumps(doc["input"])
    doc["paused"] = int(schedule.paused)
    return doc


INSERT_EXECUTION = (
    f"INSERT INTO executions ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})"
)

SELECT_BY_ID = "SELECT * FROM executions WHERE id = ? AND tenant = ?"
SELECT_BY_IDEMPOTENCY_KEY = "SELECT * FROM executions WHERE tenant = ? AND idempotency_key = ?"

#: The holder's fencing token: every write of a claim holder carries it.
FENCE = "id = :id AND state = 'RUNNING' AND executions = :executions AND worker_id = :worker_id"

_CANDIDATE_COLUMNS = (
    "id, tenant, state, executions, priority, available_at, worker_id, lease_expires_at, "
    "attempt_started_at, attempts, usage, attempt_usage"
)
_CLAIM_ORDER = "ORDER BY priority DESC, available_at, id LIMIT :limit"

SELECT_DUE_PENDING = (
    f"SELECT {_CANDIDATE_COLUMNS} FROM executions "
    f"WHERE state = 'PENDING' AND available_at <= :now {_CLAIM_ORDER}"
)
SELECT_EXPIRED_RUNNING = (
    # Without the hint the planner walks every RUNNING row in claim order; live leases are the
    # norm, so reading only the expired range of the lease index is the cheap plan.
    f"SELECT {_CANDIDATE_COLUMNS} FROM executions INDEXED BY ix_executions_lease "
    f"WHERE state = 'RUNNING' AND lease_expires_at < :now {_CLAIM_ORDER}"
)

# Tenant fairness, on the pending-tenant index. Rows of one (tenant, priority) group sit together
# in it, oldest first, so a group is due iff its head is; the walk below reads one head per group.
_PENDING_BY_TENANT = (
    "FROM executions INDEXED BY ix_executions_tenant_pending WHERE state = 'PENDING'"
)
_PENDING_ROWS = "executions AS n INDEXED BY ix_executions_tenant_pending WHERE n.state = 'PENDING'"

#: The first and the last tenant with PENDING rows (equal: only one tenant has any).
PENDING_TENANT_RANGE = (
    f"SELECT (SELECT MIN(tenant) {_PENDING_BY_TENANT}), (SELECT MAX(tenant) {_PENDING_BY_TENANT})"
)
#: The head (oldest row) of every (tenant, priority) group of PENDING rows: a skip scan, two index
#: seeks per group — the next lower priority of the same tenant, else the next tenant's best.
PENDING_GROUP_HEADS = f"""
    WITH RECURSIVE head(rid) AS (
        SELECT (SELECT n.rowid FROM {_PENDING_ROWS}
                ORDER BY n.tenant, n.priority DESC, n.available_at LIMIT 1)
        UNION ALL
        SELECT COALESCE(
            (SELECT n.rowid FROM {_PENDING_ROWS} AND n.tenant = g.tenant AND n.priority < g.priority
             ORDER BY n.priority DESC, n.available_at LIMIT 1),
            (SELECT n.rowid FROM {_PENDING_ROWS} AND n.tenant > g.tenant
             ORDER BY n.tenant, n.priority DESC, n.available_at LIMIT 1))
        FROM head JOIN executions AS g ON g.rowid = head.rid
    )
    SELECT g.tenant, g.priority, g.available_at
    FROM head JOIN executions AS g ON g.rowid = head.rid
"""
_DUE_OF_GROUP = (
    f"SELECT * FROM (SELECT {_CANDIDATE_COLUMNS} {_PENDING_BY_TENANT} "
    "AND tenant = ? AND priority = ? AND available_at <= ? ORDER BY available_at, id LIMIT ?)"
)


def select_due_of_groups(groups: int) -> str:
    """Due PENDING rows of `groups` (tenant, priority) groups, each in its order and up to its
    own limit; parameters: tenant, priority, now, limit per group."""
    return " UNION ALL ".join([_DUE_OF_GROUP] * groups)


COUNT_RUNNING_OF_TENANT = (
    "SELECT COUNT(*) FROM executions INDEXED BY ix_executions_tenant_running "
    "WHERE state = 'RUNNING' AND tenant = :tenant AND lease_expires_at >= :now"
)
#: Executions in flight per tenant: only RUNNING rows are in the index (bounded by the fleet).
COUNT_RUNNING_BY_TENANT = (
    "SELECT tenant, COUNT(*) FROM executions INDEXED BY ix_executions_tenant_running "
    "WHERE state = 'RUNNING' AND lease_expires_at >= :now GROUP BY tenant"
)

#: The seed article's claim: zero rows means another worker won the race.
CLAIM = """
    UPDATE executions
    SET state = 'RUNNING', executions = executions + 1, worker_id = :worker_id,
        lease_expires_at = :lease_expires_at, attempt_started_at = :now,
        started_at = COALESCE(started_at, :now), updated_at = :now,
        failed_attempts = failed_attempts + :lost, attempts = COALESCE(:attempts, attempts),
        usage = COALESCE(:usage, usage), attempt_usage = NULL
    WHERE id = :id AND state = :state AND executions = :executions
    RETURNING *
"""

RENEW_LEASE = f"""
    UPDATE executions SET lease_expires_at = :lease_expires_at, updated_at = :now
    WHERE {FENCE}
    RETURNING cancel_requested
"""

SELECT_HELD = f"SELECT attempts, usage FROM executions WHERE {FENCE}"

#: Ends the holder's attempt: park, finish and release differ only in their parameters.
END_ATTEMPT = f"""
    UPDATE executions
    SET state = :state, available_at = COALESCE(:available_at, available_at),
        failed_attempts = failed_attempts + :failed, attempts = :attempts, usage = :usage,
        result = :result, error = :error, finished_at = :finished_at,
        worker_id = NULL, lease_expires_at = NULL, attempt_started_at = NULL,
        attempt_usage = NULL, updated_at = :now
    WHERE {FENCE}
"""

NEXT_EVENT_SEQ = f"""
    UPDATE executions
    SET event_seq = event_seq + 1, attempt_usage = COALESCE(:attempt_usage, attempt_usage)
    WHERE {FENCE}
    RETURNING event_seq, tenant
"""
INSERT_EVENT = """
    INSERT INTO events (execution_id, seq, tenant, attempt, kind, tool, summary, at)
    VALUES (:execution_id, :seq, :tenant, :attempt, :kind, :tool, :summary, :at)
"""
SELECT_EVENTS = """
    SELECT execution_id, seq, attempt, kind, tool, summary, at FROM events
    WHERE execution_id = ? AND tenant = ? AND seq > ? ORDER BY seq LIMIT ?
"""

CANCEL_PENDING = """
    UPDATE executions SET state = 'CANCELLED', finished_at = :now, updated_at = :now
    WHERE id = :id AND state = 'PENDING' RETURNING *
"""
CANCEL_RUNNING = """
    UPDATE executions SET cancel_requested = 1, updated_at = :now
    WHERE id = :id AND state = 'RUNNING' RETURNING *
"""
RETRY = """
    UPDATE executions
    SET state = 'PENDING', available_at = :now, failed_attempts = 0, cancel_requested = 0,
        result = NULL, error = NULL, finished_at = NULL, worker_id = NULL,
        lease_expires_at = NULL, updated_at = :now
    WHERE id = :id AND state IN ('FAILED', 'CANCELLED') RETURNING *
"""


def select_states(ids: int) -> str:
    """State and `finished_at` of `ids` executions, by primary key; parameters: the ids."""
    return f"SELECT id, state, finished_at FROM executions WHERE id IN ({', '.join('?' * ids)})"


#: Fragments of the one query built at run time (the filters of `list_executions`).
LIST_SELECT = "SELECT * FROM executions WHERE tenant = ?"
LIST_ORDER = " ORDER BY id DESC LIMIT ?"

COUNT_BY_STATE = "SELECT state, COUNT(*) FROM executions GROUP BY state"
COUNT_BY_STATE_FOR_TENANT = "SELECT state, COUNT(*) FROM executions WHERE tenant = ? GROUP BY state"
OLDEST_DUE_PENDING = (
    "SELECT MIN(available_at) FROM executions WHERE state = 'PENDING' AND available_at <= ?"
)
OLDEST_DUE_PENDING_FOR_TENANT = (
    "SELECT MIN(available_at) FROM executions "
    "WHERE tenant = ? AND state = 'PENDING' AND available_at <= ?"
)

INSERT_API_KEY = "INSERT INTO api_keys (key_hash, tenant, created_at) VALUES (?, ?, ?)"
SELECT_API_KEY = "SELECT tenant FROM api_keys WHERE key_hash = ?"

#: Flow state: the primary key decides an insert race (no row back: the key exists already).
INSERT_FLOW_STATE = """
    INSERT INTO flow_state (key, version, state) VALUES (?, 1, ?)
    ON CONFLICT (key) DO NOTHING RETURNING key, version, state
"""
UPDATE_FLOW_STATE = """
    UPDATE flow_state SET version = version + 1, state = ?
    WHERE key = ? AND version = ? RETURNING key, version, state
"""
SELECT_FLOW_STATE = "SELECT key, version, state FROM flow_state WHERE key = ?"
SELECT_FLOW_STATES = "SELECT key, version, state FROM flow_state ORDER BY key"

INSERT_SCHEDULE = (
    f"INSERT INTO schedules ({', '.join(SCHEDULE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in SCHEDULE_COLUMNS)})"
)
SELECT_SCHEDULE = "SELECT * FROM schedules WHERE id = ? AND tenant = ?"
LIST_SCHEDULES = "SELECT * FROM schedules WHERE tenant = ? ORDER BY id"
DELETE_SCHEDULE = "DELETE FROM schedules WHERE id = ? AND tenant = ?"
SET_SCHEDULE_PAUSED = """
    UPDATE schedules
    SET paused = :paused, next_fire_at = COALESCE(:next_fire_at, next_fire_at),
        version = version + 1, updated_at = :now
    WHERE id = :id AND tenant = :tenant
    RETURNING *
"""
DUE_SCHEDULES = """
    SELECT * FROM schedules INDEXED BY ix_schedules_due
    WHERE paused = 0 AND next_fire_at <= :now ORDER BY next_fire_at, id LIMIT :limit
"""
#: The optimistic claim of one tick: only the version that was seen, and only while unpaused.
ADVANCE_SCHEDULE = """
    UPDATE schedules
    SET next_fire_at = :next_fire_at, version = version + 1, updated_at = :now,
        last_fired_at = COALESCE(:fired_at, last_fired_at),
        last_execution_id = CASE WHEN :fired_at IS NULL THEN last_execution_id
                                 ELSE :execution_id END
    WHERE id = :id AND tenant = :tenant AND version = :version
      AND next_fire_at = :seen_next_fire_at AND paused = 0
    RETURNING *
"""
