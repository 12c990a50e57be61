"""Real `agentfleet` processes on one SQLite file: start, kill, replace, and read their ledgers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

FAST_FLEET_ENV = {
    "AGENTFLEET_LEASE_SECONDS": "2",
    "AGENTFLEET_HEARTBEAT_SECONDS": "0.5",
    "AGENTFLEET_POLL_INTERVAL": "0.05",
    "AGENTFLEET_RETRY_INITIAL_INTERVAL": "0.05",
    "AGENTFLEET_RETRY_MAXIMUM_INTERVAL": "0.5",
    "AGENTFLEET_SHUTDOWN_GRACE": "0.3",
    "AGENTFLEET_LOG_JSON": "true",
    "AGENTFLEET_LOG_LEVEL": "INFO",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Fleet:
    """An `agentfleet api` and any number of `agentfleet worker` processes sharing `db`."""

    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    api: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    _count: int = 0

    @property
    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENTFLEET_")}
        clean.pop("MONGODB_URL", None)
        return (
            clean
            | FAST_FLEET_ENV
            | {"AGENTFLEET_SQLITE_PATH": str(self.workdir / "fleet.db")}
            | self.extra_env
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "agentfleet", *args]

    def create_key(self, tenant: str) -> str:
        done = subprocess.run(
            self.command("keys", "create", "--tenant", tenant),
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        self.logs.append(log)
        with log.open("w") as sink:
            return subprocess.Popen(
                self.command(*args), env=self.env, stdout=sink, stderr=subprocess.STDOUT
            )

    def start_api(self) -> None:
        self.api = self._spawn("api", "api", "--host", "127.0.0.1", "--port", str(self.port))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the API did not become ready")

    def start_worker(self) -> subprocess.Popen:
        self._count += 1
        worker = self._spawn(f"worker-{self._count}", "worker")
        self.workers.append(worker)
        return worker

    def alive_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def stop(self) -> None:
        for proc in [*self.alive_workers(), self.api]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers, self.api]:
            if proc is not None:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def ledger(self) -> list[dict]:
        """Every JSON log line with an outcome: claims and accepted/refused attempt ends."""
        entries = []
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"outcome"' in line:
                    with contextlib.suppress(json.JSONDecodeError):  # cut short by SIGKILL
                        entries.append(json.loads(line))
        return entries


def ledger_counts(entries: list[dict]) -> tuple[Counter, Counter]:
    """(claims per execution, accepted terminal finishes per execution)."""
    claims: Counter = Counter()
    finishes: Counter = Counter()
    for e in entries:
        if e["outcome"] == "claimed":
            claims[e["execution_id"]] += 1
        elif e.get("accepted") and e["outcome"] in ("succeeded", "failed", "cancelled"):
            finishes[e["execution_id"]] += 1
    return claims, finishes
