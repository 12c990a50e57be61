"""Every MongoDB filter and update of the fleet, as pure functions over domain values.

Nothing else in the codebase builds a Mongo filter. `mongo.MongoStore` only sends these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from common.domain import (
    ATTEMPTS_KEPT,
    FAILED_OUTCOMES,
    Attempt,
    Claim,
    ErrorInfo,
    Execution,
    Outcome,
    Schedule,
    State,
    Usage,
)
from common.errors import LeaseExpired
from common.store.mongo_models import as_utc, plain

Filter = dict[str, Any]
Update = dict[str, Any]


@dataclass(frozen=True)
class Candidate:
    """What `claim_next` needs to know about an execution before it tries to claim it."""

    id: str
    state: State
    executions: int
    priority: int
    available_at: datetime
    tenant: str = ""
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    attempt_started_at: datetime | None = None
    attempt_usage: Usage | None = None
    event_seq: int = 0

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Candidate:
        fields = {k: v for k, v in as_utc(doc).items() if k in CANDIDATE_FIELDS}
        if fields.get("attempt_usage") is not None:
            fields["attempt_usage"] = Usage.model_validate(fields["attempt_usage"])
        return cls(id=doc["_id"], **{**fields, "state": State(doc["state"])})

    @property
    def claim_order(self) -> tuple[int, datetime, str]:
        return (-self.priority, self.available_at, self.id)


#: The fields a `Candidate` reads besides `_id`.
CANDIDATE_FIELDS = frozenset(Candidate.__dataclass_fields__) - {"id"}


def candidate_projection() -> dict[str, int]:
    return dict.fromkeys(CANDIDATE_FIELDS, 1)


#: Claim order: best priority (highest number) first, then oldest `available_at`, then id.
CLAIM_ORDER = [("priority", -1), ("available_at", 1), ("_id", 1)]
#: Lease takeovers: the longest expired first.
EXPIRY_ORDER = [("lease_expires_at", 1)]
#: Listing order: ids are time-ordered, so this is newest first.
NEWEST_FIRST = [("_id", -1)]
OLDEST_DUE_FIRST = [("available_at", 1)]
EVENT_ORDER = [("seq", 1)]

# --- reads ------------------------------------------------------------------------------------


def due_pending_filter(now: datetime, tenant: str | None = None) -> Filter:
    query: Filter = {"state": State.PENDING.value, "available_at": {"$lte": now}}
    if tenant is not None:
        query["tenant"] = tenant
    return query


def expired_lease_filter(now: datetime) -> Filter:
    return {"state": State.RUNNING.value, "lease_expires_at": {"$lt": now}}


def due_tenants_pipeline(now: datetime) -> list[dict[str, Any]]:
    """Each tenant with due PENDING work, and its oldest `available_at`.

    Sorted as the `tenant_due` index is, grouped with `$first` only: the shape MongoDB answers
    with a DISTINCT_SCAN, one index seek per tenant rather than one key per execution.
    """
    return [
        {"$match": {"state": State.PENDING.value}},
        {"$sort": {"tenant": 1, "available_at": 1}},
        {"$group": {"_id": "$tenant", "oldest": {"$first": "$available_at"}}},
        {"$match": {"oldest": {"$lte": now}}},
    ]


def running_counts_pipeline(tenants: list[str], now: datetime) -> list[dict[str, Any]]:
    """Executions in flight (RUNNING, lease not expired) of each of `tenants`."""
    match = {
        "state": State.RUNNING.value,
        "tenant": {"$in": sorted(tenants)},
        "lease_expires_at": {"$gte": now},
    }
    return [{"$match": match}, {"$group": {"_id": "$tenant", "running": {"$sum": 1}}}]


def state_counts_pipeline(tenant: str | None) -> list[dict[str, Any]]:
    match = {} if tenant is None else {"tenant": tenant}
    return [{"$match": match}, {"$group": {"_id": "$state", "count": {"$sum": 1}}}]


def execution_filter(tenant: str, execution_id: str) -> Filter:
    return {"_id": execution_id, "tenant": tenant}


def ids_filter(execution_ids: Sequence[str]) -> Filter:
    """Executions by id, of any tenant (fleet housekeeping only)."""
    return {"_id": {"$in": list(execution_ids)}}


#: What housekeeping reads of an execution.
STATE_PROJECTION = {"state": 1, "finished_at": 1}


def idempotency_filter(tenant: str, key: str) -> Filter:
    return {"tenant": tenant, "idempotency_key": key}


def list_filter(tenant: str, state: State | None, agent: str | None, after: str | None) -> Filter:
    query: Filter = {"tenant": tenant}
    if state is not None:
        query["state"] = state.value
    if agent is not None:
        query["agent"] = agent
    if after is not None:
        query["_id"] = {"$lt": after}
    return query


def api_key_filter(key_hash: str) -> Filter:
    return {"_id": key_hash}


def events_filter(tenant: str, execution_id: str, after_seq: int) -> Filter:
    return {"execution_id": execution_id, "tenant": tenant, "seq": {"$gt": after_seq}}


# --- the claim --------------------------------------------------------------------------------


def claim_filter(candidate: Candidate, now: datetime) -> Filter:
    """Matches only the version of the candidate that was seen, and only while it is claimable.

    `executions` changes with every claim, so a match means nobody claimed it in between. The
    lease condition also stops a takeover racing a holder's heartbeat, which extends the lease
    without changing `executions`; `event_seq` one racing its progress write, which changes the
    `attempt_usage` the takeover counts.
    """
    query: Filter = {
        "_id": candidate.id,
        "state": candidate.state.value,
        "executions": candidate.executions,
    }
    if candidate.state is State.RUNNING:
        query["lease_expires_at"] = {"$lt": now}
        query["event_seq"] = candidate.event_seq
    else:
        query["available_at"] = {"$lte": now}
    return query


def lost_attempt(candidate: Candidate, now: datetime) -> Attempt:
    """The attempt of a holder whose lease expired, as a takeover records it: with the usage
    the holder last reported."""
    return Attempt(
        number=candidate.executions,
        worker_id=candidate.worker_id or "",
        started_at=candidate.attempt_started_at or now,
        ended_at=now,
        outcome=Outcome.LOST,
        error=ErrorInfo(
            type=LeaseExpired.__name__,
            message=f"worker {candidate.worker_id} stopped renewing its lease",
            retryable=True,
        ),
        usage=candidate.attempt_usage or Usage(),
    )


def claim_update(
    candidate: Candidate, worker_id: str, now: datetime, lease_seconds: float
) -> Update:
    """PENDING/expired RUNNING → RUNNING for `worker_id`; a takeover records the lost attempt
    and counts its usage."""
    fields: dict[str, Any] = {
        "state": State.RUNNING.value,
        "worker_id": worker_id,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "attempt_started_at": now,
        "attempt_usage": None,
        "updated_at": now,
    }
    if candidate.started_at is None:
        fields["started_at"] = now
    update: Update = {"$set": fields, "$inc": {"executions": 1}}
    if candidate.state is State.RUNNING:
        lost = lost_attempt(candidate, now)
        update["$inc"] |= {"failed_attempts": 1, **usage_increments(lost.usage)}
        update["$push"] = push_attempt(lost)
    return update


# --- writes of the claim holder ---------------------------------------------------------------


def fence(claim: Claim) -> Filter:
    """The fencing filter of every write by a claim holder."""
    return {
        "_id": claim.execution_id,
        "state": State.RUNNING.value,
        "executions": claim.executions,
        "worker_id": claim.worker_id,
    }


def push_attempt(attempt: Attempt) -> Update:
    """`$push` fragment: append an attempt, keep the newest `ATTEMPTS_KEPT`."""
    return {"attempts": {"$each": [plain(attempt.model_dump())], "$slice": -ATTEMPTS_KEPT}}


def usage_increments(usage: Usage) -> dict[str, int | float]:
    return {f"usage.{name}": value for name, value in usage.model_dump().items() if value}


def renew_update(now: datetime, lease_seconds: float) -> Update:
    return {"$set": {"lease_expires_at": now + timedelta(seconds=lease_seconds), "updated_at": now}}


def next_event_update(now: datetime, usage: Usage | None = None) -> Update:
    """The next event number; with `usage`, also the attempt's usage so far."""
    fields: dict[str, Any] = {"updated_at": now}
    if usage is not None:
        fields["attempt_usage"] = usage.model_dump()
    return {"$inc": {"event_seq": 1}, "$set": fields}


