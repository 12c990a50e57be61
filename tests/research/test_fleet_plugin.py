"""The example plugin agent (`examples/plugin_agent`), registered by settings path, runs through
the fleet like a built-in: submitted over GraphQL, claimed by a Worker, its LLM call made over
HTTP and retried by the fleet, its usage and progress readable through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from common.agents.registry import default_registry
from common.clock import ManualClock
from common.domain import Outcome, State
from common.llm.faults import Fault, FaultPlan
from common.settings import Settings, load_settings
from common.store.base import Store
from examples.plugin_agent.agent import summary_policy
from tests.research.fleet import (
    fleet_worker,
    provider_settings,
    research_provider,
    worker_resources,
)
from tests.worker.harness import step

PLUGIN_PATH = "examples.plugin_agent.agent:SPEC"
TEXT = "The fleet retries. The fleet resumes. Nothing is paid twice by the fleet."

SUBMIT = """
mutation($input: JSON!) { submitExecution(agent: "word_stats", input: $input) { id state } }
"""
GET = """
query($id: ID!) {
  execution(id: $id) {
    state result
    usage { llmCallsOk llmCallsFailed toolCalls promptTokens completionTokens }
    attempts { number outcome error { type } usage { llmCallsOk llmCallsFailed } }
    events { seq attempt kind tool summary }
  }
}
"""


class Api:
    """The real GraphQL app over ASGI, auth off (tenant "default"), on the fleet's store."""

    def __init__(self, settings: Settings, store: Store, clock: ManualClock) -> None:
        app = create_app(settings, store, default_registry(settings.agents), clock=clock)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a")

    async def data(self, query: str, **variables) -> dict:
        body = await self.http.post("/graphql", json={"query": query, "variables": variables})
        payload = body.json()
        assert not payload.get("errors"), payload
        return payload["data"]


@pytest.fixture
async def api_factory(sqlite_store, clock) -> AsyncIterator:
    opened: list[Api] = []

    def make(settings: Settings) -> Api:
        opened.append(Api(settings.with_overrides(auth=False), sqlite_store, clock))
        return opened[-1]

    yield make
    for api in opened:
        await api.http.aclose()


async def test_the_plugin_registered_by_environment_runs_through_the_fleet_offline(
    sqlite_store, clock, tmp_path, api_factory
):
    settings = load_settings(
        {"AGENTFLEET_AGENTS": PLUGIN_PATH, "AGENTFLEET_LLM_PROVIDER": "offline"},
        base={"sqlite_path": str(tmp_path / "agentfleet.db"), "poll_interval": 0.01},
    )
    api = api_factory(settings)
    submitted = (await api.data(SUBMIT, input={"text": TEXT, "top_n": 2}))["submitExecution"]
    assert submitted["state"] == "PENDING"  # the API validated it against the plugin's model

    async with worker_resources(settings, sqlite_store) as resources:
        await step(fleet_worker(sqlite_store, settings, resources, clock, "w1"))
    done = (await api.data(GET, id=submitted["id"]))["execution"]

    assert done["state"] == "SUCCEEDED"
    assert done["result"]["words"] == 13 and done["result"]["top"][0] == {
        "word": "fleet",
        "count": 3,
    }
    assert done["result"]["summary"] == "A text of 13 words, mostly about fleet, the."
    assert done["usage"]["llmCallsOk"] == 1 and done["usage"]["promptTokens"] > 0
    assert [(e["seq"], e["kind"], e["tool"]) for e in done["events"]] == [
        (1, "tool", "count_words"),
        (2, "llm", None),
    ]


async def test_the_plugin_is_retried_by_the_fleet_and_resumes_after_its_counting_step(
    sqlite_store, clock, tmp_path, api_factory
):
    plan = FaultPlan({1: Fault.unavailable(retry_after=5)})
    async with research_provider(plan, policy=summary_policy) as fake:
        settings = provider_settings(tmp_path / "agentfleet.db", fake, agents=PLUGIN_PATH)
        api = api_factory(settings)
        submitted = (await api.data(SUBMIT, input={"text": TEXT}))["submitExecution"]
        async with worker_resources(settings, sqlite_store) as resources:
            worker = fleet_worker(sqlite_store, settings, resources, clock, "w1")
            await step(worker)
            parked = await sqlite_store.get("default", submitted["id"])
            assert parked.state is State.PENDING and parked.attempts[0].outcome is Outcome.RETRYING
            clock.set(parked.available_at)
            await step(worker)
        stats = fake.stats
    done = (await api.data(GET, id=submitted["id"]))["execution"]

    assert done["state"] == "SUCCEEDED" and done["result"]["words"] == 13
    assert [(a["outcome"], a["error"] and a["error"]["type"]) for a in done["attempts"]] == [
        ("RETRYING", "ProviderUnavailable"),
        ("SUCCEEDED", None),
    ]
    assert done["usage"]["llmCallsOk"] == 1 and done["usage"]["llmCallsFailed"] == 1
    assert [(e["attempt"], e["kind"]) for e in done["events"]] == [(1, "tool"), (2, "llm")]
    assert (stats.ok, stats.repeated_ok, stats.by_status["503"]) == (1, 0, 1)
