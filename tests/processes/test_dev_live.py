"""Against a real `agentfleet dev`: a research execution watched live over a WebSocket."""

from __future__ import annotations

import httpx
import pytest

from tests.api.ws import ws_connect
from tests.processes.fleet import free_port
from tests.processes.test_dev import _env, _start_dev

pytestmark = pytest.mark.slow

SUBMIT = """mutation { submitResearch(input: {
  topic: "How do teams handle LLM API rate limits, retries and costs?",
  subreddits: ["LocalLLaMA", "Python"], minFindings: 3 }) { id } }"""
UPDATES = """subscription($id: ID!, $after: Int) {
  executionUpdates(id: $id, afterSeq: $after) {
    event { seq kind tool }
    execution { state attempt report { findings { url } } }
  } }"""


async def test_a_research_subscription_sees_every_event_in_order_and_resumes(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    dev = _start_dev(tmp_path, port, _env())
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            body = (await client.post("/graphql", json={"query": SUBMIT})).json()
        execution_id = body["data"]["submitResearch"]["id"]

        first: list[int] = []
        async with ws_connect(url) as ws:
            async for data in ws.subscribe(UPDATES, id=execution_id):
                if event := data["executionUpdates"]["event"]:
                    first.append(event["seq"])
                if len(first) == 2:
                    break  # drop the connection mid-run, as a flaky network would
        rest: list[int] = []
        states: list[str] = []
        async with ws_connect(url) as ws:
            async for data in ws.subscribe(UPDATES, id=execution_id, after=first[-1]):
                update = data["executionUpdates"]
                if update["event"]:
                    rest.append(update["event"]["seq"])
                else:
                    states.append(update["execution"]["state"])
                last = update["execution"]
    finally:
        dev.terminate()
        dev.wait(timeout=30)

    seqs = first + rest
    assert seqs == list(range(1, len(seqs) + 1)), "every event once, in order, no gap"
    assert len(seqs) >= 4  # LLM and tool steps of a research run
    assert states[-1] == "SUCCEEDED"
    assert len(last["report"]["findings"]) >= 3
    assert all(f["url"].startswith("https://www.reddit.com/r/") for f in last["report"]["findings"])
