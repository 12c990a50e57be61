"""Chaos with real processes: `agentfleet api` and 8 `agentfleet worker` processes on one SQLite
file, the fake provider (its own process) failing 30% of calls with 429s, 5xx and timeouts, and a
worker SIGKILLed about every second and replaced. Every accepted execution still ends once, with
the clean run's findings, each answered call paid once (but the one a kill interrupted)."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from common.store.sqlite import SqliteStore
from tests.chaos.workload import (
    FAIL_MIX,
    FAIL_RATE,
    MAX_ATTEMPTS,
    ChaosSize,
    case,
    judge,
    references,
)
from tests.processes.fleet import Fleet, free_port, ledger_counts

pytestmark = pytest.mark.slow

TENANT = "chaos"
SUBMIT = """mutation($input: JSON!, $max: Int) {
  submitExecution(agent: "reddit_research", input: $input, maxAttempts: $max) { id } }"""
STATS = "query { stats { pending running } }"


def start_fake_provider(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        *(sys.executable, "-m", "common.llm.fake_provider", "--port", str(port)),
        *("--policy", "common.agents.research.scripted:research_policy"),
        *("--fail-rate", str(FAIL_RATE), "--fail-mix", FAIL_MIX, "--seed", "7"),
        *("--retry-after", "1", "--slow-seconds", "5"),
    ]
    with (workdir / "fake.log").open("w") as log:
        fake = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/stats", timeout=1).status_code == 200:
                return fake, url
        except httpx.HTTPError:
            time.sleep(0.1)
    fake.kill()
    raise RuntimeError("the fake provider did not start")


def chaos_env(provider_url: str) -> dict[str, str]:
    return {
        "AGENTFLEET_LLM_PROVIDER": "openai",
        "AGENTFLEET_LLM_BASE_URL": f"{provider_url}/v1",
        "AGENTFLEET_LLM_API_KEY": "sk-chaos",
        "AGENTFLEET_LLM_TIMEOUT": "1",
        "AGENTFLEET_CONCURRENCY": "4",
        # Eight workers, the API and the provider share the machine's cores: leases long
        # enough that a busy event loop does not lose them, short enough for quick takeovers.
        "AGENTFLEET_LEASE_SECONDS": "5",
        "AGENTFLEET_HEARTBEAT_SECONDS": "1",
        "AGENTFLEET_FLOW_BREAKER_OPEN_SECONDS": "2",
    }


async def graphql(client: httpx.AsyncClient, query: str, **variables) -> dict:
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def kill_until_done(
    fleet: Fleet, client: httpx.AsyncClient, size: ChaosSize, limit: float
) -> int:
    """SIGKILL a random worker about every second (and start another) until all is done."""
    rng = random.Random(size.executions)
    kills = 0
    deadline = time.monotonic() + limit
    while True:
        stats = (await graphql(client, STATS))["stats"]
        if stats["pending"] + stats["running"] == 0:
            return kills
        assert time.monotonic() < deadline, f"not done in {limit:g}s: {stats}"
        await asyncio.sleep(1.0)
        if kills < size.crashes:
            rng.choice(fleet.alive_workers()).kill()
            kills += 1
            fleet.start_worker()


async def read_executions(db: Path, ids: list[str]):
    store = SqliteStore(str(db))
    await store.init()
    try:
        return [e for e in [await store.get(TENANT, i) for i in ids] if e is not None]
    finally:
        await store.close()


async def run_chaos(tmp_path: Path, size: ChaosSize, limit: float) -> None:
    refs = await references()
    fake, provider_url = start_fake_provider(tmp_path)
    fleet = Fleet(tmp_path, chaos_env(provider_url))
    started = time.monotonic()
    try:
        key = fleet.create_key(TENANT)
        fleet.start_api()
        for _ in range(size.workers):
            fleet.start_worker()
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=fleet.url, headers=headers, timeout=30) as client:
            ids = [
                (await graphql(client, SUBMIT, input=case(i).model_dump(), max=MAX_ATTEMPTS))[
                    "submitExecution"
                ]["id"]
                for i in range(size.executions)
            ]
            kills = await kill_until_done(fleet, client, size, limit)
            provider = (await client.get(f"{provider_url}/stats")).json()
    finally:
        fleet.stop()
        fake.terminate()
        fake.wait(timeout=15)
    _, finishes = ledger_counts(fleet.ledger())
    executions = await read_executions(tmp_path / "fleet.db", ids)
    tally = judge(executions, ids, finishes, refs, provider)
    tally.crashes, tally.seconds = kills, time.monotonic() - started
    print(tally.line("processes (SIGKILL)"))
    assert kills == size.crashes
    assert tally.states["SUCCEEDED"] == size.executions, tally.errors


async def test_worker_processes_finish_everything_once_through_faults_and_sigkill(tmp_path):
    await run_chaos(tmp_path, ChaosSize(executions=16, crashes=4), limit=150)


@pytest.mark.chaos_big
@pytest.mark.timeout(1200)
async def test_worker_processes_at_the_big_size(tmp_path):
    await run_chaos(tmp_path, ChaosSize(executions=200, crashes=30), limit=1000)
