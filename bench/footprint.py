"""Worker footprint: how many executions one worker process keeps in flight, at what RSS."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.fleet import WorkerFleet
from bench.loading import (
    bulk_insert,
    count_in_states,
    create_store_file,
    echo_execution,
    read_connection,
)
from bench.result import BenchArgs, Result, Target, fmt
from bench.stats import median
from common.domain import TERMINAL_STATES, State

NAME = "footprint"
TITLE = "Worker footprint: executions in flight in one worker process"

PROVIDER_LATENCY_S = 2.0
LEVELS, QUICK_LEVELS = (1_000, 5_000, 10_000), (200,)  # --concurrency of the worker
BACKLOG_FACTOR = 3  # executions loaded per slot: enough for several 2 s generations
SAMPLE_EVERY_S = 0.1
#: Fast polls so a freed slot is refilled at once; claim batches as shipped (8).
WORKER_SETTINGS = {"AGENTFLEET_POLL_INTERVAL": "0.05"}
TARGET_IN_FLIGHT = 1_000
TARGET_RSS_MB = 500.0

METHOD = """\
For each concurrency C in {levels}: one `agentfleet worker --concurrency C` process on a fresh
SQLite file, with {factor}xC PENDING `echo` executions of `delay_s={delay:g}` loaded once it
runs (claim batch 8 as shipped, `AGENTFLEET_POLL_INTERVAL=0.05`): each one holds
its slot for {delay:g} s like a call to a provider with {delay:g} s latency (an `asyncio.sleep`,
no network: the figure is the worker's own cost per execution in flight, not an HTTP client's).
Every {every:g} s the bench counts RUNNING executions in the store (in flight) and reads the
worker's RSS (psutil); the peak RSS is the kernel's high-water mark (`VmHWM` in
/proc/PID/status) read just before the worker is stopped. "Sustained" is the median of the
in-flight samples from the first time it reached its peak until the backlog ran out. With
{delay:g} s per execution, keeping C in flight takes C ÷ {delay:g} completions per second from
that one process."""


@dataclass(frozen=True)
class Sample:
    at: float
    in_flight: int
    rss_mb: float


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _sample(db: Path, pid: int, expected: int, timeout: float) -> list[Sample]:
    """Samples until every execution is terminal."""
    conn = read_connection(db)
    process = psutil.Process(pid)
    samples = []
    deadline = time.monotonic() + timeout
    try:
        while count_in_states(conn, *TERMINAL_STATES) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError("the footprint backlog did not finish in time")
            running = count_in_states(conn, State.RUNNING)
            rss = process.memory_info().rss / 2**20
            samples.append(Sample(time.monotonic(), running, rss))
            time.sleep(SAMPLE_EVERY_S)
    finally:
        conn.close()
    return samples


def _sustained(samples: list[Sample]) -> float:
    peak = max(s.in_flight for s in samples)
    first = next(i for i, s in enumerate(samples) if s.in_flight == peak)
    pending_left = [s for s in samples[first:] if s.in_flight >= 0.5 * peak]
    return median([s.in_flight for s in pending_left])


def _measure(workdir: Path, concurrency: int) -> dict[str, Any]:
    here = workdir / f"footprint-{concurrency}"
    here.mkdir(parents=True, exist_ok=True)
    db = here / "footprint.db"
    create_store_file(db)
    backlog = concurrency * BACKLOG_FACTOR
    fleet = WorkerFleet(db, here, 1, WORKER_SETTINGS, concurrency, label="footprint").start()
    (pid,) = fleet.pids
    try:
        idle_rss = psutil.Process(pid).memory_info().rss / 2**20
        started = time.monotonic()
        bulk_insert(db, echo_execution(datetime.now(UTC), delay_s=PROVIDER_LATENCY_S), backlog)
        samples = _sample(db, pid, backlog, timeout=60 + backlog * PROVIDER_LATENCY_S / 100)
        seconds = time.monotonic() - started
        peak_rss = _peak_rss_mb(pid)
    finally:
        fleet.stop()
    return {
        "concurrency": concurrency,
        "backlog": backlog,
        "peak_in_flight": max(s.in_flight for s in samples),
        "sustained_in_flight": _sustained(samples),
        "idle_rss_mb": idle_rss,
        "peak_rss_mb": peak_rss,
        "seconds": seconds,
        "executions_per_s": backlog / seconds,
    }


def _row(m: dict[str, Any]) -> list[str]:
    return [
        fmt(m["concurrency"]),
        fmt(m["peak_in_flight"]),
        fmt(m["sustained_in_flight"]),
        fmt(m["idle_rss_mb"], 1),
        fmt(m["peak_rss_mb"], 1),
        fmt(m["executions_per_s"]),
    ]


def _targets(measured: list[dict[str, Any]]) -> list[Target]:
    within = [m for m in measured if m["peak_rss_mb"] < TARGET_RSS_MB]
    best = max(within or measured, key=lambda m: m["sustained_in_flight"])
    goal = min(TARGET_IN_FLIGHT, max(m["concurrency"] for m in measured))
    return [
        Target(
            f"executions kept in flight by one worker ({PROVIDER_LATENCY_S:g} s latency)",
            f"≥ {fmt(goal)}",
            fmt(best["sustained_in_flight"]),
            best["sustained_in_flight"] >= goal,
        ),
        Target(
            "peak RSS of that worker",
            f"< {TARGET_RSS_MB:g} MB",
            f"{best['peak_rss_mb']:.0f} MB",
            best["peak_rss_mb"] < TARGET_RSS_MB,
        ),
    ]


def run(args: BenchArgs) -> Result:
    levels = QUICK_LEVELS if args.quick else LEVELS
    measured = [_measure(args.workdir, c) for c in levels]
    return Result(
        name=NAME,
        title=TITLE,
        figures={"levels": measured, "provider_latency_s": PROVIDER_LATENCY_S},
        columns=[
            "concurrency",
            "peak in flight",
            "sustained in flight",
            "idle RSS MB",
            "peak RSS MB",
            "executions/s",
        ],
        rows=[_row(m) for m in measured],
        targets=_targets(measured),
        method=METHOD.format(
            levels=", ".join(fmt(c) for c in levels),
            factor=BACKLOG_FACTOR,
            delay=PROVIDER_LATENCY_S,
            every=SAMPLE_EVERY_S,
        ),
    )
