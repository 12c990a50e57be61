"""The queue: `echo` executions through W real worker processes on the embedded SQLite store."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fleet import WorkerFleet, totals
from bench.loading import (
    TENANT,
    bulk_insert,
    count_in_states,
    create_store_file,
    echo_execution,
    read_connection,
    timings,
)
from bench.processes import wait_until
from bench.result import BenchArgs, Result, Target, fmt
from bench.stats import median, percentile
from common.domain import TERMINAL_STATES, NewExecution, State
from common.store.sqlite import SqliteStore
from common.store.sqlite_schema import to_us

NAME = "queue"
TITLE = "Queue: echo executions through 4 worker processes on SQLite"

WORKERS = 4
FULL_SIZES = (1_000, 100_000)
QUICK_SIZES = (200, 1_000)
STEADY_RATE = 200.0  # submits per second in the latency phase
STEADY_SECONDS, QUICK_STEADY_SECONDS = 10.0, 2.0
#: Separate worker processes learn of new work only by polling (there is no push on SQLite);
#: the default interval (1 s) is for idle fleets, a latency-minded deployment sets it lower.
WORKER_SETTINGS = {"AGENTFLEET_POLL_INTERVAL": "0.05"}

TARGET_RATE = 1_000.0
FLAT_FACTOR = 0.8  # throughput at the largest size at least this share of the smallest's
TARGET_P50_MS, TARGET_P99_MS = 20.0, 100.0
TARGET_ROUND_TRIPS = 4.0

METHOD = """\
For each size N, a fresh SQLite file and {workers} `agentfleet worker` processes (default
concurrency 16 and claim batch 8, log level INFO to a file, `AGENTFLEET_POLL_INTERVAL={poll}`),
all on one machine. Two phases, each with its own fleet, so each phase's counters are its own:

* **Drain.** Once every worker's claim loop runs, N PENDING `echo` executions (no delay) are
  committed in one transaction. Throughput = N ÷ (last `finished_at` - the commit instant), read
  from the documents.
* **Steady.** On the same file (N executions now stored), the bench process submits through
  `SqliteStore.submit` (the call the API makes) at {rate:g}/s for {seconds:g} s while the workers
  run. Latency submit→start = `started_at` - `created_at` of each document.

Store round trips per execution = (every worker's `round_trips` + the submits' round trips) ÷
executions, from the counters each worker writes at shutdown (`agentfleet worker --stats-file`):
it includes claims that found nothing (idle polls, before the backlog lands and after it is
done) and the store's schema check at start. For the drain phase the backlog was bulk-loaded,
so one round trip per execution is added for its submit. Claim conflicts = claim updates that
matched nothing (another worker won), counted by the store (`claim_conflicts`).
The bench process, the {workers} workers and SQLite share the machine's cores."""


@dataclass(frozen=True)
class Phase:
    executions: int
    seconds: float
    counters: dict[str, int]
    latencies_ms: list[float]
    failed: int

    def per_execution(self, key: str, extra: float = 0.0) -> float:
        return self.counters[key] / self.executions + extra


def _wait_terminal(db: Path, expected: int, timeout: float) -> None:
    conn = read_connection(db)
    try:
        wait_until(
            lambda: count_in_states(conn, *TERMINAL_STATES) >= expected,
            f"{expected} executions to finish",
            timeout,
        )
    finally:
        conn.close()


def _read_phase(db: Path, since_us: int) -> tuple[list[tuple[float, float, float]], int]:
    conn = read_connection(db)
    try:
        failed = count_in_states(conn, State.FAILED, State.CANCELLED)
        return timings(conn, since_us), failed
    finally:
        conn.close()


def _drain(db: Path, workdir: Path, n: int) -> Phase:
    fleet = WorkerFleet(db, workdir, WORKERS, WORKER_SETTINGS, label=f"drain-{n}").start()
    try:
        since = to_us(datetime.now(UTC))
        committed = bulk_insert(db, echo_execution(datetime.now(UTC)), n)
        _wait_terminal(db, n, timeout=60 + n / 100)
    finally:
        counters = totals(fleet.stop())
    done, failed = _read_phase(db, since)
    seconds = max(finished for _, _, finished in done) - committed
    return Phase(n, seconds, counters, [], failed)


async def _submit_steadily(db: Path, rate: float, seconds: float) -> int:
    """Submit `rate` echo executions per second for `seconds`; returns the store round trips."""
    store = SqliteStore(str(db))
    new = NewExecution(tenant=TENANT, agent="echo", input={"message": "bench"}, max_attempts=5)
    start, count = time.monotonic(), int(rate * seconds)
    try:
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            await store.submit(new, datetime.now(UTC))
        return store.round_trips
    finally:
        await store.close()


