"""Step-level checkpoints for LangGraph agents, keyed by execution id (`thread_id`).

LangGraph saves a checkpoint after every super-step (an LLM call, a round of tool calls) and the
writes of each finished task inside a step. An attempt that fails at step k leaves steps 1..k-1
behind; the next attempt invokes the graph with input `None` on the same thread and continues at
step k, so no successful LLM or tool call is made (and paid) twice.

Retention: the worker deletes an execution's checkpoints as soon as it SUCCEEDED or was
CANCELLED; a FAILED one keeps them, so that a user's `retryExecution` resumes at the step that
failed instead of paying again for every call that had succeeded. The worker's checkpoint janitor
(`worker.janitor`) deletes what is left behind: threads of executions that ended without a
worker (cancelled while PENDING), FAILED longer than the retention, or gone.

Backends follow the store:

* SQLite (embedded): the official `AsyncSqliteSaver` on the store's own file, in WAL mode, with
  a busy timeout so checkpoint writes queue behind the store's writers instead of failing.
* MongoDB: `AsyncMongoSaver` below, our own small saver on PyMongo's `AsyncMongoClient`. The
  official `langgraph-checkpoint-mongodb` (0.5) no longer fits: its `AsyncMongoDBSaver` (Motor)
  was removed in 0.3, and the remaining `MongoDBSaver` needs a synchronous `MongoClient` (a second
  connection pool beside the store's async one) and runs every async call in a thread executor;
  it also cannot run on the in-process `mongomock-motor` stand-in the tests use. The documents
  keep `MongoDBSaver`'s shape (collections `checkpoints` and `checkpoint_writes`), so its tools
  can read ours. A TTL index on `created_at` backs up the janitor: no checkpoint outlives
  `CHECKPOINT_TTL_SECONDS` after it was written, whatever happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from common.settings import Settings

#: Checkpoints on MongoDB expire this long after they were written, whatever happens.
CHECKPOINT_TTL_SECONDS = 7 * 24 * 3600
#: How long a checkpoint write waits for the store's SQLite writers before failing.
SQLITE_BUSY_TIMEOUT = 30.0


def thread_config(execution_id: str) -> RunnableConfig:
    """The run config that ties a graph run to the execution's checkpoints."""
    return {"configurable": {"thread_id": execution_id}}


async def resume_or_start(saver: BaseCheckpointSaver, execution_id: str, fresh_input: Any) -> Any:
    """The graph input for this attempt: None (continue from where an earlier attempt stopped)
    if the execution has a checkpoint, else `fresh_input`."""
    return None if await saver.aget_tuple(thread_config(execution_id)) else fresh_input


async def delete_checkpoints(saver: BaseCheckpointSaver, execution_id: str) -> None:
    """Remove every checkpoint of a terminal execution."""
    await saver.adelete_thread(execution_id)


#: The thread ids of the SQLite saver's checkpoints, a page at a time (on its primary key).
_SQLITE_THREADS = (
    "SELECT DISTINCT thread_id FROM checkpoints WHERE thread_id > ? ORDER BY thread_id LIMIT ?"
)


async def checkpoint_threads(saver: BaseCheckpointSaver, after: str, limit: int) -> list[str]:
    """Up to `limit` thread ids (execution ids) that have checkpoints, ascending, all greater
    than `after` (start with ""): the janitor pages through every thread with it."""
    if isinstance(saver, AsyncMongoSaver):
        return await saver.thread_ids(after, limit)
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    if isinstance(saver, AsyncSqliteSaver):
        await saver.setup()
        async with saver.lock, saver.conn.execute(_SQLITE_THREADS, (after, limit)) as cursor:
            return [str(row[0]) async for row in cursor]
    raise TypeError(f"cannot list the threads of a {type(saver).__name__}")


@asynccontextmanager
async def open_checkpointer(
    settings: Settings, *, mongo_database: Any | None = None
) -> AsyncIterator[BaseCheckpointSaver]:
    """The saver for the configured store backend, open for the duration of the block.

    On MongoDB pass the store's async database (`mongo_database`) to share its client;
    without it a client is opened from `settings.mongodb_url` and closed at the end.
    """
    if mongo_database is not None:
        saver = AsyncMongoSaver(mongo_database)
        await saver.setup()
        yield saver
    elif settings.store_backend == "mongodb":
        async with _mongo_client(settings) as client:
            saver = AsyncMongoSaver(client[settings.mongodb_db])
            await saver.setup()
            yield saver
    else:
        async with _sqlite_saver(settings.sqlite_path) as sqlite_saver:
            yield sqlite_saver


