"""The goodput benchmark at smoke size: every run finishes and reports what the issue asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import goodput
from bench.result import BenchArgs


@pytest.mark.slow
def test_the_goodput_benchmark_runs_the_fleet_and_both_baselines_on_one_provider(
    tmp_path: Path,
) -> None:
    result = goodput.run(BenchArgs(quick=True, workdir=tmp_path))

    runs = {r["run"]: r for r in result.figures["runs"]}
    assert {"fleet", "fleet, no checkpoint resume"} <= set(runs)
    assert sum(name.startswith("article loop") for name in runs) == 2
    fleet = runs["fleet"]
    assert fleet["succeeded"] == result.figures["executions"]
    assert fleet["repeated_ok"] == 0 and fleet["flow_round_trips_per_call"] > 0
    for figures in runs.values():
        assert figures["makespan_vs_ideal"] > 0 and 0 <= figures["share_429"] <= 1
    assert [t.what for t in result.targets][:2] == [
        "fleet goodput once converged (share of capacity)",
        "fleet 429s once converged (share of calls)",
    ]
