"""Claim latency at 1,000 and 100,000 stored executions (issue 4): does store cost grow?"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.loading import bulk_insert, create_store_file, echo_execution, read_connection
from bench.result import BenchArgs, Result, Target, fmt
from bench.stats import median, percentile
from common.domain import Attempt, Outcome, State
from common.store import sqlite_schema as sql
from common.store.sqlite import SqliteStore

NAME = "claim"
TITLE = "Claim latency against the number of stored executions (SQLite)"

FULL_SIZES = (1_000, 100_000)
QUICK_SIZES = (200, 2_000)
SAMPLES = 500
WARMUP = 20
#: "Does not grow": the median at the largest size within this factor of the smallest's.
FLAT_FACTOR = 2.0

METHOD = """\
A fresh SQLite file per size, filled by one bulk transaction through the store's own row mapping:
half the stored executions are a PENDING `echo` backlog, half are SUCCEEDED history with an
attempt record and a result. Then, in one process, {samples} cycles (after {warmup} unmeasured)
of the real store calls a worker makes: `claim_next(limit=1)` and the fenced `finish` of what it
claimed. Each call is timed around its `await` (`time.perf_counter_ns`), so a latency includes the
hop to the store's own thread. Workers claim in batches (`claim_batch`, default 8); one row per
claim is the worst case per execution. The query plan of the due-PENDING select is shown below:
the claim reads the head of the claim-order index, so its cost depends on the index depth
(log n), not on how many executions are stored.

The MongoDB backend is **not** benchmarked: there is no MongoDB server on these machines, and
the in-process stand-in (mongomock) scans every document on every operation (about 47 ms per
claim at 10,000 executions), so its figures would describe the stand-in, not MongoDB."""


async def _cycles(path: Path, samples: int) -> tuple[list[float], list[float]]:
    """Claim one execution and finish it, `samples` times; (claim ms, finish ms) each."""
    store = SqliteStore(str(path))
    claims: list[float] = []
    finishes: list[float] = []
    try:
        for i in range(WARMUP + samples):
            now = datetime.now(UTC)
            t0 = time.perf_counter_ns()
            (execution,) = await store.claim_next("bench-claimer", now, 60.0, 1)
            t1 = time.perf_counter_ns()
            attempt = Attempt(
                number=execution.executions,
                worker_id="bench-claimer",
                started_at=now,
                ended_at=now,
                outcome=Outcome.SUCCEEDED,
            )
            accepted = await store.finish(
                execution.claim(), now, State.SUCCEEDED, attempt, result={"message": "bench"}
            )
            t2 = time.perf_counter_ns()
            assert accepted, "a fresh claim's finish must be accepted"
            if i >= WARMUP:
                claims.append((t1 - t0) / 1e6)
                finishes.append((t2 - t1) / 1e6)
    finally:
        await store.close()
    return claims, finishes


def _query_plan(path: Path) -> str:
    conn = read_connection(path)
    try:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + sql.SELECT_DUE_PENDING, {"now": 0, "limit": 8}
        ).fetchall()
    finally:
        conn.close()
    return "; ".join(str(row[-1]) for row in plan)


def _measure(workdir: Path, stored: int) -> dict[str, float | int | str]:
    path = workdir / f"claim-{stored}.db"
    create_store_file(path)
    now = datetime.now(UTC)
    pending = stored // 2
    bulk_insert(path, echo_execution(now, done=True), stored - pending)
    bulk_insert(path, echo_execution(now), pending)
    samples = min(SAMPLES, pending - WARMUP)
    claims, finishes = asyncio.run(_cycles(path, samples))
    return {
        "stored": stored,
        "samples": samples,
        "claim_p50_ms": median(claims),
        "claim_p99_ms": percentile(claims, 99),
        "finish_p50_ms": median(finishes),
        "finish_p99_ms": percentile(finishes, 99),
        "plan": _query_plan(path),
    }


def run(args: BenchArgs) -> Result:
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    measured = [_measure(args.workdir, stored) for stored in sizes]
    small, large = measured[0], measured[-1]
    growth = float(large["claim_p50_ms"]) / float(small["claim_p50_ms"])
    rows = [
        [
            fmt(int(m["stored"])),
            fmt(int(m["samples"])),
            fmt(float(m["claim_p50_ms"]), 3),
            fmt(float(m["claim_p99_ms"]), 3),
            fmt(float(m["finish_p50_ms"]), 3),
            fmt(float(m["finish_p99_ms"]), 3),
        ]
        for m in measured
    ]
    target = Target(
        what=f"claim p50 at {fmt(int(large['stored']))} vs {fmt(int(small['stored']))} stored",
        goal=f"≤ {FLAT_FACTOR:g}x (does not grow)",
        measured=f"{growth:.2f}x",
        met=growth <= FLAT_FACTOR,
    )
    return Result(
        name=NAME,
        title=TITLE,
        figures={"sizes": measured, "claim_p50_growth": growth},
        columns=[
            "stored executions",
            "cycles",
            "claim p50 ms",
            "claim p99 ms",
            "finish p50 ms",
            "finish p99 ms",
        ],
        rows=rows,
        targets=[target],
        method=METHOD.format(samples=SAMPLES, warmup=WARMUP),
        notes=[f"Query plan of the due-PENDING select: `{large['plan']}`."],
    )
