"""A set of `agentfleet worker` processes on one SQLite file that report their counters."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import agentfleet, agentfleet_env, log_says, spawn, stop, wait_until


@dataclass
class WorkerFleet:
    """`count` worker processes; `stop()` returns each one's counters (claims, round trips,
    claim conflicts) from its `--stats-file`."""

    db: Path
    workdir: Path
    count: int
    settings: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    label: str = "worker"
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _path(self, i: int, suffix: str) -> Path:
        return self.workdir / f"{self.label}-{i}.{suffix}"

    def start(self) -> WorkerFleet:
        env = agentfleet_env(self.db, self.settings)
        extra = [] if self.concurrency is None else ["--concurrency", str(self.concurrency)]
        for i in range(self.count):
            args = agentfleet("worker", "--stats-file", str(self._path(i, "json")), *extra)
            self.procs.append(spawn(args, env, self._path(i, "log")))
        for i in range(self.count):
            # The claim loop starts right after this line; before it the store is opened.
            wait_until(log_says(self._path(i, "log"), "started (concurrency"), f"{self.label} {i}")
        return self

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> list[dict[str, int]]:
        stop(self.procs)
        counters = []
        for i, proc in enumerate(self.procs):
            stats = self._path(i, "json")
            if proc.returncode != 0 or not stats.exists():
                raise RuntimeError(f"{self.label} {i} exited {proc.returncode}; see its log")
            counters.append(json.loads(stats.read_text()))
        return counters


def totals(counters: list[dict[str, int]]) -> dict[str, int]:
    """Sums of the numeric counters over a fleet."""
    keys = ("claimed", "round_trips", "claim_conflicts")
    return {key: sum(int(c[key]) for c in counters) for key in keys}
