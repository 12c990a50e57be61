"""Fixtures for the LLM tests: a fake provider on 127.0.0.1 and OpenAI clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from langchain_openai import ChatOpenAI

from common.llm.fake_provider import FakeProvider, RunningFakeProvider, serve_fake_provider

#: Client timeout of the tests; slow faults stall longer than this, so they time out.
CLIENT_TIMEOUT = 0.3


@pytest.fixture
def fake_provider() -> Callable[..., AbstractAsyncContextManager[RunningFakeProvider]]:
    """`async with fake_provider(plan=..., capacity=...) as fake:` a server on a free port."""

    def start(**options) -> AbstractAsyncContextManager[RunningFakeProvider]:
        options.setdefault("slow_seconds", 1.0)
        return serve_fake_provider(FakeProvider(**options))

    return start


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def openai_client(http: httpx.AsyncClient) -> Callable[..., ChatOpenAI]:
    """A real langchain-openai client for a fake provider, hidden retries off."""

    def build(fake: RunningFakeProvider, **options) -> ChatOpenAI:
        options = {
            "model": "deepseek-chat",
            "api_key": "test-key",
            "timeout": CLIENT_TIMEOUT,
            **options,
        }
        return ChatOpenAI(base_url=fake.base_url, max_retries=0, http_async_client=http, **options)

    return build
