"""How subscriptions learn that an execution changed: MongoDB change streams where the
deployment supports them (a replica set), polling everywhere else (a standalone server, the
embedded SQLite store, the test stand-in). Chosen once at start-up and logged.

Either way a subscriber re-reads the store after each wake-up, so a missed notification costs
at most one poll interval, never an update: the store, not the feed, is the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any, Protocol

from common.store.base import Store

log = logging.getLogger("agentfleet.api")

#: With change streams, subscribers still re-read this often as a safety net.
CHANGE_STREAM_SAFETY_POLL = 5.0


class ChangeFeed(Protocol):
    name: str

    async def wait(self, execution_id: str | None) -> None:
        """Return when `execution_id` (None: any execution) may have changed, or after a
        while in any case."""
        ...

    async def close(self) -> None: ...


class PollingFeed:
    name = "polling"

    def __init__(self, interval: float) -> None:
        self.interval = interval

    async def wait(self, execution_id: str | None) -> None:
        await asyncio.sleep(self.interval)

    async def close(self) -> None:
        return None


class ChangeStreamFeed:
    """One change stream per API process over executions and events, fanned out by id."""

    name = "change streams"

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._waiters: dict[str | None, set[asyncio.Event]] = defaultdict(set)
        self._task = asyncio.create_task(self._dispatch(), name="change-stream")

    async def wait(self, execution_id: str | None) -> None:
        event = asyncio.Event()
        self._waiters[execution_id].add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), CHANGE_STREAM_SAFETY_POLL)
        finally:
            self._waiters[execution_id].discard(event)

    async def _dispatch(self) -> None:
        try:
            async for change in self._stream:
                changed = _execution_id_of(change)
                for key in (changed, None):
                    for event in self._waiters.get(key, ()):
                        event.set()
        except Exception:  # the stream died: subscribers fall back to their safety poll
            log.exception("change stream ended; subscriptions continue by polling")

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        with contextlib.suppress(Exception):
            await self._stream.close()


def _execution_id_of(change: dict[str, Any]) -> str | None:
    if change.get("ns", {}).get("coll") == "events":
        return (change.get("fullDocument") or {}).get("execution_id")
    return (change.get("documentKey") or {}).get("_id")


async def open_change_feed(store: Store, poll_interval: float) -> ChangeFeed:
    """Change streams if the store is MongoDB on a replica set, else polling (logged)."""
    database = getattr(store, "database", None)
    if database is not None and hasattr(database, "watch"):
        try:
            pipeline = [{"$match": {"ns.coll": {"$in": ["executions", "events"]}}}]
            stream = await database.watch(pipeline)
            log.info("subscriptions: MongoDB change streams")
            return ChangeStreamFeed(stream)
        except Exception as exc:  # standalone server (no oplog) or a stand-in without watch
            log.info(
                "subscriptions: polling every %.2fs (no change streams: %s)", poll_interval, exc
            )
    else:
        log.info("subscriptions: polling every %.2fs (embedded store)", poll_interval)
    return PollingFeed(poll_interval)
