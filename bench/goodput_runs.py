"""The runs the goodput benchmark compares, each against its own fake provider process.

* `fleet_run`: real `agentfleet worker` processes on one SQLite file (flow control, checkpoints),
  or, with the `reddit_research_fresh` agent of this module, the same fleet retrying the whole
  agent from its first step (no checkpoint resume);
* `article_run`: the seed article's in-memory loop in this process: up to 10 attempts, 50-200 ms
  of random sleep between them, a failed agent run again from the start.

While a run goes on, the provider's `/stats` are sampled, so the benchmark can tell the converged
part of the run from its start and its tail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from langgraph.checkpoint.memory import InMemorySaver

from bench.fleet import WorkerFleet
from bench.loading import count_in_states, create_store_file, read_connection
from bench.processes import free_port, http_ready, spawn, wait_until
from common.agents.base import AgentContext, AgentSpec
from common.agents.research import REDDIT_RESEARCH, ResearchInput, ResearchOutput
from common.agents.research.agent import run_research
from common.clock import SystemClock
from common.domain import TERMINAL_STATES, Execution, State, new_id
from common.llm.providers import ChatModelFactory
from common.reddit.corpus import CorpusSource
from common.settings import load_settings
from common.store.sqlite_schema import INSERT_EXECUTION, execution_to_row, from_us

TENANT = "bench"
SAMPLE_EVERY_S = 0.2
ARTICLE_ATTEMPTS = 10
ARTICLE_SLEEP_S = (0.05, 0.2)


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the run's start
    ok: int
    repeated_ok: int
    rate_limited: int
    requests: int

    @property
    def distinct_ok(self) -> int:
        return self.ok - self.repeated_ok


@dataclass
class Run:
    """What one run did: when it ended, what succeeded, and the provider's view over time."""

    name: str
    makespan: float
    succeeded: list[int]  # indexes of the cases that succeeded
    samples: list[Sample]
    provider: dict[str, Any]
    counters: dict[str, Any] = field(default_factory=dict)


# --- the provider --------------------------------------------------------------------------


def start_provider(
    workdir: Path, capacity: float, latency: float, fail_rate: float = 0.0
) -> tuple[subprocess.Popen, str]:
    """The fake provider with a fixed capacity, answering with the research policy; with
    `fail_rate`, that share of calls fails with a 500 besides (seeded)."""
    port = free_port()
    args = [
        *(sys.executable, "-m", "common.llm.fake_provider", "--port", str(port)),
        *("--policy", "common.agents.research.scripted:research_policy"),
        *("--capacity", f"{capacity:g}", "--latency", f"{latency:g}"),
    ]
    if fail_rate:
        args += ["--fail-rate", f"{fail_rate:g}", "--fail-mix", "500=1", "--seed", "3"]
    proc = spawn(args, {}, workdir / f"provider-{port}.log")
    url = f"http://127.0.0.1:{port}"
    wait_until(http_ready(f"{url}/stats"), "the fake provider")
    return proc, url


def sample(client: httpx.Client, url: str, since: float) -> Sample:
    stats = client.get(f"{url}/stats").json()
    return Sample(
        time.monotonic() - since,
        stats["ok"],
        stats["repeated_ok"],
        stats["by_status"].get("429", 0),
        stats["requests"],
    )


# --- the fleet -----------------------------------------------------------------------------


async def _fresh_research(data: ResearchInput, ctx: AgentContext) -> ResearchOutput:
    """reddit_research without resume: each attempt checkpoints into a saver of its own."""
    fresh = dataclasses.replace(ctx, resources={**ctx.resources, "checkpointer": InMemorySaver()})
    try:
        return await run_research(data, fresh)
    finally:
        ctx.usage = fresh.usage


#: Baseline (ii): loaded by the workers with AGENTFLEET_AGENTS=bench.goodput_runs:FRESH_RESEARCH.
FRESH_RESEARCH = AgentSpec(
    "reddit_research_fresh",
    "reddit_research that retries the whole agent: no checkpoint resume",
    ResearchInput,
    ResearchOutput,
    _fresh_research,
)


