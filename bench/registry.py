"""The benchmarks `python -m bench` knows, in the order it runs them.

To add one: write a module with `NAME` (used by `--only` and as its BENCHMARKS.md section),
`TITLE` and `run(args: BenchArgs) -> Result`, and list it here. Nothing else needs to change.
"""

from __future__ import annotations

from typing import Protocol

from bench import api_submit, claim_latency, footprint, goodput, queue_throughput
from bench.result import BenchArgs, Result


class Benchmark(Protocol):
    NAME: str
    TITLE: str

    def run(self, args: BenchArgs) -> Result: ...


BENCHMARKS: list[Benchmark] = [claim_latency, queue_throughput, api_submit, footprint, goodput]


def select(only: str | None) -> list[Benchmark]:
    """The benchmarks named in a comma-separated `only` (all when None), in registry order."""
    if not only:
        return list(BENCHMARKS)
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    unknown = wanted - {b.NAME for b in BENCHMARKS}
    if unknown:
        known = ", ".join(b.NAME for b in BENCHMARKS)
        raise ValueError(f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: {known}")
    return [b for b in BENCHMARKS if b.NAME in wanted]
