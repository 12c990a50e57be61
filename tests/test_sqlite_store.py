"""What only the SQLite backend has: one file shared by connections and by processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from datetime import UTC, datetime

import pytest

from common.domain import NewExecution, State, Usage
from common.errors import StoreUnavailable
from common.store.sqlite import SqliteStore
from common.store.sqlite_schema import SCHEMA_VERSION

LEASE = 30.0
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def new(key: str | None = None) -> NewExecution:
    return NewExecution("acme", "echo", {"message": "hi"}, max_attempts=3, idempotency_key=key)


async def opened(path) -> SqliteStore:
    store = SqliteStore(str(path))
    await store.init()
    return store


@pytest.fixture
async def two_stores(tmp_path):
    """Two stores on one file, each with its own connection, as two processes would have."""
    first, second = await opened(tmp_path / "fleet.db"), await opened(tmp_path / "fleet.db")
    yield first, second
    await first.close()
    await second.close()


async def test_two_connections_racing_for_one_execution_have_one_winner(two_stores):
    await two_stores[0].submit(new(), NOW)

    results = await asyncio.gather(
        *(store.claim_next(f"w{i}", NOW, LEASE, 1) for i, store in enumerate(two_stores * 10))
    )

    assert sum(len(claimed) for claimed in results) == 1


async def test_two_connections_share_each_others_writes(two_stores):
    first, second = two_stores
    execution, _ = await first.submit(new(), NOW)

    [claimed] = await second.claim_next("w1", NOW, LEASE, 1)

    assert claimed.id == execution.id
    assert (await first.get("acme", execution.id)).state == State.RUNNING


async def test_concurrent_submits_on_two_connections_with_one_key_make_one_execution(two_stores):
    results = await asyncio.gather(*(store.submit(new("race"), NOW) for store in two_stores * 10))

    assert len({execution.id for execution, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1


async def test_executions_survive_closing_and_reopening_the_file(tmp_path):
    store = await opened(tmp_path / "fleet.db")
    execution, _ = await store.submit(new(), NOW)
    await store.close()

    reopened = await opened(tmp_path / "fleet.db")
    try:
        assert await reopened.get("acme", execution.id) == execution
    finally:
        await reopened.close()


async def test_a_file_made_before_attempt_usage_gets_the_column_and_keeps_its_rows(tmp_path):
    store = await opened(tmp_path / "fleet.db")
    execution, _ = await store.submit(new(), NOW)
    await store.close()
    with sqlite3.connect(tmp_path / "fleet.db") as conn:  # the file as schema version 2 made it
        conn.execute("ALTER TABLE executions DROP COLUMN attempt_usage")
        conn.execute("PRAGMA user_version = 2")

    reopened = await opened(tmp_path / "fleet.db")
    try:
        assert await reopened.get("acme", execution.id) == execution
        [held] = await reopened.claim_next("w1", NOW, LEASE, 1)
        usage = Usage(llm_calls_ok=1)
        assert await reopened.append_event(held.claim(), "llm", "asked", NOW, usage=usage)
        assert (await reopened.get("acme", execution.id)).attempt_usage == usage
    finally:
        await reopened.close()
    with sqlite3.connect(tmp_path / "fleet.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_the_file_is_in_wal_mode(tmp_path):
    store = await opened(tmp_path / "fleet.db")
    await store.close()

    with sqlite3.connect(tmp_path / "fleet.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_an_unopenable_file_is_reported_as_store_unavailable(tmp_path):
    store = SqliteStore(str(tmp_path / "no-such-dir" / "fleet.db"))
    try:
        with pytest.raises(StoreUnavailable, match="unable to open"):
            await store.init()
    finally:
        await store.close()


async def test_a_file_that_is_not_a_database_is_reported_as_store_unavailable(tmp_path):
    (tmp_path / "fleet.db").write_bytes(b"this is not a database file, not at all" * 100)
    store = SqliteStore(str(tmp_path / "fleet.db"))
    try:
        with pytest.raises(StoreUnavailable, match="not a database"):
            await store.init()
    finally:
        await store.close()


async def test_a_lock_held_past_the_busy_timeout_is_reported_as_store_unavailable(tmp_path):
    store = SqliteStore(str(tmp_path / "fleet.db"), busy_timeout=0.05)
    await store.init()
    blocker = sqlite3.connect(tmp_path / "fleet.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            await store.submit(new(), NOW)
    finally:
        blocker.rollback()
        blocker.close()
        await store.close()


async def test_the_store_works_again_once_a_lock_that_timed_it_out_is_released(tmp_path):
    store = SqliteStore(str(tmp_path / "fleet.db"), busy_timeout=0.05)
    await store.init()
    execution, _ = await store.submit(new(), NOW)
    blocker = sqlite3.connect(tmp_path / "fleet.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable):
            await store.claim_next("w1", NOW, LEASE, 1)
    finally:
        blocker.rollback()
        blocker.close()
    try:
        assert [e.id for e in await store.claim_next("w1", NOW, LEASE, 1)] == [execution.id]
    finally:
        await store.close()


async def test_a_closed_store_is_reported_as_store_unavailable(tmp_path):
    store = await opened(tmp_path / "fleet.db")
    await store.close()

    with pytest.raises(StoreUnavailable, match="closed"):
        await store.get("acme", "x")


async def test_a_memory_store_works_without_a_file():
    store = await opened(":memory:")
    try:
        execution, _ = await store.submit(new(), NOW)
        assert await store.get("acme", execution.id) == execution
    finally:
        await store.close()


async def test_every_operation_counts_one_round_trip(tmp_path):
    store = await opened(tmp_path / "fleet.db")
    try:
        before = store.round_trips
        await store.submit(new(), NOW)
        [claimed] = await store.claim_next("w1", NOW, LEASE, 10)
        await store.renew_lease(claimed.claim(), NOW, LEASE)
        assert store.round_trips - before == 3
    finally:
        await store.close()


async def test_the_claim_statement_matches_nothing_once_the_execution_has_moved_on(tmp_path):
    """The conditional update itself refuses a stale read, whatever the transaction does."""
    from common.store import sqlite_schema as sql

    store = await opened(tmp_path / "fleet.db")
    execution, _ = await store.submit(new(), NOW)
    await store.claim_next("w1", NOW, LEASE, 1)
    await store.close()
    stale = {
        "id": execution.id,
        "state": "PENDING",
        "executions": 0,
        "worker_id": "w2",
        "lease_expires_at": 0,
        "now": 0,
        "lost": 0,
        "attempts": None,
        "usage": None,
    }

    with sqlite3.connect(tmp_path / "fleet.db") as conn:
        assert conn.execute(sql.CLAIM, stale).fetchall() == []
        assert conn.execute("SELECT worker_id FROM executions").fetchall() == [("w1",)]


def test_the_claim_query_plans_use_indexes_only(tmp_path):
    """A table scan would make claim cost grow with the stored history."""
    from common.store import sqlite_schema as sql

    conn = sqlite3.connect(tmp_path / "plan.db")
    for statement in sql.DDL:
        conn.execute(statement)
    params = {"now": 0, "limit": 1}
    for query in (sql.SELECT_DUE_PENDING, sql.SELECT_EXPIRED_RUNNING):
        plan = " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", params))
        assert "USING INDEX" in plan and not plan.startswith("SCAN executions"), plan
    conn.close()


def test_the_fair_claim_queries_seek_indexes_and_never_sort(tmp_path):
    """Interleaving tenants costs index seeks per tenant, never a walk over executions."""
    from common.store import sqlite_schema as sql

    conn = sqlite3.connect(tmp_path / "plan.db")
    for statement in sql.DDL:
        conn.execute(statement)
    named = {"now": 0, "limit": 1, "tenant": "acme", "priority": 0}
    queries = [
        (sql.PENDING_TENANT_RANGE, named),
        (sql.PENDING_GROUP_HEADS, named),
        (sql.COUNT_RUNNING_BY_TENANT, named),
        (sql.COUNT_RUNNING_OF_TENANT, named),
        (sql.select_due_of_groups(2), ["acme", 0, 0, 1, "globex", 5, 0, 1]),
    ]
    for query, params in queries:
        steps = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", params)]
        # `n` and `g` are the walk's aliases of executions; every read of it goes by an index.
        table_reads = [s for s in steps if s.split()[:2][-1] in ("executions", "n", "g")]
        assert all(" USING " in s for s in table_reads), steps
        assert not any("TEMP B-TREE" in s for s in steps), steps
    conn.close()


def test_the_due_schedules_query_reads_only_its_partial_index(tmp_path):
    """Paused and far-off schedules are never walked when workers look for due ones."""
    from common.store import sqlite_schema as sql

    conn = sqlite3.connect(tmp_path / "plan.db")
    for statement in sql.DDL:
        conn.execute(statement)
    plan = " | ".join(
        row[-1]
        for row in conn.execute(f"EXPLAIN QUERY PLAN {sql.DUE_SCHEDULES}", {"now": 0, "limit": 1})
    )
    conn.close()

    assert "USING INDEX ix_schedules_due" in plan and "TEMP B-TREE" not in plan, plan


# --- a real fleet: several processes on one file ---------------------------------------------

PROCESSES = 4
EXECUTIONS = 200


def _claim_until_empty(path: str, worker_id: str, start, results) -> None:
    """A worker process: claim one at a time until nothing is due, report what it got."""

    async def run() -> list[str]:
        store = await opened(path)
        claimed: list[str] = []
        try:
            start.wait()
            while batch := await store.claim_next(worker_id, NOW, LEASE, 1):
                claimed.extend(execution.id for execution in batch)
        finally:
            await store.close()
        return claimed

    results.put((worker_id, asyncio.run(run())))


async def test_worker_processes_on_one_file_claim_every_execution_exactly_once(tmp_path):
    path = str(tmp_path / "fleet.db")
    store = await opened(path)
    ids = {(await store.submit(new(), NOW))[0].id for _ in range(EXECUTIONS)}
    await store.close()
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_claim_until_empty, args=(path, f"p{i}", start, results))
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()

    claimed = dict(await asyncio.to_thread(lambda: [results.get(timeout=30) for _ in workers]))
    for worker in workers:
        worker.join(timeout=10)

    every_claim = [eid for got in claimed.values() for eid in got]
    assert sorted(every_claim) == sorted(ids)
    assert all(claimed.values()), "every process should have won some claims"
    assert all(worker.exitcode == 0 for worker in workers)