def _attempt_done(attempt: Attempt, fields: dict[str, Any], count_failure: bool) -> Update:
    """The update ending the holder's attempt: frees worker and lease, records the attempt."""
    increments: dict[str, int | float] = usage_increments(attempt.usage)
    if count_failure:
        increments["failed_attempts"] = 1
    update: Update = {
        "$set": {
            **fields,
            "worker_id": None,
            "lease_expires_at": None,
            "attempt_started_at": None,
            "attempt_usage": None,
        },
        "$push": push_attempt(attempt),
    }
    if increments:
        update["$inc"] = increments
    return update


def park_update(now: datetime, available_at: datetime, attempt: Attempt) -> Update:
    fields = {"state": State.PENDING.value, "available_at": available_at, "updated_at": now}
    return _attempt_done(attempt, fields, count_failure=True)


def release_update(now: datetime, attempt: Attempt, available_at: datetime | None = None) -> Update:
    """Back to PENDING without spending the budget: due now, or at `available_at` (deferral)."""
    due = now if available_at is None else available_at
    fields = {"state": State.PENDING.value, "available_at": due, "updated_at": now}
    return _attempt_done(attempt, fields, count_failure=False)


def finish_update(
    now: datetime,
    state: State,
    attempt: Attempt,
    result: dict[str, Any] | None,
    error: ErrorInfo | None,
) -> Update:
    if not state.terminal:
        raise ValueError(f"finish needs a terminal state, not {state}")
    fields = {
        "state": state.value,
        "result": result,
        "error": plain(error.model_dump()) if error else None,
        "finished_at": now,
        "updated_at": now,
    }
    return _attempt_done(attempt, fields, count_failure=attempt.outcome in FAILED_OUTCOMES)


