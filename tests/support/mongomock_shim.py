"""Every shim mongomock-motor needs to stand in for PyMongo's `AsyncMongoClient` under beanie 2.

mongomock-motor imitates motor, whose API differs from PyMongo's async one in a few places, and
mongomock drops some index options. All the patches live here, applied once on import; production
code never imports this module.

1. `Database.list_collection_names` rejects the `authorizedCollections`/`nameOnly` keywords that
   `init_beanie` passes.
2. `Collection.create_indexes` drops `partialFilterExpression`, so the partial unique index on
   `(tenant, idempotency_key)` would reject every second execution without a key.
3. PyMongo's async `aggregate` is a coroutine returning a cursor; motor's returns the cursor.
4. PyMongo's async `close` is a coroutine; mongomock's is a plain method.
5. mongomock-motor's coroutines never suspend, so `asyncio.gather` over store calls would run
   them one after another and a race test would prove nothing. Every operation first yields to
   the event loop, as a real driver waiting for the server does: concurrent callers interleave
   between operations, never inside one (the server's single-document atomicity).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from mongomock.collection import Collection
from mongomock.database import Database
from mongomock_motor import AsyncCursor, AsyncMongoMockClient, AsyncMongoMockCollection

from common.store.mongo import MongoStore

_INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "name")

#: The operations that become a round trip to the server, per mongomock-motor class.
_SUSPENDING = {
    AsyncMongoMockCollection: (
        "aggregate",
        "count_documents",
        "delete_many",
        "delete_one",
        "find_one",
        "find_one_and_update",
        "insert_many",
        "insert_one",
        "update_many",
        "update_one",
    ),
    AsyncCursor: ("to_list",),
}


class _AsyncCloseClient(AsyncMongoMockClient):
    async def close(self) -> None:  # type: ignore[override]
        pass


def _accepting_server_options(list_collection_names: Callable[..., list[str]]) -> Any:
    @functools.wraps(list_collection_names)
    def patched(self: Database, filter: Any = None, session: Any = None, **_: Any) -> list[str]:
        return list_collection_names(self, filter=filter, session=session)

    return patched


def _create_indexes(self: Collection, indexes: list[Any], session: Any = None) -> list[str]:
    names = []
    for index in indexes:
        spec = index.document
        options = {k: spec[k] for k in _INDEX_OPTIONS if k in spec}
        names.append(self.create_index(list(spec["key"].items()), session=session, **options))
    return names


def _awaitable(method: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(method)
    async def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs)

    return patched


def _suspending(method: Callable[..., Coroutine[Any, Any, Any]]) -> Any:
    @functools.wraps(method)
    async def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)  # a bare yield to other tasks, not a timing sleep
        return await method(self, *args, **kwargs)

    return patched


def _apply() -> None:
    if getattr(Database, "_agentfleet_shimmed", False):
        return
    Database._agentfleet_shimmed = True  # type: ignore[attr-defined]
    Database.list_collection_names = _accepting_server_options(  # type: ignore[method-assign]
        Database.list_collection_names
    )
    Collection.create_indexes = _create_indexes  # type: ignore[method-assign]
    AsyncMongoMockCollection.aggregate = _awaitable(  # type: ignore[method-assign,assignment]
        AsyncMongoMockCollection.aggregate
    )
    for cls, names in _SUSPENDING.items():
        for name in names:
            setattr(cls, name, _suspending(getattr(cls, name)))


_apply()


def mongomock_client() -> Any:
    """A fresh, empty in-memory client with PyMongo's async surface (as far as we use it)."""
    return _AsyncCloseClient(tz_aware=True)


def mongomock_store(**kwargs: Any) -> MongoStore:
    """A `MongoStore` on a fresh in-memory client; `init()` it before use."""
    return MongoStore(mongomock_client(), f"agentfleet_{uuid.uuid4().hex[:8]}", **kwargs)
