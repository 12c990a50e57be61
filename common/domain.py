"""The execution document and the values that travel between the API, the store and workers."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: How many attempt records an execution keeps; older ones are dropped first.
ATTEMPTS_KEPT = 50


class State(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({State.SUCCEEDED, State.FAILED, State.CANCELLED})


class Outcome(StrEnum):
    """How one attempt ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # final failure: the execution is FAILED
    RETRYING = "retrying"  # failed, parked for another attempt
    RELEASED = "released"  # graceful shutdown gave it back; not a failure
    CANCELLED = "cancelled"
    LOST = "lost"  # the holder's lease expired and another worker took over
    DEFERRED = "deferred"  # parked while its provider cools down; not a failure


#: Outcomes that spend one of the execution's `max_attempts`.
FAILED_OUTCOMES = frozenset({Outcome.FAILED, Outcome.RETRYING, Outcome.LOST})


def new_id() -> str:
    """A time-ordered id: sorting ids sorts by creation time (newest-first pagination)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(6).hex()}"


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    llm_calls_ok: int = 0
    llm_calls_failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            llm_calls_ok=self.llm_calls_ok + other.llm_calls_ok,
            llm_calls_failed=self.llm_calls_failed + other.llm_calls_failed,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            tool_calls=self.tool_calls + other.tool_calls,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
        )


class ErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    message: str
    retryable: bool = False


class Attempt(BaseModel):
    """One claim of an execution and how it ended."""

    model_config = ConfigDict(frozen=True)

    number: int
    worker_id: str
    started_at: datetime
    ended_at: datetime
    outcome: Outcome
    error: ErrorInfo | None = None
    usage: Usage = Field(default_factory=Usage)


class Execution(BaseModel):
    """The one document per execution (DESIGN.md): everything the fleet decides on is here."""

    id: str
    tenant: str
    agent: str
    input: dict[str, Any]
    state: State = State.PENDING
    executions: int = 0
    failed_attempts: int = 0
    max_attempts: int
    priority: int = 0
    available_at: datetime
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    idempotency_key: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    usage: Usage = Field(default_factory=Usage)
    #: What the running attempt has spent so far, as its holder last reported it with a
    #: progress event: a takeover records it on the lost attempt and adds it to `usage`.
    #: None while no attempt runs (every end of an attempt clears it).
    attempt_usage: Usage | None = None
    cancel_requested: bool = False
    event_seq: int = 0
    schedule_id: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    attempt_started_at: datetime | None = None
    finished_at: datetime | None = None

    def claim(self) -> Claim:
        """The fencing token of the current holder (only meaningful while RUNNING)."""
        assert self.worker_id is not None
        return Claim(self.id, self.executions, self.worker_id)


@dataclass(frozen=True)
class Claim:
    """The fencing token: every write of a claim holder filters on all three."""

    execution_id: str
    executions: int
    worker_id: str


@dataclass(frozen=True)
class NewExecution:
    """A validated submission, ready to be written."""

    tenant: str
    agent: str
    input: dict[str, Any]
    max_attempts: int
    priority: int = 0
    idempotency_key: str | None = None
    schedule_id: str | None = None

    def pending(self, now: datetime) -> Execution:
        """The execution this submission becomes: a new id, PENDING and due at `now`."""
        return Execution(
            id=new_id(),
            tenant=self.tenant,
            agent=self.agent,
            input=self.input,
            max_attempts=self.max_attempts,
            priority=self.priority,
            idempotency_key=self.idempotency_key,
            schedule_id=self.schedule_id,
            available_at=now,
            created_at=now,
            updated_at=now,
        )


@dataclass(frozen=True)
class Renewal:
    """What a successful heartbeat learns."""

    lease_expires_at: datetime
    cancel_requested: bool


@dataclass(frozen=True)
class ExecutionState:
    """Where an execution is, as fleet housekeeping (the checkpoint janitor) needs to know it."""

    state: State
    finished_at: datetime | None


@dataclass(frozen=True)
class Page:
    items: list[Execution]
    has_next: bool


@dataclass(frozen=True)
class FlowRecord:
    """A small per-provider document shared by the fleet (cooldowns, limits, breakers).

    `state` is JSON: its shape belongs to the flow-control logic; the store only versions it.
    """

    key: str
    version: int
    state: dict[str, Any]


class Overlap(StrEnum):
    """What a schedule's tick does while the previous execution it started is unfinished."""

    SKIP = "SKIP"
    ALLOW = "ALLOW"


class Schedule(BaseModel):
    """A recurring execution: fired by whichever worker wins the optimistic claim of a tick."""

    model_config = ConfigDict(frozen=True)

    id: str
    tenant: str
    agent: str
    input: dict[str, Any]
    cron: str
    timezone: str
    overlap: Overlap = Overlap.SKIP
    paused: bool = False
    max_attempts: int
    priority: int = 0
    next_fire_at: datetime
    last_fired_at: datetime | None = None
    last_execution_id: str | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class QueueStats:
    counts: dict[State, int]
    oldest_due_pending_at: datetime | None


class ProgressEvent(BaseModel):
    """One agent step, appended by the holder of the claim."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    seq: int
    attempt: int
    kind: str  # "llm" | "tool" | "state"
    tool: str | None = None
    summary: str = ""
    at: datetime
