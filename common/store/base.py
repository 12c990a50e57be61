"""The narrow store interface. Every filter and update of the fleet lives behind it.

Two backends implement it with identical semantics: `common.store.mongo.MongoStore` (production)
and `common.store.sqlite.SqliteStore` (embedded default). The contract suite in
`tests/contract/` runs against both.

Semantics every backend keeps (DESIGN.md):

* `claim_next` looks for candidates — PENDING with `available_at <= now`, or RUNNING with
  `lease_expires_at < now` — best priority (highest number) first, then oldest `available_at`,
  then id, and claims each with one conditional update filtered on id, the state it saw and the
  `executions` value it saw. The update sets RUNNING, `worker_id`, `lease_expires_at`,
  `attempt_started_at`, `started_at` (first claim only), increments `executions` and clears
  `cancel_requested` only if it was not set. Taking over an expired lease also appends the lost
  attempt (`Outcome.LOST`, error `LeaseExpired`, the previous holder's worker id and attempt
  start, and the usage its holder last reported in `attempt_usage`), adds that usage to `usage`,
  clears `attempt_usage` and increments `failed_attempts`, all in the same update, so what a
  crashed attempt paid for is counted once. Zero matches is a lost race: skipped silently.
* Claims are fair across tenants (`common.store.fairness`): each next claim goes to the tenant with
  the fewest executions in flight (RUNNING with a live lease, plus those claimed in the same call),
  equally loaded tenants in turn (round-robin), each tenant's own executions in the order above.
  A tenant's backlog of 10,000 therefore cannot hold back another tenant's single execution. With
  `tenant_cap`, a tenant with that many in flight is not claimed from at all; an expired lease does
  not count as in flight. On SQLite the cap is exact (the claim is one write transaction); on
  MongoDB claimers racing at the same instant can each take a tenant's last free place, so it can
  be exceeded by at most the claims made at that instant.
* Every write by a claim holder (`renew_lease`, `append_event`, `park_for_retry`, `finish`,
  `release`) filters on the `Claim` (id, state RUNNING, executions, worker_id). Zero matches
  returns None/False and changes nothing.
* `attempts` keeps the newest `ATTEMPTS_KEPT` records; `usage` accumulates each attempt's usage.
  `append_event` with `usage` stores the running attempt's usage so far in `attempt_usage`
  (replacing what was there: it is a running total, not an increment); every end of an attempt
  (`park_for_retry`, `finish`, `release`) adds the attempt's own usage and clears it.
* Idempotency: `(tenant, idempotency_key)` is unique (a unique index decides races); a duplicate
  submit returns the existing execution with `created=False`.
* Tenant scoping: every API-side read and write takes the tenant; another tenant's execution is
  None (not found), never an error that reveals it exists.
* Flow state (`get_flow_state`, `put_flow_state`): small documents keyed by a string, changed
  only by compare-and-swap on their `version`. An insert (`expected_version=None`) creates
  version 1 and loses to an existing key (a unique key decides the race); an update matches only
  the version it names and sets version + 1. A lost race returns None and changes nothing. The
  state is stored as JSON: what comes back is `json.loads(json.dumps(state))`, and a state that
  JSON cannot hold (datetimes, NaN, infinities) raises `TypeError`/`ValueError` before any write.
* Schedules are tenant-scoped like executions. A worker fires a tick with `advance_schedule`, an
  optimistic claim on the schedule as it read it (id, version, `next_fire_at`, not paused): of any
  number of workers that read the same tick, exactly one advances it; the others get None. Every
  change of a schedule (pause, resume, advance) increments its `version`. An execution submitted
  for a tick carries the schedule's id in `schedule_id`.
* A backend failure raises `StoreUnavailable`; nothing else escapes.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from common.domain import (
    Attempt,
    Claim,
    ErrorInfo,
    Execution,
    ExecutionState,
    FlowRecord,
    NewExecution,
    Page,
    ProgressEvent,
    QueueStats,
    Renewal,
    Schedule,
    State,
    Usage,
)


class Store(ABC):
    """Async store of executions, progress events and API keys."""

    #: Store operations issued so far (one per round trip to the backend), for benchmarks.
    round_trips: int = 0
    #: Claim updates that matched nothing because another worker won the race, for benchmarks.
    claim_conflicts: int = 0

    # --- lifecycle ---------------------------------------------------------------------------

    @abstractmethod
    async def init(self) -> None:
        """Create tables/collections and indexes (idempotent)."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the backend answers."""

    # --- API side ----------------------------------------------------------------------------

    @abstractmethod
    async def submit(self, new: NewExecution, now: datetime) -> tuple[Execution, bool]:
        """Insert a PENDING execution, acknowledged. Returns (execution, created).

        With an idempotency key already used by this tenant: (the existing execution, False).
        """

    @abstractmethod
    async def get(self, tenant: str, execution_id: str) -> Execution | None: ...

    @abstractmethod
    async def list_executions(
        self,
        tenant: str,
        *,
        state: State | None = None,
        agent: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Page:
        """Newest first (descending id); `after` is the id of the last item of the previous page."""

    @abstractmethod
    async def request_cancel(self, tenant: str, execution_id: str, now: datetime) -> Execution:
        """PENDING → CANCELLED at once; RUNNING → `cancel_requested` (the holder stops it).

        Already CANCELLED: returned unchanged. SUCCEEDED/FAILED: `StateConflict`.
        Unknown for this tenant: `NotFound`.
        """

    @abstractmethod
    async def retry(self, tenant: str, execution_id: str, now: datetime) -> Execution:
        """FAILED/CANCELLED → PENDING, due now, with a fresh attempt budget (`failed_attempts`
        reset to 0; history kept). Other states: `StateConflict`. Unknown: `NotFound`."""

    @abstractmethod
    async def stats(self, tenant: str | None, now: datetime) -> QueueStats:
        """Counts per state and the oldest due PENDING `available_at` (all tenants if None)."""

    @abstractmethod
    async def events(
        self, tenant: str, execution_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[ProgressEvent]: ...

    # --- worker side -------------------------------------------------------------------------

    @abstractmethod
    async def claim_next(
        self,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
        limit: int,
        *,
        tenant_cap: int | None = None,
    ) -> list[Execution]:
        """Claim up to `limit` due executions, interleaved across tenants, none for a tenant with
        `tenant_cap` executions in flight; returns them as claimed (state RUNNING)."""

    @abstractmethod
    async def renew_lease(
        self, claim: Claim, now: datetime, lease_seconds: float
    ) -> Renewal | None:
        """Extend the lease and read `cancel_requested`; None if the claim is lost."""

    @abstractmethod
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
        """Append a progress event with the next sequence number; None if the claim is lost.

        With `usage` (the attempt's running total), also set `attempt_usage` in the same fenced
        update, so a takeover after a crash can count what this attempt spent."""

    @abstractmethod
    async def park_for_retry(
        self, claim: Claim, now: datetime, available_at: datetime, attempt: Attempt
    ) -> bool:
        """RUNNING → PENDING due at `available_at`; records the failed attempt, counts it in
        `failed_attempts`, clears worker and lease."""

    @abstractmethod
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
        """RUNNING → SUCCEEDED | FAILED | CANCELLED; records the attempt (a FAILED outcome counts
        in `failed_attempts`), sets `finished_at`, clears worker and lease."""

    @abstractmethod
    async def release(
        self,
        claim: Claim,
        now: datetime,
        attempt: Attempt,
        available_at: datetime | None = None,
    ) -> bool:
        """RUNNING → PENDING due at `available_at` (default now), not counted as a failure:
        `failed_attempts` stays as it is whatever the attempt's outcome. Records the attempt,
        clears worker and lease. Graceful shutdown releases due now; a provider cooldown defers
        (`Outcome.DEFERRED`) until the cooldown ends, without spending the attempt budget."""

    # --- fleet housekeeping -------------------------------------------------------------------

    @abstractmethod
    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, ExecutionState]:
        """The state and `finished_at` of each of `execution_ids` that exists, whatever its
        tenant (fleet-internal: the checkpoint janitor asks about the threads it found). An id
        missing from the answer has no execution. Reads by primary key, `STATES_BATCH` ids per
        round trip."""

    # --- provider flow state ------------------------------------------------------------------

    @abstractmethod
    async def get_flow_state(self, key: str) -> FlowRecord | None: ...

    @abstractmethod
    async def put_flow_state(
        self, key: str, state: dict[str, Any], expected_version: int | None
    ) -> FlowRecord | None:
        """Compare-and-swap: insert version 1 (`expected_version=None`) or replace the state of
        `expected_version`, making it version + 1. Returns the new record; None when the race was
        lost (the key exists already, or its version moved on)."""

    @abstractmethod
    async def list_flow_states(self) -> list[FlowRecord]:
        """Every flow document, ordered by key."""

    # --- schedules ---------------------------------------------------------------------------

    @abstractmethod
    async def create_schedule(self, schedule: Schedule) -> Schedule:
        """Insert `schedule` as given; an id that exists already is a `StateConflict`."""

    @abstractmethod
    async def get_schedule(self, tenant: str, schedule_id: str) -> Schedule | None: ...

    @abstractmethod
    async def list_schedules(self, tenant: str) -> list[Schedule]:
        """The tenant's schedules, oldest first (ascending id)."""

    @abstractmethod
    async def delete_schedule(self, tenant: str, schedule_id: str) -> bool:
        """True if the tenant's schedule existed and is now gone."""

    @abstractmethod
    async def set_schedule_paused(
        self,
        tenant: str,
        schedule_id: str,
        paused: bool,
        now: datetime,
        next_fire_at: datetime | None = None,
    ) -> Schedule:
        """Pause or resume; a resume passes the recomputed `next_fire_at` (None keeps it).
        Increments `version`, so a tick read before the change can no longer be advanced.
        Unknown for this tenant: `NotFound`."""

    @abstractmethod
    async def due_schedules(self, now: datetime, limit: int) -> list[Schedule]:
        """Unpaused schedules of every tenant with `next_fire_at <= now`, longest due first
        (then by id), at most `limit`."""

    @abstractmethod
    async def advance_schedule(
        self,
        seen: Schedule,
        now: datetime,
        next_fire_at: datetime,
        fired_at: datetime | None,
        execution_id: str | None,
    ) -> Schedule | None:
        """Claim the tick of `seen`: only if the schedule still has `seen`'s id, version and
        `next_fire_at` and is not paused, set `next_fire_at`, `updated_at`, version + 1 and, when
        `fired_at` is given, `last_fired_at` and `last_execution_id` (None for a skipped tick
        keeps them). Returns the schedule as advanced; None if another worker won the tick."""

    # --- API keys ----------------------------------------------------------------------------

    @abstractmethod
    async def create_api_key(self, tenant: str, key_hash: str, now: datetime) -> None: ...

    @abstractmethod
    async def tenant_for_key(self, key_hash: str) -> str | None: ...


#: Ids per round trip of `execution_states` (well under SQLite's limit of bound parameters).
STATES_BATCH = 500


def batches(ids: Sequence[str], size: int = STATES_BATCH) -> list[Sequence[str]]:
    """`ids` in consecutive slices of at most `size`."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def flow_state_json(state: dict[str, Any]) -> str:
    """The text a flow state is stored as; raises before any write if JSON cannot hold it."""
    return json.dumps(state, allow_nan=False, separators=(",", ":"))
