"""What only the MongoDB backend has: indexes, connection settings, error mapping, claim spreading.

The behaviour every backend shares is in tests/contract. These run on mongomock and, with
MONGODB_URL set, on a real server (`pytest -m mongodb`).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from common.clock import ManualClock
from common.domain import NewExecution, State, Usage
from common.errors import StateConflict, StoreUnavailable
from common.store import mongo_queries as q
from common.store.mongo import MongoStore
from common.store.mongo_queries import Candidate, claim_filter
from tests.support.mongomock_shim import mongomock_store

LEASE = 30.0
UNREACHABLE = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=50&connectTimeoutMS=50"


def new(key: str | None = None, priority: int = 0) -> NewExecution:
    return NewExecution(
        "acme", "echo", {"message": "hi"}, max_attempts=3, priority=priority, idempotency_key=key
    )


async def real_store() -> MongoStore:
    url = os.environ.get("MONGODB_URL")
    if not url:
        pytest.skip("MONGODB_URL is not set: no real MongoDB server to test against")
    return MongoStore.from_url(url, f"agentfleet_test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["mongomock", pytest.param("mongodb", marks=pytest.mark.mongodb)])
async def store(request):
    made = mongomock_store() if request.param == "mongomock" else await real_store()
    await made.init()
    try:
        yield made
    finally:
        if request.param == "mongodb":
            await made.drop_database()
        await made.close()


@pytest.fixture
async def mock_store():
    """On mongomock, with the claim spreading's random source seeded."""
    made = mongomock_store(rng=random.Random(1234))
    await made.init()
    yield made
    await made.close()


# --- indexes ---------------------------------------------------------------------------------

INDEXES: dict[tuple[str, str], tuple[list[tuple[str, int]], dict[str, Any]]] = {
    ("executions", "claim_order"): (
        [("state", 1), ("priority", -1), ("available_at", 1), ("_id", 1)],
        {},
    ),
    ("executions", "lease_expiry"): ([("state", 1), ("lease_expires_at", 1)], {}),
    ("executions", "due"): ([("state", 1), ("available_at", 1)], {}),
    ("executions", "tenant_idempotency_key"): (
        [("tenant", 1), ("idempotency_key", 1)],
        {"unique": True, "partialFilterExpression": {"idempotency_key": {"$type": "string"}}},
    ),
    ("executions", "tenant_newest"): ([("tenant", 1), ("_id", -1)], {}),
    ("executions", "tenant_state_newest"): ([("tenant", 1), ("state", 1), ("_id", -1)], {}),
    ("events", "execution_seq"): ([("execution_id", 1), ("seq", 1)], {"unique": True}),
}


@pytest.mark.parametrize(("collection", "name"), list(INDEXES))
async def test_init_creates_each_index_with_its_keys_and_options(store, collection, name):
    keys, options = INDEXES[collection, name]

    info = (await store.database[collection].index_information())[name]

    assert [(field, int(direction)) for field, direction in info["key"]] == keys
    assert info.get("unique", False) == options.get("unique", False)
    partial = info.get("partialFilterExpression")
    assert (dict(partial) if partial else None) == options.get("partialFilterExpression")


async def test_init_twice_is_harmless(store):
    await store.init()

    assert "claim_order" in await store.database["executions"].index_information()


async def test_executions_without_an_idempotency_key_stay_out_of_the_unique_index(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)

    results = [await store.submit(new(), now) for _ in range(3)]

    assert all(created for _, created in results)


# --- connection settings ---------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "expected"), [("majority", "majority"), ("1", 1)])
async def test_from_url_acknowledges_writes_with_the_configured_write_concern(setting, expected):
    store = MongoStore.from_url(UNREACHABLE, "agentfleet", write_concern=setting)
    try:
        assert store.database.write_concern.document == {"w": expected}
        assert store.client.codec_options.tz_aware is True
    finally:
        await store.close()


async def test_from_url_fails_fast_by_default_but_the_url_may_say_otherwise():
    default = MongoStore.from_url("mongodb://127.0.0.1:1/", "agentfleet")
    explicit = MongoStore.from_url("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1234", "x")
    try:
        assert default.client.options.server_selection_timeout == 5
        assert explicit.client.options.server_selection_timeout == 1.234
    finally:
        await default.close()
        await explicit.close()


# --- failures --------------------------------------------------------------------------------

OPERATIONS = {
    "init": lambda s, now: s.init(),
    "ping": lambda s, now: s.ping(),
    "submit": lambda s, now: s.submit(new(), now),
    "get": lambda s, now: s.get("acme", "x"),
    "claim_next": lambda s, now: s.claim_next("w1", now, LEASE, 1),
    "stats": lambda s, now: s.stats(None, now),
}


