"""Which executions a SQLite claim tries, interleaved fairly across tenants (`fairness`).

Every function here reads inside the claim's write transaction and costs index seeks only: the
number of statements grows with the tenants (and their priority levels) that have PENDING work,
never with the executions stored. While one tenant has all the work, the claim reads the global
claim-order index exactly as it always did.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Mapping

from common.store import sqlite_schema as sql
from common.store.fairness import allowance, fair_pick, tenant_order

Row = sqlite3.Row


def claim_order(candidate: Row) -> tuple[int, int, str]:
    """Best priority (highest number) first, then oldest `available_at`, then id."""
    return (-candidate["priority"], candidate["available_at"], candidate["id"])


def candidates(
    conn: sqlite3.Connection, now: int, limit: int, cap: int | None, rotation: int
) -> list[Row]:
    """Up to `limit` due PENDING and lease-expired RUNNING rows, in the order to claim them."""
    if limit <= 0:
        return []
    expired = conn.execute(sql.SELECT_EXPIRED_RUNNING, {"now": now, "limit": limit}).fetchall()
    lowest, highest = conn.execute(sql.PENDING_TENANT_RANGE).fetchone()
    tenants = {row["tenant"] for row in expired} | ({lowest, highest} - {None})
    if len(tenants) > 1:
        return _interleaved(conn, now, limit, cap, rotation, expired)
    # One tenant (or none) has work: its own claim order is the global one.
    if cap is not None and tenants:
        (tenant,) = tenants
        limit = min(limit, cap - _running(conn, tenant, now))
        if limit <= 0:
            return []
    pending = conn.execute(sql.SELECT_DUE_PENDING, {"now": now, "limit": limit}).fetchall()
    return sorted(pending + expired, key=claim_order)[:limit]


def _interleaved(
    conn: sqlite3.Connection,
    now: int,
    limit: int,
    cap: int | None,
    rotation: int,
    expired: list[Row],
) -> list[Row]:
    due: dict[str, list[int]] = defaultdict(list)
    for tenant, priority, available_at in conn.execute(sql.PENDING_GROUP_HEADS):
        if available_at <= now:
            due[tenant].append(priority)
    taken_over: dict[str, list[Row]] = defaultdict(list)
    for row in expired:
        taken_over[row["tenant"]].append(row)
    running = dict(conn.execute(sql.COUNT_RUNNING_BY_TENANT, {"now": now}).fetchall())
    # A claim of `limit` reaches at most the first `limit` tenants in turn order.
    chosen = tenant_order(set(due) | set(taken_over), running, cap, rotation)[:limit]
    wanted = {tenant: allowance(tenant, running, cap, limit) for tenant in chosen}

    def pick(pending: dict[str, list[Row]]) -> list[Row]:
        queues = {
            tenant: sorted(pending.get(tenant, []) + taken_over[tenant], key=claim_order)
            for tenant in chosen
        }
        return fair_pick(queues, running, cap, limit, rotation)

    # Read first only the share each tenant gets while every tenant has enough work...
    asked = Counter(fair_pick({t: [t] * wanted[t] for t in chosen}, running, cap, limit, rotation))
    pending = _due_of_tenants(conn, due, now, asked)
    picked = pick(pending)
    # ...and only if some had less, all that the others may take.
    more = {t: wanted[t] for t in due.keys() & wanted.keys() if asked[t] == len(pending.get(t, []))}
    if len(picked) < limit and any(wanted[t] > asked[t] for t in more):
        picked = pick(pending | _due_of_tenants(conn, due, now, more))
    return picked


def _due_of_tenants(
    conn: sqlite3.Connection, due: dict[str, list[int]], now: int, wanted: Mapping[str, int]
) -> dict[str, list[Row]]:
    """Each tenant's first `wanted` due PENDING rows in claim order, in one statement: up to
    `wanted` from each due priority group, so rows that are not due yet are never walked."""
    groups = [(t, p) for t, n in wanted.items() if n > 0 for p in due.get(t, [])]
    rows: dict[str, list[Row]] = {t: [] for t in wanted}
    if groups:
        params = [value for t, p in groups for value in (t, p, now, wanted[t])]
        for row in conn.execute(sql.select_due_of_groups(len(groups)), params):
            rows[row["tenant"]].append(row)
    # A tenant's groups come best priority first; keep its first `wanted` only.
    return {t: sorted(tenant_rows, key=claim_order)[: wanted[t]] for t, tenant_rows in rows.items()}


def _running(conn: sqlite3.Connection, tenant: str, now: int) -> int:
    """The tenant's executions in flight: RUNNING with a lease that has not expired."""
    params = {"tenant": tenant, "now": now}
    return int(conn.execute(sql.COUNT_RUNNING_OF_TENANT, params).fetchone()[0])
