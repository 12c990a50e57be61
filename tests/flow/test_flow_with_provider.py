"""Flow control in front of a real OpenAI client, against the local fake provider over HTTP."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta

import pytest

from common.agents.registry import default_registry
from common.agents.research.scripted import research_policy
from common.checkpoints import open_checkpointer
from common.clock import SystemClock
from common.domain import Outcome, State
from common.errors import ProviderCoolingDown, classify
from common.flow import Breaker, FlowController, config_for
from common.llm.fake_provider import FakeProvider, serve_fake_provider
from common.llm.faults import Fault, FaultPlan
from common.llm.providers import ChatModelFactory
from common.llm.scripted import echo_policy
from common.reddit.corpus import CorpusSource
from common.settings import Settings
from tests.research.test_research_agent import TOPIC
from tests.worker.harness import step, submit, worker_settings
from worker.loop import Worker


def settings_for(fake, tmp_path, **overrides) -> Settings:
    return worker_settings(
        sqlite_path=str(tmp_path / "agentfleet.db"),
        llm_provider="openai",
        llm_base_url=fake.base_url,
        llm_api_key="sk-test",
        llm_timeout=5,
        **overrides,
    )


def factory(store, settings: Settings, clock, name: str = "w1") -> ChatModelFactory:
    flow = FlowController(store, config_for(settings), clock, random.Random(name))
    return ChatModelFactory(settings, flow)


async def test_a_429_with_a_short_retry_after_is_retried_at_once(sqlite_store, tmp_path):
    plan = FaultPlan({1: Fault.rate_limit(retry_after=0.1)})
    async with serve_fake_provider(FakeProvider(echo_policy, plan)) as fake:
        chat = factory(sqlite_store, settings_for(fake, tmp_path), SystemClock())
        answer = await chat(echo_policy).ainvoke("hello")
        await chat.aclose()
    assert answer.text == "echo: hello"
    assert (fake.stats.by_status["429"], fake.stats.ok) == (1, 1)
    assert chat.flow is not None and chat.flow.counters.quick_retries == 1
    state = await chat.flow.state_of(chat.key)
    assert state.calls_rate_limited == 1 and state.epoch == 1  # the rate came down once


async def test_a_429_with_a_long_retry_after_cools_the_provider_down_for_every_worker(
    sqlite_store, tmp_path, clock
):
    plan = FaultPlan({1: Fault.rate_limit(retry_after=30)})
    async with serve_fake_provider(FakeProvider(echo_policy, plan)) as fake:
        settings = settings_for(fake, tmp_path)
        first, second = (factory(sqlite_store, settings, clock) for _ in range(2))
        with pytest.raises(ProviderCoolingDown) as deferred:
            await first(echo_policy).ainvoke("hello")
        with pytest.raises(ProviderCoolingDown) as also:
            await second(echo_policy).ainvoke("hello")
        for chat in (first, second):
            await chat.aclose()
    assert fake.stats.requests == 1  # the second worker never called
    assert deferred.value.retry_after >= 30 and also.value.retry_after >= 30
    assert getattr(deferred.value, "agentfleet_failed_calls", None) == 1


async def test_failures_open_the_breaker_for_the_fleet_and_a_trial_call_closes_it(
    sqlite_store, tmp_path, clock
):
    plan = FaultPlan({1: Fault.server_error(), 2: Fault.unavailable()})
    async with serve_fake_provider(FakeProvider(echo_policy, plan)) as fake:
        settings = settings_for(
            fake, tmp_path, flow_breaker_failures=2, flow_breaker_open_seconds=20
        )
        first, second = (factory(sqlite_store, settings, clock) for _ in range(2))
        for _ in range(2):
            with pytest.raises(Exception, match="injected"):
                await first(echo_policy).ainvoke("hello")
        with pytest.raises(ProviderCoolingDown, match="circuit open"):
            await second(echo_policy).ainvoke("hello")
        assert fake.stats.requests == 2

        clock.advance(20)
        assert (await second(echo_policy).ainvoke("trial")).text == "echo: trial"
        state = await second.flow.state_of(second.key)
        for chat in (first, second):
            await chat.aclose()
    assert state.breaker is Breaker.CLOSED and state.failures == 0


async def test_a_cooldown_defers_the_execution_without_spending_an_attempt_and_it_resumes(
    sqlite_store, tmp_path, clock
):
    plan = FaultPlan({3: Fault.rate_limit(retry_after=3)})
    async with serve_fake_provider(FakeProvider(research_policy, plan)) as fake:
        settings = settings_for(fake, tmp_path)
        chat = factory(sqlite_store, settings, clock)
        async with open_checkpointer(settings) as checkpointer:
            resources = {"chat_model": chat, "checkpointer": checkpointer, "reddit": CorpusSource()}
            worker = Worker(
                sqlite_store,
                default_registry(),
                settings,
                worker_id="w1",
                clock=clock,
                resources=resources,
            )
            execution_id = await submit(sqlite_store, clock, "reddit_research", TOPIC.model_dump())

            await step(worker)
            deferred = await sqlite_store.get("t1", execution_id)
            assert deferred.state is State.PENDING and deferred.failed_attempts == 0
            (attempt,) = deferred.attempts
            assert attempt.outcome is Outcome.DEFERRED
            assert attempt.error.type == "ProviderCoolingDown"
            assert (attempt.usage.llm_calls_ok, attempt.usage.llm_calls_failed) == (2, 1)
            assert deferred.available_at >= clock.now() + timedelta(seconds=3)

            clock.set(deferred.available_at)
            await step(worker)
            done = await sqlite_store.get("t1", execution_id)
        await chat.aclose()
    assert done.state is State.SUCCEEDED and done.failed_attempts == 0
    assert done.usage.llm_calls_ok == fake.stats.ok and fake.stats.repeated_ok == 0
    assert done.usage.llm_calls_failed == fake.stats.by_status["429"] == 1


@pytest.mark.slow
async def test_the_fleet_settles_near_a_providers_capacity(tmp_path):
    """Real time: three workers' controllers, 30 callers, a provider admitting 20 calls/s."""
    from common.store.sqlite import SqliteStore

    capacity, seconds = 20.0, 6.0
    provider = FakeProvider(echo_policy, capacity=capacity, latency=0.05)
    stores = [SqliteStore(str(tmp_path / "agentfleet.db")) for _ in range(3)]
    for store in stores:
        await store.init()
    async with serve_fake_provider(provider) as fake:
        settings = settings_for(fake, tmp_path)
        chats = [factory(s, settings, SystemClock(), f"w{i}") for i, s in enumerate(stores)]
        deadline = time.monotonic() + seconds
        late: list[float] = []

        async def caller(chat: ChatModelFactory, i: int) -> None:
            model = chat(echo_policy)
            n = 0
            while time.monotonic() < deadline:
                n += 1
                try:
                    await model.ainvoke(f"caller {i} call {n}")
                except ProviderCoolingDown as exc:
                    await asyncio.sleep(exc.retry_after or 0)
                    continue
                except Exception as exc:  # 429s in a row: a worker would park the execution
                    assert classify(exc).type_name == "RateLimited", exc
                    continue
                if deadline - seconds / 2 < time.monotonic() <= deadline:
                    late.append(time.monotonic())

        await asyncio.gather(*(caller(chats[i % 3], i) for i in range(30)))
        for chat in chats:
            await chat.aclose()
    for store in stores:
        await store.close()
    stats = provider.stats
    share_429 = stats.by_status["429"] / stats.requests
    goodput = len(late) / (seconds / 2) / capacity
    print(
        f"\ncapacity {capacity:g}/s: goodput {goodput:.2f} of capacity, 429s {share_429:.1%}, "
        f"flow {[c.flow.counters.to_dict() for c in chats]}"
    )
    assert goodput >= 0.75 and share_429 <= 0.15
