"""Which executions a MongoDB claim tries, interleaved fairly across tenants (`fairness`).

A claim first learns which tenants have due work (one aggregation the server answers from the
`tenant_due` index, a seek per tenant) and the lease-expired executions; with several tenants, or
a tenant cap, also how many each has in flight. Each look for candidates then reads the chosen
tenants' queues concurrently on the `tenant_claim_order` index. While one tenant has all the
work, the look reads the global `claim_order` index exactly as it always did.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from common.domain import Execution
from common.store import mongo_queries as q
from common.store.fairness import allowance, fair_pick, tenant_order

T = TypeVar("T")


@dataclass(frozen=True)
class ClaimPlan:
    """What one `claim_next` learned before it looks for candidates."""

    tenants: list[str]  # the tenants it may claim from, in turn order
    with_work: int  # how many tenants have due work at all
    expired: list[q.Candidate]  # lease-expired executions, in claim order
    running: dict[str, int]  # executions in flight per tenant (only with several or a cap)
    cap: int | None
    rotation: int

    @property
    def single(self) -> bool:
        """One tenant has all the work (and no cap): its claim order is the global one."""
        return self.with_work == 1 and self.cap is None


@dataclass(frozen=True)
class Look:
    """One look for candidates: whom to try, in order, and how many each tenant may get."""

    candidates: list[q.Candidate]  # interleaved in turn order
    quota: Counter[str]  # claims each tenant gets of those still wanted
    more: bool  # some tenant's queue was cut at the window: more work may be unseen


class MongoCandidates:
    """Candidate selection for `MongoStore` (mixed in; uses its `_call` and `_executions`)."""

    _executions: Any

    if TYPE_CHECKING:

        async def _call(self, operation: Awaitable[T]) -> T: ...

        async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    async def _claim_plan(
        self, now: datetime, limit: int, cap: int | None, rotation: int, expired_window: int
    ) -> ClaimPlan:
        due = [g["_id"] for g in await self._call(self._aggregate(q.due_tenants_pipeline(now)))]
        expired_docs = await self._call(
            self._executions.find(q.expired_lease_filter(now), q.candidate_projection())
            .sort(q.EXPIRY_ORDER)
            .limit(expired_window)
            .to_list()
        )
        expired = sorted(map(q.Candidate.from_document, expired_docs), key=_claim_order)
        tenants = set(due) | {candidate.tenant for candidate in expired}
        running: dict[str, int] = {}
        if len(tenants) > 1 or (cap is not None and tenants):
            pipeline = q.running_counts_pipeline(list(tenants), now)
            groups = await self._call(self._aggregate(pipeline))
            running = {group["_id"]: group["running"] for group in groups}
        chosen = tenant_order(tenants, running, cap, rotation)[:limit]
        return ClaimPlan(chosen, len(tenants), expired, running, cap, rotation)

    async def _look(
        self, now: datetime, window: int, plan: ClaimPlan, claimed: list[Execution], limit: int
    ) -> Look:
        """Up to `window` candidates of each planned tenant, interleaved in turn order, and how
        many of the `limit - len(claimed)` claims still wanted each tenant gets (its quota)."""
        taken = Counter(execution.tenant for execution in claimed)
        loads = Counter(plan.running) + taken
        wanted = {t: allowance(t, loads, plan.cap, window) for t in plan.tenants}
        pending = await self._pending(now, wanted, plan.single)
        done = {execution.id for execution in claimed}
        queues = {
            tenant: sorted(
                [c for c in plan.expired if c.tenant == tenant and c.id not in done]
                + pending.get(tenant, []),
                key=_claim_order,
            )[: wanted[tenant]]
            for tenant in plan.tenants
        }
        everyone = sum(len(queue) for queue in queues.values())
        order = fair_pick(queues, loads, plan.cap, everyone, plan.rotation)
        quota = Counter(candidate.tenant for candidate in order[: limit - len(claimed)])
        more = any(len(pending.get(t, [])) >= n for t, n in wanted.items() if n)
        return Look(order, quota, more)

    async def _pending(
        self, now: datetime, wanted: dict[str, int], single: bool
    ) -> dict[str, list[q.Candidate]]:
        """Each tenant's first `wanted` due PENDING executions, the queries sent together."""
        wanted = {tenant: n for tenant, n in wanted.items() if n > 0}  # a limit of 0 is none
        if single and wanted:
            ((tenant, n),) = wanted.items()
            return {tenant: await self._due(q.due_pending_filter(now), n)}
        found = await asyncio.gather(
            *(self._due(q.due_pending_filter(now, tenant), n) for tenant, n in wanted.items())
        )
        return dict(zip(wanted, found, strict=True))

    async def _due(self, query: q.Filter, n: int) -> list[q.Candidate]:
        cursor = self._executions.find(query, q.candidate_projection()).sort(q.CLAIM_ORDER)
        docs = await self._call(cursor.limit(n).to_list())
        return [q.Candidate.from_document(doc) for doc in docs]


def _claim_order(candidate: q.Candidate) -> tuple[int, datetime, str]:
    return candidate.claim_order
