"""`agentfleet demo`: the embedded fleet, a mixed batch through the real HTTP GraphQL API, a table.

Exits 0 only if every execution ended in the state its input implies, with attempts to match.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from agentfleet.runtime import opened_store, run_dev
from common.keys import create_key
from common.settings import Settings

SUBMIT = """
mutation($agent: String!, $input: JSON!, $key: String, $max: Int) {
  submitExecution(agent: $agent, input: $input, idempotencyKey: $key, maxAttempts: $max) { id }
}"""
STATE = "query($id: ID!) { execution(id: $id) { id state attempt failedAttempts } }"
LIST = "query { executions(first: 10) { edges { node { id } } } }"


@dataclass(frozen=True)
class Case:
    kind: str
    agent: str
    input: dict[str, Any]
    max_attempts: int
    expect_state: str
    expect_attempts: int


def mixed_batch(n: int) -> list[Case]:
    """Echo and flaky executions whose outcome follows from their input alone."""
    kinds = [
        Case("echo", "echo", {"message": "hello"}, 3, "SUCCEEDED", 1),
        Case("429 x2 (Retry-After)", "flaky", _flaky(2, "rate_limit", 0.2), 5, "SUCCEEDED", 3),
        Case("503 x1", "flaky", _flaky(1, "server"), 5, "SUCCEEDED", 2),
        Case("timeout x1", "flaky", _flaky(1, "timeout"), 5, "SUCCEEDED", 2),
        Case("401 (not retryable)", "flaky", _flaky(1, "auth"), 5, "FAILED", 1),
        Case("503 x3, budget 2", "flaky", _flaky(3, "server"), 2, "FAILED", 2),
    ]
    weights = [5, 1, 1, 1, 1, 1]
    cycle = [case for case, w in zip(kinds, weights, strict=True) for _ in range(w)]
    return [cycle[i % len(cycle)] for i in range(n)]


def _flaky(times: int, error: str, retry_after: float = 0.0) -> dict[str, Any]:
    return {"fail_times": times, "error": error, "retry_after_s": retry_after}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _gql(client: httpx.AsyncClient, api_key: str, query: str, **variables: Any) -> dict:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL error: {body['errors'][0]['message']}")
    return body["data"]


async def run_demo(settings: Settings, n: int, workers: int, db: str | None) -> int:
    console = Console()
    logging.getLogger("agentfleet.worker").setLevel(logging.WARNING)  # the table tells the story
    path = db or os.path.join(tempfile.mkdtemp(prefix="agentfleet-demo-"), "agentfleet.db")
    settings = settings.with_overrides(
        sqlite_path=path,
        mongodb_url=None,
        auth=True,
        poll_interval=0.2,
        retry_initial_interval=0.1,
        retry_maximum_interval=1.0,
    )
    async with opened_store(settings) as store:
        alice, bob = await create_key(store, "alice"), await create_key(store, "bob")
    port = _free_port()
    ready, stop = asyncio.Event(), asyncio.Event()
    fleet = asyncio.create_task(
        run_dev(settings, "127.0.0.1", port, workers, ready=ready, stop=stop)
    )
    await ready.wait()
    console.print(f"[bold]agentfleet demo[/]: {n} executions, {workers} worker loops, store {path}")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            ok = await _exercise(console, client, alice, bob, mixed_batch(n))
    finally:
        stop.set()
        await fleet
    return 0 if ok else 1


async def _exercise(console, client, alice: str, bob: str, cases: list[Case]) -> bool:
    started = time.perf_counter()
    submitted = await asyncio.gather(
        *(
            _gql(client, alice, SUBMIT, agent=c.agent, input=c.input, max=c.max_attempts)
            for c in cases
        )
    )
    ids = [d["submitExecution"]["id"] for d in submitted]
    console.print(f"submitted {len(ids)} over HTTP in {time.perf_counter() - started:.2f}s")
    final = await _wait_terminal(client, alice, ids)
    elapsed = time.perf_counter() - started
    checks = await _checks(client, alice, bob, ids)
    ok = _report(console, cases, ids, final, elapsed) and all(checks.values())
    for name, passed in checks.items():
        console.print(f"{'[green]✓' if passed else '[red]✗'}[/] {name}")
    console.print("[bold green]all executions ended as expected" if ok else "[bold red]FAILED")
    return ok


async def _wait_terminal(client, key: str, ids: list[str]) -> dict[str, dict]:
    final: dict[str, dict] = {}
    deadline = time.monotonic() + 120
    while len(final) < len(ids) and time.monotonic() < deadline:
        pending = [i for i in ids if i not in final]
        results = await asyncio.gather(*(_gql(client, key, STATE, id=i) for i in pending[:100]))
        for data in results:
            execution = data["execution"]
            if execution["state"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                final[execution["id"]] = execution
        await asyncio.sleep(0.1)
    return final


async def _checks(client, alice: str, bob: str, ids: list[str]) -> dict[str, bool]:
    key = "demo-idempotency-key"
    first, second = await asyncio.gather(
        *(
            _gql(client, alice, SUBMIT, agent="echo", input={"message": "once"}, key=key)
            for _ in range(2)
        )
    )
    bob_sees = await _gql(client, bob, STATE, id=ids[0])
    bob_list = await _gql(client, bob, LIST)
    return {
        "a repeated idempotency key returns the same id": (
            first["submitExecution"]["id"] == second["submitExecution"]["id"]
        ),
        "a second tenant sees none of the first tenant's executions": (
            bob_sees["execution"] is None and not bob_list["executions"]["edges"]
        ),
    }


def _report(
    console, cases: list[Case], ids: list[str], final: dict[str, dict], elapsed: float
) -> bool:
    """One row per kind of case: how many ended in the expected state after the expected
    number of attempts."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for case, execution_id in zip(cases, ids, strict=True):
        got = final.get(execution_id)
        expected = (case.expect_state, case.expect_attempts)
        counts[case.kind]["count"] += 1
        counts[case.kind]["match"] += int(
            got is not None and (got["state"], got["attempt"]) == expected
        )
    table = Table(title=f"{len(final)}/{len(cases)} executions finished in {elapsed:.1f}s")
    for column in ("kind", "count", "expected state", "attempts", "as expected"):
        table.add_column(column)
    by_kind = {c.kind: c for c in cases}
    for kind, c in counts.items():
        case = by_kind[kind]
        table.add_row(
            kind,
            str(c["count"]),
            case.expect_state,
            str(case.expect_attempts),
            f"{c['match']}/{c['count']}",
        )
    console.print(table)
    return all(c["match"] == c["count"] for c in counts.values())
