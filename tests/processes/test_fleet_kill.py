"""Real processes on one SQLite file survive SIGKILL and SIGTERM, losing and repeating nothing."""

from __future__ import annotations

import asyncio
import random
import signal
import time

import httpx
import pytest

from tests.processes.fleet import Fleet, ledger_counts

pytestmark = pytest.mark.slow

SUBMIT = """mutation($agent: String!, $input: JSON!, $max: Int) {
  submitExecution(agent: $agent, input: $input, maxAttempts: $max) { id } }"""
PAGE = """query($after: String) { executions(first: 200, after: $after) {
  edges { node { id agent input state attempt maxAttempts attempts { number outcome } } }
  pageInfo { hasNextPage endCursor } } }"""
STATS = "query { stats { pending running succeeded failed cancelled } }"


def workload(n: int, rng: random.Random) -> list[tuple[str, dict, int, str]]:
    """(agent, input, max_attempts, expected terminal state). Budgets leave room for kills."""
    cases = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.6:
            delay = rng.choice([0.2, 0.5, 1.0, 2.0])  # keeps attempts in flight for the kills
            cases.append(("echo", {"message": f"m{i}", "delay_s": delay}, 10, "SUCCEEDED"))
        elif roll < 0.8:
            flaky = {"fail_times": rng.randint(1, 2), "error": "rate_limit", "retry_after_s": 0.2}
            cases.append(("flaky", flaky, 10, "SUCCEEDED"))
        elif roll < 0.9:
            cases.append(("flaky", {"fail_times": 1, "error": "auth"}, 10, "FAILED"))
        else:
            cases.append(("flaky", {"fail_times": 3, "error": "server"}, 2, "FAILED"))
    return cases


async def graphql(client: httpx.AsyncClient, query: str, **variables) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def submit_all(client, cases) -> list[str]:
    gate = asyncio.Semaphore(32)

    async def one(agent, data, max_attempts):
        async with gate:
            result = await graphql(client, SUBMIT, agent=agent, input=data, max=max_attempts)
            return result["submitExecution"]["id"]

    return await asyncio.gather(*(one(a, d, m) for a, d, m, _ in cases))


async def read_all(client) -> dict[str, dict]:
    found, after = {}, None
    while True:
        page = (await graphql(client, PAGE, after=after))["executions"]
        found.update({e["node"]["id"]: e["node"] for e in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def chaos_until_done(fleet: Fleet, client, rng: random.Random, limit: float) -> dict:
    """SIGKILL a random worker about every second (and replace it), SIGTERM one once."""
    kills = terms = 0
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stats = (await graphql(client, STATS))["stats"]
        if stats["pending"] + stats["running"] == 0:
            break
        await asyncio.sleep(1.0)
        victim = rng.choice(fleet.alive_workers())
        if terms == 0 and kills >= 3:
            victim.send_signal(signal.SIGTERM)  # graceful: releases what it holds
            terms += 1
        else:
            victim.kill()
            kills += 1
        fleet.start_worker()
    return {"sigkill": kills, "sigterm": terms, "stats": stats}


async def test_a_fleet_under_sigkill_finishes_every_execution_exactly_once(tmp_path):
    rng = random.Random(20261203)
    fleet = Fleet(tmp_path, {"AGENTFLEET_CONCURRENCY": "8"})
    key = fleet.create_key("crash-test")
    fleet.start_api()
    for _ in range(4):
        fleet.start_worker()
    cases = workload(1000, rng)
    started = time.monotonic()
    try:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=fleet.url, headers=headers, timeout=30) as client:
            ids = await submit_all(client, cases)
            chaos = await chaos_until_done(fleet, client, rng, limit=240)
            final = await read_all(client)
    finally:
        fleet.stop()
    elapsed = time.monotonic() - started

    claims, finishes = ledger_counts(fleet.ledger())
    states = [final[i]["state"] for i in ids]
    print(
        f"\n{len(ids)} executions, {chaos['sigkill']} SIGKILL, {chaos['sigterm']} SIGTERM, "
        f"{sum(claims.values())} claims, {sum(finishes.values())} accepted finishes, "
        f"{sum(s == 'SUCCEEDED' for s in states)} succeeded, "
        f"{sum(s == 'FAILED' for s in states)} failed, {elapsed:.1f}s"
    )
    assert len(final) == len(ids) == 1000, "an accepted execution was lost"
    assert chaos["sigkill"] >= 3 and chaos["sigterm"] == 1
    for execution_id, (_, _, _, expected) in zip(ids, cases, strict=True):
        execution = final[execution_id]
        assert execution["state"] == expected, execution
        # A finish is logged after the store accepted it, so a SIGKILL in between can lose the
        # line (0), but a second accepted finish would show as 2.
        assert finishes[execution_id] <= 1, f"{execution_id} finished {finishes[execution_id]}x"
        assert execution["attempt"] == len(execution["attempts"]), execution
        # a SIGKILLed worker may die between its claim and the log line, never the other way
        assert claims[execution_id] <= execution["attempt"], execution
    unlogged = sum(1 for i in ids if finishes[i] == 0)
    print(f"{unlogged} finishes lost their log line to a SIGKILL")
    assert unlogged <= chaos["sigkill"] * 8  # at most the killed workers' slots