def _steady(db: Path, workdir: Path, n: int, seconds: float) -> Phase:
    fleet = WorkerFleet(db, workdir, WORKERS, WORKER_SETTINGS, label=f"steady-{n}").start()
    try:
        since = to_us(datetime.now(UTC))
        submit_round_trips = asyncio.run(_submit_steadily(db, STEADY_RATE, seconds))
        count = int(STEADY_RATE * seconds)
        _wait_terminal(db, n + count, timeout=60 + count / 50)
    finally:
        counters = totals(fleet.stop())
    counters["round_trips"] += submit_round_trips
    done, failed = _read_phase(db, since)
    latencies = [(started - created) * 1000 for created, started, _ in done]
    return Phase(len(done), seconds, counters, latencies, failed)


def _measure(workdir: Path, n: int, steady_seconds: float) -> dict[str, Any]:
    here = workdir / f"queue-{n}"
    here.mkdir(parents=True, exist_ok=True)
    db = here / "queue.db"
    create_store_file(db)
    drain = _drain(db, here, n)
    steady = _steady(db, here, n, steady_seconds)
    return {
        "stored": n,
        "drain_executions_per_s": n / drain.seconds,
        "drain_seconds": drain.seconds,
        "drain_round_trips_per_execution": drain.per_execution("round_trips", extra=1.0),
        "drain_claim_conflicts_per_execution": drain.per_execution("claim_conflicts"),
        "steady_executions": steady.executions,
        "steady_rate_per_s": STEADY_RATE,
        "submit_to_start_p50_ms": median(steady.latencies_ms),
        "submit_to_start_p99_ms": percentile(steady.latencies_ms, 99),
        "submit_to_start_max_ms": max(steady.latencies_ms),
        "steady_round_trips_per_execution": steady.per_execution("round_trips"),
        "steady_claim_conflicts_per_execution": steady.per_execution("claim_conflicts"),
        "not_succeeded": drain.failed + steady.failed,
    }


def _row(m: dict[str, Any]) -> list[str]:
    return [
        fmt(m["stored"]),
        fmt(m["drain_executions_per_s"]),
        fmt(m["drain_round_trips_per_execution"], 2),
        fmt(m["drain_claim_conflicts_per_execution"], 3),
        fmt(m["submit_to_start_p50_ms"], 1),
        fmt(m["submit_to_start_p99_ms"], 1),
        fmt(m["steady_round_trips_per_execution"], 2),
        fmt(m["steady_claim_conflicts_per_execution"], 3),
    ]


def _targets(measured: list[dict[str, Any]]) -> list[Target]:
    small, large = measured[0], measured[-1]
    slowest = min(m["drain_executions_per_s"] for m in measured)
    growth = large["drain_executions_per_s"] / small["drain_executions_per_s"]
    p50 = max(m["submit_to_start_p50_ms"] for m in measured)
    p99 = max(m["submit_to_start_p99_ms"] for m in measured)
    trips = max(
        max(m["drain_round_trips_per_execution"], m["steady_round_trips_per_execution"])
        for m in measured
    )
    sizes = f"at {fmt(small['stored'])} and {fmt(large['stored'])} stored"
    return [
        Target(
            f"echo executions/s, {WORKERS} workers, {sizes}",
            f"≥ {fmt(TARGET_RATE)}",
            fmt(slowest),
            slowest >= TARGET_RATE,
        ),
        Target(
            "throughput, largest size vs smallest",
            f"≥ {FLAT_FACTOR:g}x (flat)",
            f"{growth:.2f}x",
            growth >= FLAT_FACTOR,
        ),
        Target(
            f"submit→start p50 at {STEADY_RATE:g}/s (worst size)",
            f"≤ {TARGET_P50_MS:g} ms",
            f"{p50:.1f} ms",
            p50 <= TARGET_P50_MS,
        ),
        Target(
            f"submit→start p99 at {STEADY_RATE:g}/s (worst size)",
            f"≤ {TARGET_P99_MS:g} ms",
            f"{p99:.1f} ms",
            p99 <= TARGET_P99_MS,
        ),
        Target(
            "store round trips per echo execution (worst phase)",
            f"≤ {TARGET_ROUND_TRIPS:g}",
            f"{trips:.2f}",
            trips <= TARGET_ROUND_TRIPS,
        ),
    ]


def run(args: BenchArgs) -> Result:
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    seconds = QUICK_STEADY_SECONDS if args.quick else STEADY_SECONDS
    measured = [_measure(args.workdir, n, seconds) for n in sizes]
    notes = []
    if any(m["not_succeeded"] for m in measured):
        notes.append("Some executions did not succeed: see `not_succeeded` in the JSON.")
    return Result(
        name=NAME,
        title=TITLE,
        figures={"sizes": measured, "workers": WORKERS, "worker_settings": WORKER_SETTINGS},
        columns=[
            "stored (N)",
            "drain exec/s",
            "drain round trips/exec",
            "drain conflicts/exec",
            "submit→start p50 ms",
            "submit→start p99 ms",
            "steady round trips/exec",
            "steady conflicts/exec",
        ],
        rows=[_row(m) for m in measured],
        targets=_targets(measured),
        method=METHOD.format(
            workers=WORKERS,
            poll=WORKER_SETTINGS["AGENTFLEET_POLL_INTERVAL"],
            rate=STEADY_RATE,
            seconds=seconds,
        ),
        notes=notes,
    )
