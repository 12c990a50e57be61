"""Subscriptions over a real WebSocket: every update in order, resumable, tenant-scoped."""

from __future__ import annotations

import asyncio
import random

import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from common.agents.base import AgentContext, AgentSpec
from common.agents.builtin import BUILTIN_AGENTS
from common.agents.registry import AgentRegistry
from common.asgi_server import serve_in_loop
from common.domain import NewExecution
from common.keys import create_key
from common.settings import Settings
from tests.api.ws import SubscriptionError, ws_connect
from tests.worker.harness import Note
from worker.loop import Worker

UPDATES = """subscription($id: ID!, $after: Int) {
  executionUpdates(id: $id, afterSeq: $after) {
    event { seq kind tool summary }
    execution { state attempt result }
  } }"""
STATES = "subscription { executions { id state } }"


class Steps:
    """A test agent that reports `n` progress events, one per opened gate."""

    def __init__(self) -> None:
        self.gates: list[asyncio.Event] = [asyncio.Event() for _ in range(6)]

    def spec(self) -> AgentSpec:
        async def run(data: Note, ctx: AgentContext) -> Note:
            for i, gate in enumerate(self.gates):
                await gate.wait()
                await ctx.progress("tool" if i % 2 else "llm", f"step {i + 1}", "search")
            return Note(note="done")

        return AgentSpec("steps", "reports six steps", Note, Note, run)

    def open_all(self) -> None:
        for gate in self.gates:
            gate.set()


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
async def live(sqlite_store, steps):
    """The real app under uvicorn with one worker loop; yields (url, key_a, key_b, store)."""
    settings = Settings(auth=True, subscription_poll_interval=0.01, poll_interval=0.01)
    registry = AgentRegistry([*BUILTIN_AGENTS, steps.spec()])
    worker = Worker(sqlite_store, registry, settings, worker_id="w1", rng=random.Random(1))
    app = create_app(settings, sqlite_store, registry, on_submit=worker.wake)
    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    loop = asyncio.create_task(worker.run())
    key_a = await create_key(sqlite_store, "tenant-a")
    key_b = await create_key(sqlite_store, "tenant-b")
    async with serve_in_loop(config) as url:
        yield url, key_a, key_b, sqlite_store
    worker.stop()
    await loop


async def submit(store, agent: str = "steps", tenant: str = "tenant-a") -> str:
    data = {"message": "hi"} if agent == "echo" else {}
    new = NewExecution(tenant=tenant, agent=agent, input=data, max_attempts=3)
    execution, _ = await store.submit(new, _now())
    return execution.id


def _now():
    from common.clock import SystemClock

    return SystemClock().now()


async def test_updates_arrive_in_order_and_complete_at_the_terminal_state(live, steps):
    url, key_a, _, store = live
    execution_id = await submit(store)
    received = []
    async with ws_connect(url, key_a) as ws:
        async for data in ws.subscribe(UPDATES, id=execution_id):
            update = data["executionUpdates"]
            received.append(update)
            if len(received) == 1:
                steps.open_all()  # the agent runs only once we listen
    events = [u["event"]["seq"] for u in received if u["event"]]
    states = [u["execution"]["state"] for u in received if u["event"] is None]
    assert events == [1, 2, 3, 4, 5, 6]
    assert states[-1] == "SUCCEEDED" and states[0] in ("PENDING", "RUNNING")
    assert received[-1]["execution"]["result"] == {"note": "done"}
    assert [u["event"]["summary"] for u in received if u["event"]][:2] == ["step 1", "step 2"]


async def test_a_reconnect_with_after_seq_resumes_without_gaps(live, steps):
    url, key_a, _, store = live
    execution_id = await submit(store)
    for gate in steps.gates[:3]:
        gate.set()
    first = []
    async with ws_connect(url, key_a) as ws:
        async for data in ws.subscribe(UPDATES, id=execution_id):
            if event := data["executionUpdates"]["event"]:
                first.append(event["seq"])
            if len(first) == 3:
                break  # the client drops the connection here
    steps.open_all()
    second = []
    async with ws_connect(url, key_a) as ws:
        async for data in ws.subscribe(UPDATES, id=execution_id, after=first[-1]):
            if event := data["executionUpdates"]["event"]:
                second.append(event["seq"])
    assert first + second == [1, 2, 3, 4, 5, 6]


async def test_another_tenants_execution_cannot_be_subscribed_to(live):
    url, _, key_b, store = live
    execution_id = await submit(store, agent="echo")
    async with ws_connect(url, key_b) as ws:
        with pytest.raises(SubscriptionError) as caught:
            async for _ in ws.subscribe(UPDATES, id=execution_id):
                pass
    assert caught.value.errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_invalid_key_is_rejected_on_connection_init(live):
    url, *_ = live
    with pytest.raises((ConnectionClosed, AssertionError)):
        async with ws_connect(url, "af_not-a-real-key") as ws:
            async for _ in ws.subscribe(STATES):
                pass


async def test_the_tenant_stream_reports_state_changes_of_its_own_executions(live, steps):
    url, key_a, _, store = live
    steps.open_all()
    mine = await submit(store, agent="echo")
    await submit(store, agent="echo", tenant="tenant-b")
    seen: dict[str, list[str]] = {}
    async with ws_connect(url, key_a) as ws:
        async for data in ws.subscribe(STATES):
            item = data["executions"]
            seen.setdefault(item["id"], []).append(item["state"])
            if seen[item["id"]][-1] in ("SUCCEEDED", "FAILED"):
                break
    assert list(seen) == [mine]
    assert seen[mine][-1] == "SUCCEEDED"
