"""Real `agentfleet` processes for benchmarks: start them on one SQLite file, wait, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def agentfleet_env(db: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without any agentfleet or MongoDB setting of the caller's, on `db`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENTFLEET_")}
    clean.pop("MONGODB_URL", None)
    return clean | {"AGENTFLEET_SQLITE_PATH": str(db)} | dict(settings or {})


def spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `args` with stdout and stderr going to `log`."""
    with log.open("w") as sink:
        return subprocess.Popen(args, env=dict(env), stdout=sink, stderr=subprocess.STDOUT)


def agentfleet(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentfleet", *args]


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def log_says(log: Path, text: str) -> Callable[[], bool]:
    return lambda: log.exists() and text in log.read_text(errors="replace")


def http_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def stop(procs: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    """SIGTERM (a graceful stop), then wait; SIGKILL only what does not stop in time."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
