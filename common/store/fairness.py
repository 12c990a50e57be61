"""Tenant fairness of claims, as pure functions both backends share.

A claim interleaves tenants: each next execution goes to the tenant with the fewest executions in
flight (RUNNING with a live lease, plus those already picked by this claim), so one tenant's batch
of 10,000 cannot starve another tenant's single execution. Among tenants equally loaded the turn
goes round-robin: `rotation` (a claimer's count of its claims) says which tenant, in name order,
comes first this time. With equal loads this is plain round-robin; a tenant with many executions
in flight waits until the others have caught up. Within one tenant the claim order stays as it
was (best priority, then oldest `available_at`, then id). A tenant with `cap` executions in flight
gets nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping, Sequence
from typing import TypeVar

C = TypeVar("C")


def room(tenant: str, running: Mapping[str, int], cap: int | None) -> int | None:
    """How many more executions `tenant` may start (None: no cap)."""
    return None if cap is None else max(cap - running.get(tenant, 0), 0)


def allowance(tenant: str, running: Mapping[str, int], cap: int | None, limit: int) -> int:
    """How many of `limit` claims `tenant` may take: all, or what its cap leaves."""
    left = room(tenant, running, cap)
    return limit if left is None else min(limit, left)


def _ranks(tenants: Collection[str], rotation: int) -> dict[str, int]:
    """Round-robin position of each tenant: name order, starting `rotation` places along."""
    names = sorted(tenants)
    start = rotation % len(names) if names else 0
    return {name: (index - start) % len(names) for index, name in enumerate(names)}


def tenant_order(
    tenants: Collection[str], running: Mapping[str, int], cap: int | None, rotation: int
) -> list[str]:
    """The tenants that may start more executions, the one whose turn comes first first."""
    ranks = _ranks(tenants, rotation)
    allowed = [t for t in tenants if room(t, running, cap) != 0]
    return sorted(allowed, key=lambda t: (running.get(t, 0), ranks[t]))


def fair_pick(
    queues: Mapping[str, Sequence[C]],
    running: Mapping[str, int],
    cap: int | None,
    limit: int,
    rotation: int,
) -> list[C]:
    """Up to `limit` candidates from the tenants' queues (each in its own claim order), in the
    order the turns fall: each pick goes to the least loaded tenant that has one left."""
    ranks = _ranks(queues.keys(), rotation)
    turns = [
        (running.get(tenant, 0), ranks[tenant], tenant)
        for tenant, queue in queues.items()
        if queue and room(tenant, running, cap) != 0
    ]
    heapq.heapify(turns)
    taken = dict.fromkeys(queues, 0)
    picked: list[C] = []
    while turns and len(picked) < limit:
        load, rank, tenant = heapq.heappop(turns)
        picked.append(queues[tenant][taken[tenant]])
        taken[tenant] += 1
        more = taken[tenant] < len(queues[tenant])
        if more and (cap is None or load + 1 < cap):
            heapq.heappush(turns, (load + 1, rank, tenant))
    return picked