def _shielded_sqlite_saver(conn: Any) -> BaseCheckpointSaver:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    class ShieldedSqliteSaver(AsyncSqliteSaver):
        """`AsyncSqliteSaver` whose writes, once started, finish even if the attempt is
        cancelled (lease lost, cancel requested, shutdown, a failing sibling step).

        aiosqlite runs each statement in its own thread whatever happens to the awaiting task:
        a cancellation between the INSERT and its commit left the write transaction open, and
        so SQLite's write lock held against every process on the file, until this connection's
        next commit (in an idle worker: indefinitely); the checkpoint itself stayed invisible
        to the worker resuming the execution, which repeated that step."""

        async def aput(self, *args: Any, **kwargs: Any) -> RunnableConfig:
            return await asyncio.shield(super().aput(*args, **kwargs))

        async def aput_writes(self, *args: Any, **kwargs: Any) -> None:
            await asyncio.shield(super().aput_writes(*args, **kwargs))

        async def adelete_thread(self, thread_id: str) -> None:
            await asyncio.shield(super().adelete_thread(thread_id))

    return ShieldedSqliteSaver(conn)


@asynccontextmanager
async def _sqlite_saver(path: str) -> AsyncIterator[BaseCheckpointSaver]:
    import aiosqlite

    conn = await aiosqlite.connect(path, timeout=SQLITE_BUSY_TIMEOUT)
    try:
        # WAL (set by setup) + NORMAL survives a killed process; only an OS crash can lose
        # the last checkpoints, which costs a repeated step, never a wrong result.
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = _shielded_sqlite_saver(conn)
        await saver.setup()  # type: ignore[attr-defined]
        yield saver
        # Writes of cancelled attempts may still be finishing: the saver's lock is taken in
        # turn, so once it is ours they are done and the connection can close under nobody.
        async with saver.lock:  # type: ignore[attr-defined]
            pass
    finally:
        await conn.close()


@asynccontextmanager
async def _mongo_client(settings: Settings) -> AsyncIterator[Any]:
    from pymongo import AsyncMongoClient

    w: int | str = 1 if settings.write_concern == "1" else "majority"
    client: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongodb_url, w=w, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


# --- MongoDB ---------------------------------------------------------------------------------


def _text(value: Any, name: str) -> str:
    # Identifiers go straight into query documents: a dict would be read as an operator.
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _dump_metadata(serde: SerializerProtocol, value: Any) -> Any:
    # Keys stay plain so that `alist(filter=...)` can query `metadata.<key>` directly.
    if isinstance(value, dict):
        return {str(k): _dump_metadata(serde, v) for k, v in value.items()}
    return list(serde.dumps_typed(value))


def _load_metadata(serde: SerializerProtocol, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _load_metadata(serde, v) for k, v in value.items()}
    return serde.loads_typed((value[0], value[1]))


