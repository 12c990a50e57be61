"""Fixtures for API tests: the real app over ASGI, on a real SQLite store, two tenants' keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from common.agents.registry import AgentRegistry, default_registry
from common.clock import ManualClock
from common.keys import create_key
from common.settings import Settings
from common.store.base import Store
from tests.api.graphql import GraphQLClient

AppFactory = Callable[..., GraphQLClient]


@pytest.fixture
def registry() -> AgentRegistry:
    return default_registry()


@pytest.fixture
def settings() -> Settings:
    return Settings(auth=True)


@pytest.fixture
async def store(sqlite_store: Store) -> Store:
    return sqlite_store


@pytest.fixture
async def key_a(store: Store, clock: ManualClock) -> str:
    return await create_key(store, "tenant-a", clock)


@pytest.fixture
async def key_b(store: Store, clock: ManualClock) -> str:
    return await create_key(store, "tenant-b", clock)


@pytest.fixture
async def make_client(
    settings: Settings, store: Store, registry: AgentRegistry, clock: ManualClock
) -> AsyncIterator[AppFactory]:
    """Builds a client for an app; keyword arguments override settings or create_app options."""
    opened: list[httpx.AsyncClient] = []

    def make(*, key: str | None = None, on_submit: Any = None, **overrides: Any) -> GraphQLClient:
        app = create_app(
            settings.with_overrides(**overrides) if overrides else settings,
            store,
            registry,
            clock=clock,
            on_submit=on_submit,
        )
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
        opened.append(http)
        return GraphQLClient(http, key)

    yield make
    for http in opened:
        await http.aclose()


@pytest.fixture
def client_a(make_client: AppFactory, key_a: str) -> GraphQLClient:
    return make_client(key=key_a)


@pytest.fixture
def client_b(make_client: AppFactory, key_b: str) -> GraphQLClient:
    return make_client(key=key_b)
