"""The production store: MongoDB through PyMongo's `AsyncMongoClient`; beanie declares collections.

Every state change is one atomic document update; every filter and update comes from
`mongo_queries`. Each public method is a few round trips, each counted in `round_trips` and sent
through `_call`, the one place where PyMongo's failures become `StoreUnavailable`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from beanie import init_beanie
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from common.domain import (
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
    new_id,
)
from common.errors import NotFound, StateConflict, StoreUnavailable
from common.store import mongo_queries as q
from common.store.base import Store, batches
from common.store.mongo_candidates import MongoCandidates
from common.store.mongo_flow import MongoFlowStates
from common.store.mongo_models import (
    DOCUMENT_MODELS,
    ApiKeyDoc,
    EventDoc,
    ExecutionDoc,
    FlowStateDoc,
    ScheduleDoc,
    as_utc,
    to_document,
    to_event,
    to_execution,
)
from common.store.mongo_schedules import MongoSchedules

T = TypeVar("T")

#: Fail fast when the server is away, unless the URL says otherwise (PyMongo waits 30 s).
DEFAULT_TIMEOUTS_MS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000}
# Claiming under contention. Workers polling together see the same candidates; the first lost
# race shows it, and from then on each worker tries the candidates in its own random order.
# After a few lost races it looks again at a wider window, so a herd of workers thins out over
# more of the queue instead of all trampling the same few executions.
#: Candidates fetched beyond the claims wanted, in the first look.
CANDIDATE_SLACK = 16
#: Looks per `claim_next`; each one fetches a window this many times wider than the last.
CLAIM_ROUNDS = 3
WINDOW_GROWTH = 4
#: Lost races after which a worker stops trying the current window.
MAX_LOST_RACES = 4
#: Read-then-write attempts of a user action racing the fleet before it gives up.
ACTION_ROUNDS = 5


class MongoStore(MongoCandidates, MongoFlowStates, MongoSchedules, Store):
    """`Store` on MongoDB. Takes a ready client (tests pass mongomock's); see `from_url`."""

    def __init__(
        self,
        client: Any,
        db_name: str,
        *,
        write_concern: WriteConcern | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.db_name = db_name
        self.database = client.get_database(db_name, write_concern=write_concern)
        self.round_trips = 0
        self._rng = rng or random.Random()
        self._claims = 0  # this claimer's turn in the round-robin over tenants
        # The store keeps its own collection handles: beanie binds documents class-wide, and
        # several stores may live in one process (tests, tools).
        self._executions = self.database[ExecutionDoc.Settings.name]
        self._events = self.database[EventDoc.Settings.name]
        self._api_keys = self.database[ApiKeyDoc.Settings.name]
        self._flow_states = self.database[FlowStateDoc.Settings.name]
        self._schedules = self.database[ScheduleDoc.Settings.name]

    @classmethod
    def from_url(
        cls, url: str, db_name: str, write_concern: Literal["majority", "1"] = "majority"
    ) -> MongoStore:
        """Connect lazily to `url`; writes acknowledged by a majority, or by the primary (`"1"`)."""
        timeouts: dict[str, Any] = {
            k: v for k, v in DEFAULT_TIMEOUTS_MS.items() if k.lower() not in url.lower()
        }
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, appname="agentfleet", **timeouts
        )
        w: int | str = 1 if write_concern == "1" else "majority"
        return cls(client, db_name, write_concern=WriteConcern(w=w))

    async def _call(self, operation: Awaitable[T]) -> T:
        """One round trip, counted; any PyMongo failure but a duplicate key is unavailability."""
        self.round_trips += 1
        try:
            return await operation
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB: {type(exc).__name__}: {exc}") from exc

    # --- lifecycle ---------------------------------------------------------------------------

    async def init(self) -> None:
        await self._call(init_beanie(database=self.database, document_models=DOCUMENT_MODELS))

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self._call(self.database.command("ping"))

    async def drop_database(self) -> None:
        await self._call(self.client.drop_database(self.db_name))

    # --- API side ----------------------------------------------------------------------------

    async def submit(self, new: NewExecution, now: datetime) -> tuple[Execution, bool]:
        execution = new.pending(now)
        try:
            await self._call(self._executions.insert_one(to_document(execution)))
        except DuplicateKeyError as exc:
            if new.idempotency_key is None:
                raise StoreUnavailable(f"MongoDB: duplicate execution id: {exc}") from exc
            existing = await self._call(
                self._executions.find_one(q.idempotency_filter(new.tenant, new.idempotency_key))
            )
            if existing is None:  # the winner's document is gone again (database dropped)
                raise StoreUnavailable(
                    "MongoDB: idempotency key conflict without a document"
                ) from exc
            return to_execution(existing), False
        return execution, True

    async def get(self, tenant: str, execution_id: str) -> Execution | None:
        doc = await self._call(self._executions.find_one(q.execution_filter(tenant, execution_id)))
        return to_execution(doc) if doc else None

    async def list_executions(
        self,
        tenant: str,
        *,
        state: State | None = None,
        agent: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Page:
        cursor = (
            self._executions.find(q.list_filter(tenant, state, agent, after))
            .sort(q.NEWEST_FIRST)
            .limit(first + 1)
        )
        docs = await self._call(cursor.to_list())
        return Page(items=[to_execution(d) for d in docs[:first]], has_next=len(docs) > first)

    async def request_cancel(self, tenant: str, execution_id: str, now: datetime) -> Execution:
        for _ in range(ACTION_ROUNDS):
            seen = await self._existing(tenant, execution_id)
            if seen.state is State.CANCELLED:
                return seen
            if seen.state.terminal:
                raise StateConflict(f"execution {execution_id} already {seen.state.value}")
            done = await self._update_seen(seen, q.cancel_update(seen, now))
            if done is not None:
                return done
        raise StateConflict(f"execution {execution_id} kept changing; try again")

    async def retry(self, tenant: str, execution_id: str, now: datetime) -> Execution:
        for _ in range(ACTION_ROUNDS):
            seen = await self._existing(tenant, execution_id)
            if seen.state not in (State.FAILED, State.CANCELLED):
                raise StateConflict(
                    f"execution {execution_id} is {seen.state.value}; "
                    "only FAILED or CANCELLED executions can be retried"
                )
            done = await self._update_seen(seen, q.retry_update(now))
            if done is not None:
                return done
        raise StateConflict(f"execution {execution_id} kept changing; try again")

    async def _existing(self, tenant: str, execution_id: str) -> Execution:
        found = await self.get(tenant, execution_id)
        if found is None:
            raise NotFound(f"no execution {execution_id}")
        return found

    async def _update_seen(self, seen: Execution, update: q.Update) -> Execution | None:
        """Apply `update` if the execution is still as seen; None if it changed meanwhile."""
        doc = await self._call(
            self._executions.find_one_and_update(
                q.version_filter(seen), update, return_document=ReturnDocument.AFTER
            )
        )
        return to_execution(doc) if doc else None

    async def stats(self, tenant: str | None, now: datetime) -> QueueStats:
        groups = await self._call(self._aggregate(q.state_counts_pipeline(tenant)))
        counts = {s: 0 for s in State}
        counts.update({State(g["_id"]): g["count"] for g in groups})
        oldest = await self._call(
            self._executions.find_one(
                q.due_pending_filter(now, tenant),
                projection={"available_at": 1},
                sort=q.OLDEST_DUE_FIRST,
            )
        )
        oldest_at = as_utc(oldest["available_at"]) if oldest else None
        return QueueStats(counts=counts, oldest_due_pending_at=oldest_at)

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cursor = await self._executions.aggregate(pipeline)
        return await cursor.to_list()

    async def events(
        self, tenant: str, execution_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[ProgressEvent]:
        if limit <= 0:  # MongoDB reads a limit of 0 as no limit at all
            return []
        cursor = (
            self._events.find(q.events_filter(tenant, execution_id, after_seq))
            .sort(q.EVENT_ORDER)
            .limit(limit)
        )
        return [to_event(d) for d in await self._call(cursor.to_list())]

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
        if limit <= 0:
            return []
        rotation, self._claims = self._claims, self._claims + 1
        widest = (limit + CANDIDATE_SLACK) * WINDOW_GROWTH ** (CLAIM_ROUNDS - 1)
        plan = await self._claim_plan(now, limit, tenant_cap, rotation, widest)
        claimed: list[Execution] = []
        for round_ in range(CLAIM_ROUNDS if plan.tenants else 0):
            window = (limit - len(claimed) + CANDIDATE_SLACK) * WINDOW_GROWTH**round_
            look = await self._look(now, window, plan, claimed, limit)
            if round_:  # races were lost last round: spread out from the start
                self._spread(look.candidates, 0)
            tried, lost = await self._claim_from(
                look.candidates, look.quota, claimed, limit, worker_id, now, lease_seconds
            )
            # Look again only after lost races, and only if more work may be left unseen.
            unseen = tried < len(look.candidates) or look.more
            if len(claimed) == limit or not lost or not unseen:
                break
        return claimed

    async def _claim_from(
        self,
        candidates: list[q.Candidate],
        quota: Counter[str],
        claimed: list[Execution],
        limit: int,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
    ) -> tuple[int, int]:
        """Claim candidates in order into `claimed` until it holds `limit`, no tenant beyond its
        `quota`, or until too many races were lost (zero matches: another worker was first).
        Returns (tried, lost)."""
        tried = lost = 0
        for candidate in candidates:
            if len(claimed) == limit or lost > MAX_LOST_RACES:
                break
            tried += 1
            if quota[candidate.tenant] <= 0:
                continue
            doc = await self._call(
                self._executions.find_one_and_update(
                    q.claim_filter(candidate, now),
                    q.claim_update(candidate, worker_id, now, lease_seconds),
                    return_document=ReturnDocument.AFTER,
                )
            )
            if doc is not None:
                claimed.append(to_execution(doc))
                quota[candidate.tenant] -= 1
                continue
            lost += 1
            self.claim_conflicts += 1
            if lost == 1:
                # Other workers are after the same head of the queue: spread out over the rest
                # instead of all trying the next one in order.
                self._spread(candidates, tried)
        return tried, lost

    def _spread(self, candidates: list[q.Candidate], start: int) -> None:
        """Shuffle `candidates[start:]` in place, keeping better priorities first."""
        rest = candidates[start:]
        keys = {c.id: (-c.priority, self._rng.random()) for c in rest}
        candidates[start:] = sorted(rest, key=lambda c: keys[c.id])

    async def renew_lease(
        self, claim: Claim, now: datetime, lease_seconds: float
    ) -> Renewal | None:
        doc = await self._call(
            self._executions.find_one_and_update(
                q.fence(claim),
                q.renew_update(now, lease_seconds),
                projection={"lease_expires_at": 1, "cancel_requested": 1},
                return_document=ReturnDocument.AFTER,
            )
        )
        if doc is None:
            return None
        return Renewal(
            lease_expires_at=as_utc(doc["lease_expires_at"]),
            cancel_requested=bool(doc.get("cancel_requested")),
        )

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
        doc = await self._call(
            self._executions.find_one_and_update(
                q.fence(claim),
                q.next_event_update(now, usage),
                projection={"event_seq": 1, "tenant": 1},
                return_document=ReturnDocument.AFTER,
            )
        )
        if doc is None:
            return None
        event = ProgressEvent(
            execution_id=claim.execution_id,
            seq=doc["event_seq"],
            attempt=claim.executions,
            kind=kind,
            tool=tool,
            summary=summary,
            at=now,
        )
        await self._call(
            self._events.insert_one(to_document(event, _id=new_id(), tenant=doc["tenant"]))
        )
        return event

    async def park_for_retry(
        self, claim: Claim, now: datetime, available_at: datetime, attempt: Attempt
    ) -> bool:
        return await self._fenced(claim, q.park_update(now, available_at, attempt))

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
        return await self._fenced(claim, q.finish_update(now, state, attempt, result, error))

    async def release(
        self,
        claim: Claim,
        now: datetime,
        attempt: Attempt,
        available_at: datetime | None = None,
    ) -> bool:
        return await self._fenced(claim, q.release_update(now, attempt, available_at))

    async def _fenced(self, claim: Claim, update: q.Update) -> bool:
        """Apply a holder's update; False (and nothing written) if the claim is lost."""
        doc = await self._call(
            self._executions.find_one_and_update(q.fence(claim), update, projection={"_id": 1})
        )
        return doc is not None

    # --- fleet housekeeping -------------------------------------------------------------------

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, ExecutionState]:
        states: dict[str, ExecutionState] = {}
        for batch in batches(execution_ids):
            cursor = self._executions.find(q.ids_filter(batch), q.STATE_PROJECTION)
            for doc in await self._call(cursor.to_list()):
                finished_at = as_utc(doc.get("finished_at"))
                states[doc["_id"]] = ExecutionState(State(doc["state"]), finished_at)
        return states

    # --- API keys ----------------------------------------------------------------------------

    async def create_api_key(self, tenant: str, key_hash: str, now: datetime) -> None:
        try:
            await self._call(
                self._api_keys.insert_one({"_id": key_hash, "tenant": tenant, "created_at": now})
            )
        except DuplicateKeyError as exc:
            raise StateConflict("this API key already exists") from exc

    async def tenant_for_key(self, key_hash: str) -> str | None:
        doc = await self._call(self._api_keys.find_one(q.api_key_filter(key_hash), {"tenant": 1}))
        return doc["tenant"] if doc else None