# --- user actions -----------------------------------------------------------------------------


def version_filter(seen: Execution) -> Filter:
    """Matches the execution only as it was seen (state and claim count unchanged)."""
    return {
        "_id": seen.id,
        "tenant": seen.tenant,
        "state": seen.state.value,
        "executions": seen.executions,
    }


def cancel_update(seen: Execution, now: datetime) -> Update:
    """PENDING is cancelled at once; RUNNING is asked to stop (its holder finishes it)."""
    if seen.state is State.PENDING:
        return {"$set": {"state": State.CANCELLED.value, "finished_at": now, "updated_at": now}}
    return {"$set": {"cancel_requested": True, "updated_at": now}}


def retry_update(now: datetime) -> Update:
    """FAILED/CANCELLED → PENDING due now, with a fresh attempt budget; history stays."""
    return {
        "$set": {
            "state": State.PENDING.value,
            "available_at": now,
            "failed_attempts": 0,
            "cancel_requested": False,
            "result": None,
            "error": None,
            "finished_at": None,
            "updated_at": now,
        }
    }


# --- provider flow state ----------------------------------------------------------------------

FLOW_KEY_ORDER = [("_id", 1)]


def flow_state_document(key: str, state: dict[str, Any]) -> dict[str, Any]:
    """A new flow document: version 1 (the `_id` decides an insert race)."""
    return {"_id": key, "version": 1, "state": state}


def flow_key_filter(key: str) -> Filter:
    return {"_id": key}


def flow_version_filter(key: str, version: int) -> Filter:
    return {"_id": key, "version": version}


def flow_state_update(state: dict[str, Any]) -> Update:
    """Replace the whole state (never a merge) and move the version on."""
    return {"$set": {"state": state}, "$inc": {"version": 1}}


# --- schedules --------------------------------------------------------------------------------

#: Listing order: ids are time-ordered, so this is oldest first (creation order).
SCHEDULE_ORDER = [("_id", 1)]
#: Firing order: the longest-due schedule first.
DUE_SCHEDULE_ORDER = [("next_fire_at", 1), ("_id", 1)]


def schedule_filter(tenant: str, schedule_id: str) -> Filter:
    return {"_id": schedule_id, "tenant": tenant}


def tenant_schedules_filter(tenant: str) -> Filter:
    return {"tenant": tenant}


def due_schedules_filter(now: datetime) -> Filter:
    return {"paused": False, "next_fire_at": {"$lte": now}}


def pause_update(paused: bool, now: datetime, next_fire_at: datetime | None) -> Update:
    fields: dict[str, Any] = {"paused": paused, "updated_at": now}
    if next_fire_at is not None:
        fields["next_fire_at"] = next_fire_at
    return {"$set": fields, "$inc": {"version": 1}}


def advance_filter(seen: Schedule) -> Filter:
    """The optimistic claim of one tick: matches only the schedule as it was seen, unpaused."""
    return {
        "_id": seen.id,
        "tenant": seen.tenant,
        "version": seen.version,
        "next_fire_at": seen.next_fire_at,
        "paused": False,
    }


def advance_update(
    now: datetime, next_fire_at: datetime, fired_at: datetime | None, execution_id: str | None
) -> Update:
    """Move to the next tick; a fired tick also records when it fired and into which execution."""
    fields: dict[str, Any] = {"next_fire_at": next_fire_at, "updated_at": now}
    if fired_at is not None:
        fields |= {"last_fired_at": fired_at, "last_execution_id": execution_id}
    return {"$set": fields, "$inc": {"version": 1}}
