"""`agentfleet submit research --wait` against a running `agentfleet dev`, as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.processes.fleet import free_port
from tests.processes.test_dev import _env, _start_dev

pytestmark = pytest.mark.slow


def test_submit_research_waits_shows_progress_and_prints_findings(tmp_path):
    port = free_port()
    dev = _start_dev(tmp_path, port, _env())
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentfleet",
                "submit",
                "research",
                "--topic",
                "How do teams handle LLM API rate limits, retries and costs?",
                "--subreddit",
                "LocalLLaMA",
                "--subreddit",
                "r/Python",
                "--min-findings",
                "3",
                "--wait",
                "--url",
                f"http://127.0.0.1:{port}",
                "--poll",
                "0.1",
            ],
            env=_env(COLUMNS="200"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        dev.terminate()
        dev.wait(timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SUCCEEDED" in out
    assert " llm" in out and " tool search_subreddit" in out  # live progress events
    assert "https://www.reddit.com/r/" in out  # findings link to posts
    assert "fabricated dropped" in out


def test_submit_reports_a_bad_input_clearly_and_exits_nonzero(tmp_path):
    port = free_port()
    dev = _start_dev(tmp_path, port, _env())
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentfleet",
                "submit",
                "research",
                "--topic",
                "x",
                "--subreddit",
                "not a name!",
                "--url",
                f"http://127.0.0.1:{port}",
            ],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        dev.terminate()
        dev.wait(timeout=30)
    assert done.returncode == 1
    assert "BAD_USER_INPUT" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
