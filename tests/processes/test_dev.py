"""`agentfleet dev` and `agentfleet demo` as a newcomer runs them: real processes, real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from common.settings import UNPREFIXED
from tests.processes.fleet import free_port

pytestmark = pytest.mark.slow

SUBMIT = """mutation($input: JSON!) { submitExecution(agent: "echo", input: $input) { id } }"""
STATS = "query { stats { pending running succeeded failed cancelled } }"


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without any agentfleet setting, provider key or Reddit
    credential: `dev` as a newcomer starts it, offline, whatever the developer has exported."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AGENTFLEET_") and k not in UNPREFIXED
    }
    return env | extra


def _gql(url: str, query: str, **variables) -> dict:
    body = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}).json()
    assert not body.get("errors"), body
    return body["data"]


def _start_dev(cwd, port: int, env: dict[str, str]) -> subprocess.Popen:
    with (cwd / "dev.log").open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentfleet", "dev", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("agentfleet dev did not become ready:\n" + (cwd / "dev.log").read_text())


def test_dev_killed_mid_batch_and_restarted_completes_every_accepted_execution(tmp_path):
    # The lease is shortened so the restarted process takes over the killed one's claims in
    # seconds; with the default 60 s lease the same happens a minute later.
    env = _env(AGENTFLEET_LEASE_SECONDS="3", AGENTFLEET_HEARTBEAT_SECONDS="1")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    dev = _start_dev(tmp_path, port, env)
    try:
        ids = [
            _gql(url, SUBMIT, input={"message": str(i), "delay_s": 0.5})["submitExecution"]["id"]
            for i in range(150)
        ]
        while _gql(url, STATS)["stats"]["succeeded"] < 20:
            time.sleep(0.05)
    finally:
        dev.kill()  # SIGKILL: no release, no clean-up
        dev.wait()
    assert (tmp_path / "agentfleet.db").exists(), "dev keeps its state in ./agentfleet.db"

    dev = _start_dev(tmp_path, port, env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = _gql(url, STATS)["stats"]
            if stats["succeeded"] == len(ids):
                break
            time.sleep(0.2)
        assert stats == {
            "pending": 0,
            "running": 0,
            "succeeded": len(ids),
            "failed": 0,
            "cancelled": 0,
        }
    finally:
        dev.terminate()
        dev.wait(timeout=30)


def test_demo_runs_offline_and_exits_zero_when_every_execution_ends_as_expected(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "agentfleet", "demo", "--executions", "60"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all executions ended as expected" in done.stdout
    assert "60/60 executions finished" in done.stdout