@pytest.fixture
async def unreachable():
    """A store whose server refuses connections."""
    store = MongoStore.from_url(UNREACHABLE, "agentfleet")
    yield store
    await store.close()
    # PyMongo 4.20 can leave a refused socket unclosed in a reference cycle (upstream
    # PYTHON-5867); collect it now, inside this test, where its warning is expected.
    gc.collect()


@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_an_unreachable_server_is_store_unavailable(unreachable, operation):
    with pytest.raises(StoreUnavailable):
        await OPERATIONS[operation](unreachable, datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("connection reset"),
        NotPrimaryError("not primary"),
        NetworkTimeout("timed out"),
        ServerSelectionTimeoutError("no servers"),
        ExecutionTimeout("operation exceeded time limit"),
        WTimeoutError("waiting for replication timed out"),
        OperationFailure("unauthorized"),
    ],
)
async def test_a_failing_server_write_is_store_unavailable_and_stores_nothing(
    mock_store, error, monkeypatch
):
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(mock_store._executions, "insert_one", failing)

    with pytest.raises(StoreUnavailable):
        await mock_store.submit(new(), datetime(2026, 1, 1, tzinfo=UTC))
    assert (await mock_store.list_executions("acme")).items == []


async def test_a_second_api_key_with_the_same_hash_is_a_conflict(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await store.create_api_key("acme", "hash-1", now)

    with pytest.raises(StateConflict):
        await store.create_api_key("other", "hash-1", now)
    assert await store.tenant_for_key("hash-1") == "acme"


# --- time ------------------------------------------------------------------------------------


def _naive_datetimes(value: Any, path: str = "") -> list[str]:
    if isinstance(value, datetime):
        return [] if value.utcoffset() == timedelta(0) else [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _naive_datetimes(v, f"{path}.{k}")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _naive_datetimes(v, f"{path}[{i}]")]
    if hasattr(value, "model_dump"):
        return _naive_datetimes(value.model_dump(), path)
    if hasattr(value, "__dataclass_fields__"):
        return _naive_datetimes(vars(value), path)
    return []


async def test_every_datetime_read_back_is_timezone_aware_utc(store):
    clock = ManualClock()
    await store.submit(new(), clock.now())
    [first] = await store.claim_next("w1", clock.now(), LEASE, 1)
    clock.advance(LEASE + 1)
    [taken] = await store.claim_next("w2", clock.now(), LEASE, 1)  # records a LOST attempt
    reads = {
        "claim": taken,
        "renewal": await store.renew_lease(taken.claim(), clock.now(), LEASE),
        "event": await store.append_event(taken.claim(), "llm", "step", clock.now()),
        "events": await store.events("acme", taken.id),
        "get": await store.get("acme", taken.id),
        "list": (await store.list_executions("acme")).items,
        "stats": await store.stats("acme", clock.now()),
    }

    assert taken.attempts and first.started_at is not None
    assert _naive_datetimes(reads) == []


# --- claims ----------------------------------------------------------------------------------


async def test_a_heartbeat_after_expiry_defeats_a_takeover_prepared_before_it(mock_store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await mock_store.submit(new(), now)
    [held] = await mock_store.claim_next("w1", now, LEASE, 1)
    later = now + timedelta(seconds=LEASE + 1)
    seen = Candidate.from_document(
        await mock_store.database["executions"].find_one({"_id": held.id})
    )

    await mock_store.renew_lease(held.claim(), later, LEASE)

    assert await mock_store.database["executions"].find_one(claim_filter(seen, later)) is None
    assert await mock_store.claim_next("w2", later, LEASE, 1) == []


async def test_a_progress_write_after_expiry_defeats_a_takeover_prepared_before_it(mock_store):
    # The takeover counts the `attempt_usage` it read: a newer report must not slip under it.
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await mock_store.submit(new(), now)
    [held] = await mock_store.claim_next("w1", now, LEASE, 1)
    later = now + timedelta(seconds=LEASE + 1)
    seen = Candidate.from_document(
        await mock_store.database["executions"].find_one({"_id": held.id})
    )

    await mock_store.append_event(held.claim(), "llm", "step", later, usage=Usage(llm_calls_ok=1))

    assert await mock_store.database["executions"].find_one(claim_filter(seen, later)) is None


async def test_workers_that_lose_the_race_for_the_head_claim_the_other_due_executions(
    mock_store,
):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    submitted = {(await mock_store.submit(new(), now))[0].id for _ in range(8)}

    results = await asyncio.gather(
        *(mock_store.claim_next(f"w{i}", now, LEASE, 1) for i in range(8))
    )

    assert sorted(len(claimed) for claimed in results) == [1] * 8
    assert {claimed[0].id for claimed in results} == submitted


async def test_a_herd_of_workers_polling_together_spreads_over_the_queue(mock_store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(100):
        await mock_store.submit(new(), now)
    before = mock_store.round_trips

    results = await asyncio.gather(
        *(mock_store.claim_next(f"w{i}", now, LEASE, 4) for i in range(20))
    )

    claimed = [e.id for batch in results for e in batch]
    assert len(claimed) == len(set(claimed)) == 80
    assert (mock_store.round_trips - before) / len(claimed) < 5


async def test_an_expired_lease_of_higher_priority_is_taken_over_first(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    urgent, _ = await store.submit(new(priority=5), now)
    await store.claim_next("w1", now, LEASE, 1)
    later = now + timedelta(seconds=LEASE + 1)
    await store.submit(new(priority=0), later)

    [claimed] = await store.claim_next("w2", later, LEASE, 1)

    assert claimed.id == urgent.id
    assert claimed.state == State.RUNNING and claimed.executions == 2


async def test_each_operation_counts_its_round_trips(mock_store):
    now = datetime(2026, 1, 1, tzinfo=UTC)

    async def trips(operation) -> int:
        before = mock_store.round_trips
        await operation
        return mock_store.round_trips - before

    assert await trips(mock_store.submit(new(), now)) == 1
    [held] = await mock_store.claim_next("w1", now, LEASE, 1)
    assert await trips(mock_store.renew_lease(held.claim(), now, LEASE)) == 1
    assert await trips(mock_store.append_event(held.claim(), "llm", "step", now)) == 2
    assert await trips(mock_store.get("acme", held.id)) == 1
    await mock_store.submit(new(), now)
    # which tenants have due work, expired leases, that tenant's queue; then the claim
    assert await trips(mock_store.claim_next("w1", now, LEASE, 1)) == 4


# --- real server only ------------------------------------------------------------------------


@pytest.mark.mongodb
async def test_the_claim_query_walks_the_claim_order_index():
    store = await real_store()
    await store.init()
    try:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for priority in range(50):
            await store.submit(new(priority=priority % 3), now)
        cursor = store.database["executions"].find(q.due_pending_filter(now)).sort(q.CLAIM_ORDER)
        plan = (await cursor.limit(10).explain())["queryPlanner"]["winningPlan"]

        assert _index_names(plan) == {"claim_order"}
        assert "SORT" not in _stages(plan)
    finally:
        await store.drop_database()
        await store.close()


@pytest.mark.mongodb
async def test_separate_clients_racing_for_executions_claim_each_exactly_once():
    first = await real_store()
    await first.init()
    others = [MongoStore.from_url(os.environ["MONGODB_URL"], first.db_name) for _ in range(5)]
    try:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        submitted = {(await first.submit(new(), now))[0].id for _ in range(40)}
        stores = [first, *others]

        results = await asyncio.gather(
            *(s.claim_next(f"w{i}", now, LEASE, 4) for i, s in enumerate(stores * 3))
        )

        claimed = [e.id for batch in results for e in batch]
        assert len(claimed) == len(set(claimed))
        assert set(claimed) <= submitted
    finally:
        await first.drop_database()
        for s in [first, *others]:
            await s.close()


@pytest.mark.mongodb
async def test_the_fair_claim_reads_tenants_and_their_queues_off_indexes_without_sorting():
    store = await real_store()
    await store.init()
    try:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(60):
            tenant = f"tenant-{i % 3}"
            await store.submit(NewExecution(tenant, "echo", {}, 3, priority=i % 2), now)
        tenants = await store.database.command(
            "aggregate",
            "executions",
            pipeline=q.due_tenants_pipeline(now),
            explain=True,
        )
        queue = (
            store.database["executions"]
            .find(q.due_pending_filter(now, "tenant-1"))
            .sort(q.CLAIM_ORDER)
            .limit(8)
        )
        queue_plan = (await queue.explain())["queryPlanner"]["winningPlan"]

        assert "tenant_due" in _index_names(tenants) and "SORT" not in _stages(tenants)
        assert _index_names(queue_plan) == {"tenant_claim_order"}
        assert "SORT" not in _stages(queue_plan)
    finally:
        await store.drop_database()
        await store.close()


def _walk(plan: Any) -> list[dict[str, Any]]:
    if isinstance(plan, dict):
        return [plan, *(n for v in plan.values() for n in _walk(v))]
    if isinstance(plan, list):
        return [n for v in plan for n in _walk(v)]
    return []


def _index_names(plan: Any) -> set[str]:
    return {n["indexName"] for n in _walk(plan) if "indexName" in n}


def _stages(plan: Any) -> set[str]:
    return {n["stage"] for n in _walk(plan) if "stage" in n}


# --- packaging -------------------------------------------------------------------------------


def test_production_code_never_loads_the_mongomock_shim():
    probe = (
        "import sys, common.store.mongo, common.store.mongo_queries; "
        "assert not [m for m in sys.modules if 'mongomock' in m], 'mongomock loaded'"
    )

    subprocess.run([sys.executable, "-c", probe], check=True, cwd=Path(__file__).parents[1])
