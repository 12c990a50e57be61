"""Shared fixtures: stores of every backend, an injected clock, a seeded RNG."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator

import pytest

from common.clock import ManualClock
from common.store.base import Store


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-big",
        action="store_true",
        help="also run the chaos suite at its big size (tests marked chaos_big)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--chaos-big"):
        return
    skip = pytest.mark.skip(reason="the big chaos run needs --chaos-big (make chaos-big)")
    for item in items:
        if "chaos_big" in item.keywords:
            item.add_marker(skip)


#: Every backend the contract suite runs on. Real MongoDB only with MONGODB_URL (`-m mongodb`).
BACKENDS = ["sqlite", "mongomock", pytest.param("mongodb", marks=pytest.mark.mongodb)]


async def make_store(backend: str, tmp_path) -> Store:
    if backend == "sqlite":
        from common.store.sqlite import SqliteStore

        store: Store = SqliteStore(str(tmp_path / "agentfleet.db"))
    elif backend == "mongomock":
        from tests.support.mongomock_shim import mongomock_store

        store = mongomock_store()
    elif backend == "mongodb":
        url = os.environ.get("MONGODB_URL")
        if not url:
            pytest.skip("MONGODB_URL is not set: no real MongoDB server to test against")
        from common.store.mongo import MongoStore

        store = MongoStore.from_url(url, f"agentfleet_test_{uuid.uuid4().hex[:12]}")
    else:  # pragma: no cover
        raise ValueError(backend)
    await store.init()
    return store


async def drop_store(backend: str, store: Store) -> None:
    if backend == "mongodb":
        await store.drop_database()  # type: ignore[attr-defined]
    await store.close()


@pytest.fixture(params=BACKENDS)
async def any_store(request, tmp_path) -> AsyncIterator[Store]:
    """The same test, once per backend."""
    store = await make_store(request.param, tmp_path)
    try:
        yield store
    finally:
        await drop_store(request.param, store)


@pytest.fixture
async def sqlite_store(tmp_path) -> AsyncIterator[Store]:
    store = await make_store("sqlite", tmp_path)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)
