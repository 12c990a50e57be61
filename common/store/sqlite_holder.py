"""The claim and every write of its holder on SQLite, as operations on the store's thread.

Each is one short `BEGIN IMMEDIATE` transaction: it takes the write lock before it reads, so
what it read (a candidate, the holder's row) cannot change before its update.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from common.domain import ATTEMPTS_KEPT, Attempt, Claim, ErrorInfo, Outcome, State, Usage
from common.store import sqlite_schema as sql
from common.store.sqlite_candidates import candidates
from common.store.sqlite_schema import from_us, to_us


def fence(claim: Claim) -> dict[str, Any]:
    return {"id": claim.execution_id, "executions": claim.executions, "worker_id": claim.worker_id}


def _appended(attempts_json: str, attempt: Attempt) -> str:
    """The attempts history with one more record, capped at the newest ATTEMPTS_KEPT."""
    attempts = json.loads(attempts_json)
    attempts.append(attempt.model_dump(mode="json"))
    return json.dumps(attempts[-ATTEMPTS_KEPT:])


def _lost_attempt(candidate: sqlite3.Row, now: datetime, usage: Usage) -> Attempt:
    """The record of a holder whose lease expired before it finished, with what it reported
    spending."""
    expired_at = from_us(candidate["lease_expires_at"])
    return Attempt(
        number=candidate["executions"],
        worker_id=candidate["worker_id"] or "",
        started_at=from_us(candidate["attempt_started_at"]) or now,
        ended_at=now,
        outcome=Outcome.LOST,
        error=ErrorInfo(
            type="LeaseExpired",
            message=f"worker {candidate['worker_id']} stopped renewing its lease "
            f"(expired {expired_at.isoformat() if expired_at else 'unknown'})",
            retryable=True,
        ),
        usage=usage,
    )


def _claim_params(candidate: sqlite3.Row, worker_id: str, now: datetime, lease: datetime) -> dict:
    """A claim; a takeover also records the lost attempt and counts its usage (read in the same
    write transaction as the claim, so nothing the holder wrote can slip in between)."""
    takeover = candidate["state"] == State.RUNNING
    attempts = usage = None
    if takeover:
        spent = _usage(candidate["attempt_usage"])
        attempts = _appended(candidate["attempts"], _lost_attempt(candidate, now, spent))
        usage = (_usage(candidate["usage"]) + spent).model_dump_json()
    return {
        "id": candidate["id"],
        "state": candidate["state"],
        "executions": candidate["executions"],
        "worker_id": worker_id,
        "lease_expires_at": to_us(lease),
        "now": to_us(now),
        "lost": int(takeover),
        "attempts": attempts,
        "usage": usage,
    }


def _usage(text: str | None) -> Usage:
    return Usage() if text is None else Usage.model_validate_json(text)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction that holds the write lock from its first statement."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.commit()
    except BaseException:
        # Also after a failed COMMIT: an open transaction would wedge the connection for good.
        if conn.in_transaction:
            conn.rollback()
        raise


def claim_next(
    conn: sqlite3.Connection,
    worker_id: str,
    now: datetime,
    lease: datetime,
    limit: int,
    cap: int | None,
    rotation: int,
) -> tuple[list[sqlite3.Row], int]:
    """(the claimed rows, how many candidates another worker won first)."""
    claimed, lost = [], 0
    with immediate(conn):
        for candidate in candidates(conn, to_us(now), limit, cap, rotation):
            rows = conn.execute(sql.CLAIM, _claim_params(candidate, worker_id, now, lease))
            won = rows.fetchall()  # empty when another worker won the race
            claimed.extend(won)
            lost += not won
    return claimed, lost


def end_attempt(
    conn: sqlite3.Connection, claim: Claim, attempt: Attempt, now: datetime, params: dict
) -> bool:
    with immediate(conn):
        held = conn.execute(sql.SELECT_HELD, fence(claim)).fetchone()
        if held is None:
            return False
        usage = _usage(held["usage"]) + attempt.usage
        update = {
            "available_at": None,
            "result": None,
            "error": None,
            "finished_at": None,
            **params,
            **fence(claim),
            "attempts": _appended(held["attempts"], attempt),
            "usage": usage.model_dump_json(),
            "now": to_us(now),
        }
        return conn.execute(sql.END_ATTEMPT, update).rowcount == 1


def append_event(
    conn: sqlite3.Connection, claim: Claim, event: dict, attempt_usage: str | None
) -> int | None:
    with immediate(conn):
        params = {**fence(claim), "attempt_usage": attempt_usage}
        row = conn.execute(sql.NEXT_EVENT_SEQ, params).fetchone()
        if row is None:
            return None
        conn.execute(sql.INSERT_EVENT, {**event, "seq": row["event_seq"], "tenant": row["tenant"]})
        return int(row["event_seq"])
