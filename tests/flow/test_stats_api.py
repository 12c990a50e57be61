"""GraphQL `stats { providers }` shows every provider's shared flow state."""

from __future__ import annotations

import httpx

from api.app import create_app
from common.agents.registry import default_registry
from common.flow import CallOutcome, FlowConfig, FlowController
from common.keys import create_key
from common.settings import Settings

PROVIDERS = """query { stats { total providers {
  key rate ceiling cooldownSeconds breaker consecutiveFailures breakerOpenSeconds
  callsOk callsRateLimited callsFailed updatedAt } } }"""


async def test_stats_show_each_providers_rate_cooldown_and_breaker(sqlite_store, clock):
    cfg = FlowConfig(breaker_failures=1, breaker_open_seconds=30)
    flow = FlowController(sqlite_store, lambda key: cfg, clock)
    broken = await flow.acquire("deepseek/deepseek-chat")
    await flow.report(broken, CallOutcome.FAILED)
    busy = await flow.acquire("openai/gpt-4o-mini")
    await flow.report(busy, CallOutcome.RATE_LIMITED, retry_after=5)
    key = await create_key(sqlite_store, "tenant-a", clock)
    app = create_app(Settings(auth=True), sqlite_store, default_registry(), clock=clock)
    clock.advance(1)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as http:
        response = await http.post(
            "/graphql", json={"query": PROVIDERS}, headers={"Authorization": f"Bearer {key}"}
        )

    body = response.json()
    assert "errors" not in body, body
    deepseek, openai = body["data"]["stats"]["providers"]
    assert (deepseek["key"], deepseek["breaker"], deepseek["breakerOpenSeconds"]) == (
        "deepseek/deepseek-chat",
        "OPEN",
        29.0,
    )
    assert (deepseek["consecutiveFailures"], deepseek["callsFailed"]) == (1, 1)
    assert (openai["key"], openai["breaker"], openai["cooldownSeconds"]) == (
        "openai/gpt-4o-mini",
        "CLOSED",
        4.0,
    )
    assert openai["callsRateLimited"] == 1 and openai["ceiling"] is not None
    assert openai["rate"] < openai["ceiling"]  # decreased at the 429