def _insert(db: Path, agent: str, cases: list[ResearchInput], max_attempts: int) -> float:
    """The cases as PENDING executions, committed at once; returns the commit instant."""
    now = datetime.now(UTC)
    rows = [
        execution_to_row(
            Execution(
                id=new_id(),
                tenant=TENANT,
                agent=agent,
                input=case.model_dump(exclude_none=True),
                max_attempts=max_attempts,
                priority=len(cases) - i,  # claimed in submission order
                available_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        for i, case in enumerate(cases)
    ]
    conn = sqlite3.connect(db, timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_EXECUTION, rows)
        conn.execute("COMMIT")
        return time.monotonic()
    finally:
        conn.close()


def _outcome(conn: sqlite3.Connection, cases: list[ResearchInput]) -> tuple[float, list[int]]:
    """(last finished_at as epoch seconds, indexes of the cases that succeeded)."""
    by_priority = {len(cases) - i: i for i in range(len(cases))}
    rows = conn.execute("SELECT priority, state, finished_at FROM executions").fetchall()
    last = max(from_us(r[2]).timestamp() for r in rows if r[2] is not None)  # type: ignore[union-attr]
    succeeded = sorted(by_priority[r[0]] for r in rows if r[1] == State.SUCCEEDED.value)
    return last, succeeded


def fleet_run(
    name: str,
    workdir: Path,
    provider_url: str,
    cases: list[ResearchInput],
    *,
    workers: int,
    concurrency: int,
    agent: str = "reddit_research",
    max_attempts: int = ARTICLE_ATTEMPTS,
    timeout: float = 900,
) -> Run:
    here = workdir / name
    here.mkdir(parents=True, exist_ok=True)
    db = here / "goodput.db"
    create_store_file(db)
    env = {
        "AGENTFLEET_LLM_PROVIDER": "openai",
        "AGENTFLEET_LLM_BASE_URL": f"{provider_url}/v1",
        "AGENTFLEET_LLM_API_KEY": "sk-bench",
        "AGENTFLEET_LLM_TIMEOUT": "30",
        "AGENTFLEET_POLL_INTERVAL": "0.05",
        "AGENTFLEET_AGENTS": "bench.goodput_runs:FRESH_RESEARCH",
    }
    fleet = WorkerFleet(db, here, workers, env, concurrency, label=name).start()
    samples: list[Sample] = []
    with httpx.Client(timeout=10) as client:
        client.post(f"{provider_url}/reset")
        started = _insert(db, agent, cases, max_attempts)
        wall_started = time.time()
        conn = read_connection(db)
        try:
            while count_in_states(conn, *TERMINAL_STATES) < len(cases):
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"{name}: not finished within {timeout:g} s")
                samples.append(sample(client, provider_url, started))
                time.sleep(SAMPLE_EVERY_S)
            samples.append(sample(client, provider_url, started))
            last, succeeded = _outcome(conn, cases)
        finally:
            conn.close()
        provider = client.get(f"{provider_url}/stats").json()
    counters = fleet.stop()
    return Run(name, last - wall_started, succeeded, samples, provider, _fleet_counters(counters))


def _fleet_counters(per_worker: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {
        key: sum(int(c.get(key, 0)) for c in per_worker)
        for key in ("claimed", "round_trips", "claim_conflicts")
    }
    flows = [c["flow"] for c in per_worker if isinstance(c.get("flow"), dict)]
    if flows:
        totals["flow"] = {key: sum(f[key] for f in flows) for key in flows[0]}
    return totals


# --- the article's loop --------------------------------------------------------------------


async def _article_one(
    i: int, data: ResearchInput, factory: ChatModelFactory, rng: random.Random
) -> bool:
    for attempt in range(ARTICLE_ATTEMPTS):
        ctx = AgentContext(f"article-{i}-{attempt}", TENANT, attempt + 1, attempt, SystemClock())
        ctx.resources = {
            "chat_model": factory,
            "checkpointer": InMemorySaver(),  # in memory, per attempt: a retry starts over
            "reddit": CorpusSource(),
        }
        try:
            await REDDIT_RESEARCH.run(data, ctx)
            return True
        except Exception:
            await asyncio.sleep(rng.uniform(*ARTICLE_SLEEP_S))
    return False


async def _article(
    provider_url: str, cases: list[ResearchInput], concurrency: int, samples: list[Sample]
) -> tuple[float, list[int]]:
    settings = load_settings(
        {},
        base={
            "llm_provider": "openai",
            "llm_base_url": f"{provider_url}/v1",
            "llm_api_key": "sk-bench",
            "llm_timeout": 30,
            "concurrency": concurrency,
        },
    )
    factory = ChatModelFactory(settings)  # the provider's client, no flow control
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(7)
    started = time.monotonic()

    async def one(i: int, data: ResearchInput) -> bool:
        async with gate:
            return await _article_one(i, data, factory, rng)

    async def sampler() -> None:
        with httpx.Client(timeout=10) as client:
            while True:
                samples.append(await asyncio.to_thread(sample, client, provider_url, started))
                await asyncio.sleep(SAMPLE_EVERY_S)

    sampling = asyncio.create_task(sampler())
    try:
        done = await asyncio.gather(*(one(i, data) for i, data in enumerate(cases)))
    finally:
        sampling.cancel()
        await factory.aclose()
    return time.monotonic() - started, [i for i, ok in enumerate(done) if ok]


def article_run(
    name: str, provider_url: str, cases: list[ResearchInput], *, concurrency: int
) -> Run:
    samples: list[Sample] = []
    with httpx.Client(timeout=10) as client:
        client.post(f"{provider_url}/reset")
        makespan, succeeded = asyncio.run(_article(provider_url, cases, concurrency, samples))
        started = time.monotonic() - makespan
        samples.append(sample(client, provider_url, started))
        provider = client.get(f"{provider_url}/stats").json()
    return Run(name, makespan, succeeded, samples, provider, {"concurrency": concurrency})
