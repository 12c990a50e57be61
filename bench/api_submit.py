"""The API: GraphQL `submitExecution` against the same insert behind a bare Starlette endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.http_load import Load, pick_client, run_load
from bench.loading import count_in_states, create_store_file, read_connection
from bench.processes import (
    agentfleet,
    agentfleet_env,
    free_port,
    http_ready,
    spawn,
    stop,
    wait_until,
)
from bench.result import BenchArgs, Result, Target, fmt
from bench.stats import median
from common.domain import State

NAME = "api"
TITLE = "API: GraphQL submitExecution beside a bare Starlette insert"

CONCURRENCY = 32
ROUNDS = 3
SECONDS, WARMUP_SECONDS = 8.0, 2.0
QUICK_SECONDS, QUICK_WARMUP_SECONDS = 2.0, 1.0  # wrk takes whole seconds
TARGET_RATIO = 0.5

SUBMIT = 'mutation($input: JSON!) { submitExecution(agent: "echo", input: $input) { id state } }'
GRAPHQL_BODY = json.dumps({"query": SUBMIT, "variables": {"input": {"message": "bench"}}})
BARE_BODY = json.dumps({"agent": "echo", "input": {"message": "bench"}})

METHOD = """\
Each server is a separate process on a fresh SQLite file: `agentfleet api` (strawberry on
Starlette under uvicorn, as shipped) and `bench/bare_app.py`, a Starlette endpoint that parses
the JSON body and calls the same `SqliteStore.submit`, served by uvicorn with the same
configuration. The load client is a separate process, `{client}`, with {concurrency} keep-alive
connections sending the same POST back to back: a {warmup:g} s warm-up, then {seconds:g} s
measured. {rounds} rounds, each starting every server afresh in turn; the figures are the
medians over the rounds (requests/s and latency percentiles as the client reports them). After
each run the stored rows are counted, to check that every answered request inserted an
execution.

The headline GraphQL run has `AGENTFLEET_AUTH=false`, so both servers do exactly one store round
trip per request and the ratio isolates what GraphQL (parsing, validation, the resolver,
serialising the answer) costs. The run with an API key adds the per-request key lookup (a
second round trip) that production pays. The server, the load client and SQLite's thread
share the machine's cores."""


def _serve(kind: str, db: Path, port: int, workdir: Path, env: dict[str, str]) -> subprocess.Popen:
    if kind == "bare":
        args = [sys.executable, "-m", "bench.bare_app", "--db", str(db), "--port", str(port)]
        ready = f"http://127.0.0.1:{port}/healthz"
    else:
        args = agentfleet("api", "--host", "127.0.0.1", "--port", str(port))
        ready = f"http://127.0.0.1:{port}/readyz"
    proc = spawn(args, env, workdir / f"{kind}.log")
    wait_until(http_ready(ready), f"the {kind} server")
    return proc


def _create_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        agentfleet("keys", "create", "--tenant", "bench"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class Server:
    kind: str  # "graphql" or "bare"
    auth: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind}-auth" if self.auth else self.kind


SERVERS = {
    "graphql": Server("graphql"),
    "bare": Server("bare"),
    "graphql_with_api_key": Server("graphql", auth=True),
}
NAMES = {
    "graphql": "GraphQL submitExecution (auth off)",
    "bare": "bare Starlette + store.submit",
    "graphql_with_api_key": "GraphQL submitExecution (API key)",
}


def _measure(server: Server, args: BenchArgs, client: str, round_: int) -> Load:
    """Load one fresh server; raises if an answered request left no execution behind."""
    here = args.workdir / f"api-{server.label}-{round_}"
    here.mkdir(parents=True, exist_ok=True)
    db = here / "api.db"
    create_store_file(db)
    env = agentfleet_env(db, {"AGENTFLEET_AUTH": "true" if server.auth else "false"})
    headers = {"Authorization": f"Bearer {_create_key(env)}"} if server.auth else {}
    port = free_port()
    path, body = ("/submit", BARE_BODY) if server.kind == "bare" else ("/graphql", GRAPHQL_BODY)
    url = f"http://127.0.0.1:{port}{path}"
    warmup, seconds = (
        (QUICK_WARMUP_SECONDS, QUICK_SECONDS) if args.quick else (WARMUP_SECONDS, SECONDS)
    )
    proc = _serve(server.kind, db, port, here, env)
    try:
        before = run_load(client, url, body, headers, CONCURRENCY, warmup, here)
        measured = run_load(client, url, body, headers, CONCURRENCY, seconds, here)
    finally:
        stop([proc])
    conn = read_connection(db)
    try:
        stored = count_in_states(conn, State.PENDING)
    finally:
        conn.close()
    if measured.errors or stored < before.requests + measured.requests:
        raise RuntimeError(f"{server.label}: {measured.errors} errors, {stored} rows stored")
    return measured


def _medians(loads: list[Load]) -> dict[str, float]:
    return {
        "requests_per_s": median([x.requests_per_s for x in loads]),
        "p50_ms": median([x.p50_ms for x in loads]),
        "p99_ms": median([x.p99_ms for x in loads]),
        "requests": sum(x.requests for x in loads),
    }


def run(args: BenchArgs) -> Result:
    client = pick_client(args.load_client)
    rounds = 1 if args.quick else ROUNDS
    loads: dict[str, list[Load]] = {key: [] for key in SERVERS}
    for round_ in range(rounds):  # interleaved, so a slow spell of the machine hits all alike
        for key, server in SERVERS.items():
            loads[key].append(_measure(server, args, client, round_))
    figures = {key: _medians(runs) for key, runs in loads.items()}
    ratio = figures["graphql"]["requests_per_s"] / figures["bare"]["requests_per_s"]
    rows = [
        [
            NAMES[key],
            fmt(f["requests_per_s"]),
            fmt(f["p50_ms"], 1),
            fmt(f["p99_ms"], 1),
            " / ".join(fmt(x.requests_per_s) for x in loads[key]),
        ]
        for key, f in figures.items()
    ]
    seconds = QUICK_SECONDS if args.quick else SECONDS
    warmup = QUICK_WARMUP_SECONDS if args.quick else WARMUP_SECONDS
    return Result(
        name=NAME,
        title=TITLE,
        figures=figures
        | {"runs": {k: [asdict(x) for x in v] for k, v in loads.items()}}
        | {"ratio": ratio, "client": client},
        columns=["server", "requests/s", "p50 ms", "p99 ms", "requests/s of each round"],
        rows=rows,
        targets=[
            Target(
                f"GraphQL submit throughput vs bare endpoint (c={CONCURRENCY})",
                f"≥ {TARGET_RATIO:.0%}",
                f"{ratio:.0%}",
                ratio >= TARGET_RATIO,
            )
        ],
        method=METHOD.format(
            client="wrk -t1 --latency (Lua script for the POST body)"
            if client == "wrk"
            else "python -m bench.load_client (httpx, asyncio)",
            concurrency=CONCURRENCY,
            warmup=warmup,
            seconds=seconds,
            rounds=rounds,
        ),
    )
