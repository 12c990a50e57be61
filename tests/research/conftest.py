"""Fixtures for the research agent: contexts without a worker, a counting Reddit source, and the
checkpointer of every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from common.agents.base import AgentContext
from common.checkpoints import open_checkpointer
from common.clock import ManualClock
from common.reddit.corpus import CorpusSource
from common.reddit.models import PostDetail, PostSummary
from common.reddit.source import RedditSource
from common.settings import Settings


class CountingSource:
    """A RedditSource that records every call and every post id it returned."""

    def __init__(self, inner: RedditSource | None = None) -> None:
        self.inner = inner or CorpusSource()
        self.calls: list[tuple[Any, ...]] = []
        self.returned_ids: set[str] = set()

    async def search(
        self, subreddit, query, sort="relevance", time_filter="year", limit=10
    ) -> list[PostSummary]:
        self.calls.append(("search", subreddit, query, sort, time_filter, limit))
        posts = await self.inner.search(subreddit, query, sort, time_filter, limit)
        self.returned_ids.update(p.id for p in posts)
        return posts

    async def get_post(self, post_id, comment_limit=8) -> PostDetail:
        self.calls.append(("get_post", post_id))
        post = await self.inner.get_post(post_id, comment_limit)
        self.returned_ids.add(post.id)
        return post

    async def aclose(self) -> None:
        await self.inner.aclose()

    def count(self, method: str) -> int:
        return sum(1 for call in self.calls if call[0] == method)


@dataclass
class Run:
    """One attempt's context and what it reported."""

    ctx: AgentContext
    events: list[tuple[str, str, str | None]] = field(default_factory=list)


@pytest.fixture
def make_run() -> Callable[..., Run]:
    def make(execution_id: str = "exec-1", attempt: int = 1, **resources: Any) -> Run:
        run = Run(AgentContext(execution_id, "tenant-a", attempt, attempt - 1, ManualClock()))

        async def progress(kind: str, summary: str, tool: str | None = None) -> None:
            run.events.append((kind, summary, tool))

        run.ctx.progress = progress
        run.ctx.resources = dict(resources)
        return run

    return make


@pytest.fixture(params=["memory", "sqlite", "mongomock"])
async def saver(request, tmp_path) -> AsyncIterator[BaseCheckpointSaver]:
    """A checkpointer of every kind the fleet uses (real MongoDB runs in tests/test_checkpoints)."""
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param == "sqlite":
        settings = Settings(sqlite_path=str(tmp_path / "agentfleet.db"))
        async with open_checkpointer(settings) as sqlite_saver:
            yield sqlite_saver
    else:
        from mongomock_motor import AsyncMongoMockClient

        database = AsyncMongoMockClient()["agentfleet_test"]
        async with open_checkpointer(Settings(), mongo_database=database) as mongo_saver:
            yield mongo_saver