class AsyncMongoSaver(BaseCheckpointSaver[int]):
    """A LangGraph checkpoint saver on an async MongoDB database (PyMongo's `AsyncMongoClient`
    or `mongomock-motor`). Async only: graphs must be run with `ainvoke`/`astream`."""

    def __init__(
        self,
        database: Any,
        *,
        ttl_seconds: int | None = CHECKPOINT_TTL_SECONDS,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.checkpoints = database["checkpoints"]
        self.writes = database["checkpoint_writes"]
        self.ttl_seconds = ttl_seconds

    async def setup(self) -> None:
        """Create the indexes (idempotent)."""
        key = [("thread_id", 1), ("checkpoint_ns", 1), ("checkpoint_id", -1)]
        await self.checkpoints.create_index(key, unique=True)
        await self.writes.create_index([*key, ("task_id", 1), ("idx", 1)], unique=True)
        if self.ttl_seconds:
            for collection in (self.checkpoints, self.writes):
                await collection.create_index("created_at", expireAfterSeconds=self.ttl_seconds)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        configurable = config["configurable"]
        query = {
            "thread_id": _text(configurable["thread_id"], "thread_id"),
            "checkpoint_ns": _text(configurable.get("checkpoint_ns", ""), "checkpoint_ns"),
        }
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id:
            query["checkpoint_id"] = _text(checkpoint_id, "checkpoint_id")
        doc = await self.checkpoints.find_one(query, sort=[("checkpoint_id", -1)])
        return None if doc is None else await self._tuple(doc)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        query: dict[str, Any] = {}
        for name in ("thread_id", "checkpoint_ns"):
            if config is not None and name in config["configurable"]:
                query[name] = _text(config["configurable"][name], name)
        for key, value in (filter or {}).items():
            query[f"metadata.{_text(key, 'filter key')}"] = _dump_metadata(self.serde, value)
        if before is not None:
            before_id = _text(get_checkpoint_id(before), "before checkpoint_id")
            query["checkpoint_id"] = {"$lt": before_id}
        cursor = self.checkpoints.find(query, sort=[("checkpoint_id", -1)], limit=limit or 0)
        async for doc in cursor:
            yield await self._tuple(doc)

    async def _tuple(self, doc: dict[str, Any]) -> CheckpointTuple:
        ids = {k: doc[k] for k in ("thread_id", "checkpoint_ns", "checkpoint_id")}
        writes = [w async for w in self.writes.find(ids)]
        # LangGraph replays a step's writes in (task_path, task_id, idx) order.
        writes.sort(key=lambda w: (w.get("task_path", ""), w["task_id"], w["idx"]))
        parent = doc.get("parent_checkpoint_id")
        return CheckpointTuple(
            config={"configurable": ids},
            checkpoint=self.serde.loads_typed((doc["type"], doc["checkpoint"])),
            metadata=_load_metadata(self.serde, doc["metadata"]),
            parent_config=({"configurable": {**ids, "checkpoint_id": parent}} if parent else None),
            pending_writes=[
                (w["task_id"], w["channel"], self.serde.loads_typed((w["type"], w["value"])))
                for w in writes
            ],
        )

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        configurable = config["configurable"]
        ids = {
            "thread_id": _text(configurable["thread_id"], "thread_id"),
            "checkpoint_ns": _text(configurable.get("checkpoint_ns", ""), "checkpoint_ns"),
            "checkpoint_id": _text(checkpoint["id"], "checkpoint id"),
        }
        type_, blob = self.serde.dumps_typed(checkpoint)
        doc = {
            "parent_checkpoint_id": configurable.get("checkpoint_id"),
            "type": type_,
            "checkpoint": blob,
            "metadata": _dump_metadata(self.serde, get_checkpoint_metadata(config, metadata)),
            "created_at": datetime.now(UTC),
        }
        await self.checkpoints.update_one(ids, {"$set": doc}, upsert=True)
        return {"configurable": ids}

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        configurable = config["configurable"]
        base = {
            "thread_id": _text(configurable["thread_id"], "thread_id"),
            "checkpoint_ns": _text(configurable.get("checkpoint_ns", ""), "checkpoint_ns"),
            "checkpoint_id": _text(configurable["checkpoint_id"], "checkpoint_id"),
            "task_id": _text(task_id, "task_id"),
        }
        # Ordinary writes are first-wins (a retried task must not overwrite what a finished one
        # wrote); special ones (errors, interrupts) are replaced, as in LangGraph's own savers.
        operator = "$set" if all(ch in WRITES_IDX_MAP for ch, _ in writes) else "$setOnInsert"
        now = datetime.now(UTC)
        # One update per write rather than bulk_write: mongomock cannot run PyMongo 4.20's
        # UpdateOne, and a task rarely writes more than two or three channels.
        for idx, (channel, value) in enumerate(writes):
            type_, blob = self.serde.dumps_typed(value)
            key = {**base, "idx": WRITES_IDX_MAP.get(channel, idx)}
            fields = {"task_path": task_path, "channel": channel, "type": type_, "value": blob}
            await self.writes.update_one(
                key, {operator: {**fields, "created_at": now}}, upsert=True
            )

    async def thread_ids(self, after: str, limit: int) -> list[str]:
        """Up to `limit` thread ids greater than `after`, ascending (see `checkpoint_threads`)."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"thread_id": {"$gt": _text(after, "after")}}},
            # Sorted on the index's prefix and grouped with $first only: a DISTINCT_SCAN, one
            # index seek per thread rather than one key per checkpoint.
            {"$sort": {"thread_id": 1}},
            {"$group": {"_id": "$thread_id", "first": {"$first": "$thread_id"}}},
            {"$sort": {"_id": 1}},
            {"$limit": limit},
        ]
        cursor = await self.checkpoints.aggregate(pipeline)
        return [doc["_id"] for doc in await cursor.to_list()]

    async def adelete_thread(self, thread_id: str) -> None:
        query = {"thread_id": _text(thread_id, "thread_id")}
        await self.checkpoints.delete_many(query)
        await self.writes.delete_many(query)
