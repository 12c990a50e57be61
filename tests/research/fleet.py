"""Building blocks for fleet-level research tests: real Workers on a SQLite store, the worker
process's own resources (`open_resources`: checkpointer on the store's file, real OpenAI client
with its retries off), and the local fake provider serving the offline research policy over HTTP.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from common.agents.registry import AgentRegistry, default_registry
from common.agents.research import ResearchInput
from common.agents.research.scripted import research_policy
from common.agents.resources import open_resources
from common.clock import Clock
from common.llm.fake_provider import FakeProvider, RunningFakeProvider, serve_fake_provider
from common.llm.faults import FaultPlan
from common.llm.scripted import Policy
from common.reddit.corpus import load_corpus
from common.settings import Settings
from common.store.base import Store
from tests.research.conftest import CountingSource
from tests.worker.harness import worker_settings
from worker.loop import Worker

#: The API key the fake provider expects and the fleet sends.
PROVIDER_KEY = "sk-fleet-test"


def provider_settings(db: Path, fake: RunningFakeProvider, **overrides: Any) -> Settings:
    """Worker settings for the fake provider as an OpenAI-compatible endpoint, on `db`."""
    base = {
        "sqlite_path": str(db),
        "llm_provider": "openai",
        "llm_base_url": fake.base_url,
        "llm_api_key": PROVIDER_KEY,
        "llm_timeout": 10,
        # These tests pin down the retry path: each failed call parks its execution for the
        # retry policy. Fleet-wide flow control (429s deferred, not failed; cooldowns on the
        # real clock) changes that on purpose and is tested in tests/flow and tests/chaos.
        "flow_control": False,
    }
    return worker_settings(**(base | overrides))


@contextlib.asynccontextmanager
async def research_provider(
    plan: FaultPlan | None = None, *, policy: Policy = research_policy, **options: Any
) -> AsyncIterator[RunningFakeProvider]:
    """The fake provider answering through `policy` (the research agent's by default), with
    `plan`'s faults, expecting `PROVIDER_KEY`."""
    provider = FakeProvider(policy, plan, api_key=PROVIDER_KEY, **options)
    async with serve_fake_provider(provider) as running:
        yield running


@contextlib.asynccontextmanager
async def worker_resources(
    settings: Settings, store: Store, reddit: CountingSource | None = None
) -> AsyncIterator[dict[str, Any]]:
    """What a worker process opens (`open_resources`), with a counting Reddit source."""
    async with open_resources(settings, store) as resources:
        yield {**resources, "reddit": reddit} if reddit is not None else resources


def fleet_worker(
    store: Store,
    settings: Settings,
    resources: dict[str, Any],
    clock: Clock,
    name: str,
    registry: AgentRegistry | None = None,
) -> Worker:
    return Worker(
        store,
        registry or default_registry(settings.agents),
        settings,
        worker_id=name,
        clock=clock,
        rng=random.Random(name),
        resources=resources,
        on_terminal=resources["on_terminal"],
    )


def corpus_topics(count: int, min_findings: int = 3) -> list[ResearchInput]:
    """`count` research tasks with distinct topics taken from corpus post titles, so that every
    execution holds a different conversation with the provider."""
    posts = sorted(
        (p.summary() for p in load_corpus().posts.values()), key=lambda p: (p.title, p.id)
    )
    titles = list({p.title: p for p in posts}.values())
    if len(titles) < count:
        raise ValueError(f"the corpus has {len(titles)} distinct titles, not {count}")
    stride = len(titles) // count
    chosen = titles[::stride][:count]
    subreddits = sorted({p.subreddit for p in posts})
    return [
        ResearchInput(
            topic=post.title,
            subreddits=[post.subreddit, subreddits[i % len(subreddits)]],
            min_findings=min_findings,
        )
        for i, post in enumerate(chosen)
    ]
