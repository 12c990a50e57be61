"""The research agent through the real HTTP stack (langchain-openai, httpx) against the local fake
provider serving the offline policy: the policy survives the OpenAI wire format, and a 429 from
the provider is classified, resumed from the checkpoint, and never paid twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from common.agents.research import REDDIT_RESEARCH
from common.agents.research.scripted import research_policy
from common.errors import RateLimited
from common.llm import chat_model_factory
from common.llm.fake_provider import FakeProvider, RunningFakeProvider, serve_fake_provider
from common.llm.faults import Fault, FaultPlan
from common.settings import Settings
from tests.research.conftest import CountingSource
from tests.research.test_research_agent import TOPIC


@pytest.fixture
async def fake() -> AsyncIterator[RunningFakeProvider]:
    provider = FakeProvider(research_policy, FaultPlan({3: Fault.rate_limit(retry_after=2)}))
    async with serve_fake_provider(provider) as running:
        yield running


@pytest.fixture
async def chat_model(fake):
    factory = chat_model_factory(Settings(llm_base_url=fake.base_url, llm_timeout=5))
    yield factory
    await factory.aclose()


async def test_a_429_over_http_is_resumed_and_no_call_is_paid_twice(make_run, fake, chat_model):
    saver, source = InMemorySaver(), CountingSource()
    resources = {"chat_model": chat_model, "checkpointer": saver, "reddit": source}
    first = make_run("exec-http", 1, **resources)
    with pytest.raises(RateLimited) as failure:
        await REDDIT_RESEARCH.run(TOPIC, first.ctx)
    assert failure.value.retry_after == 2

    second = make_run("exec-http", 2, **resources)
    output = await REDDIT_RESEARCH.run(TOPIC, second.ctx)

    in_process = await REDDIT_RESEARCH.run(TOPIC, make_run("exec-local").ctx)
    assert output == in_process  # the policy reads the wire's messages as it reads its own
    assert fake.stats.repeated_ok == 0
    ok = first.ctx.usage.llm_calls_ok + second.ctx.usage.llm_calls_ok
    assert ok == fake.stats.ok and first.ctx.usage.llm_calls_failed == 1
    assert len(source.calls) == len(set(source.calls))
