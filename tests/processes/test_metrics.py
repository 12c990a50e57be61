"""/metrics reports a run's counts, matching the executions' states (real processes)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes.fleet import free_port
from tests.processes.test_dev import _env, _start_dev

pytestmark = pytest.mark.slow

SUBMIT = """mutation($agent: String!, $input: JSON!) {
  submitExecution(agent: $agent, input: $input, maxAttempts: 3) { id } }"""
STATS = "query { stats { pending running succeeded failed cancelled } }"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= set(ls))


def _gql(url: str, query: str, **variables) -> dict:
    body = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}).json()
    assert not body.get("errors"), body
    return body["data"]


def test_dev_metrics_match_the_states_of_a_run(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    dev = _start_dev(tmp_path, port, _env(AGENTFLEET_RETRY_INITIAL_INTERVAL="0.05"))
    try:
        for i in range(20):
            _gql(url, SUBMIT, agent="echo", input={"message": str(i)})
        for _ in range(5):
            _gql(url, SUBMIT, agent="flaky", input={"fail_times": 1, "error": "auth"})
        for _ in range(5):
            _gql(url, SUBMIT, agent="flaky", input={"fail_times": 1, "error": "server"})
        research = {"topic": "LLM API rate limits and retries", "subreddits": ["Python"]}
        _gql(url, SUBMIT, agent="reddit_research", input=research)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = _gql(url, STATS)["stats"]
            if stats["pending"] + stats["running"] == 0:
                break
            time.sleep(0.1)
        found = samples(httpx.get(f"{url}/metrics").text)
    finally:
        dev.terminate()
        dev.wait(timeout=30)

    assert stats == {"pending": 0, "running": 0, "succeeded": 26, "failed": 5, "cancelled": 0}
    for state in ("SUCCEEDED", "FAILED", "PENDING", "RUNNING", "CANCELLED"):
        assert total(found, "agentfleet_executions", state=state) == stats[state.lower()]
    assert total(found, "agentfleet_executions_finished_total", state="SUCCEEDED") == 26
    assert total(found, "agentfleet_executions_finished_total", state="FAILED") == 5
    assert total(found, "agentfleet_claims_total") == 36  # 31 first claims + 5 retries
    assert total(found, "agentfleet_retries_total", error="ProviderUnavailable") == 5
    assert total(found, "agentfleet_attempts_total", outcome="failed") == 5
    assert total(found, "agentfleet_oldest_due_pending_age_seconds") == 0
    # the research run's LLM calls (offline scripted model) were timed
    assert total(found, "agentfleet_llm_call_seconds_count", outcome="ok") >= 3


def test_a_worker_process_serves_its_own_counters(tmp_path):
    port = free_port()
    env = _env(AGENTFLEET_METRICS_PORT=str(port), AGENTFLEET_SQLITE_PATH=str(tmp_path / "w.db"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "agentfleet", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the worker's metrics port never opened"
                time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert "agentfleet_claims_total" in text
    assert "agentfleet_llm_call_seconds" in text
