"""The benchmark harness at smoke sizes: each benchmark finishes and reports what it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import api_submit, claim_latency, footprint, queue_throughput, report
from bench.registry import BENCHMARKS, select
from bench.result import BenchArgs, Result, Target


def _args(tmp_path: Path, **changes: str) -> BenchArgs:
    return BenchArgs(quick=True, workdir=tmp_path, **changes)  # type: ignore[arg-type]


def _result(name: str, measured: str) -> Result:
    return Result(
        name=name,
        title=f"{name} title",
        figures={"x": 1},
        columns=["a"],
        rows=[["1"]],
        targets=[Target("thing", "≥ 1", measured, True)],
        method="how",
    )


def test_every_registered_benchmark_has_a_unique_name_and_a_run_function() -> None:
    names = [b.NAME for b in BENCHMARKS]

    assert len(names) == len(set(names))
    assert all(callable(b.run) and b.TITLE for b in BENCHMARKS)
    assert [b.NAME for b in select("api,claim")] == ["claim", "api"]
    with pytest.raises(ValueError, match="unknown benchmark"):
        select("nope")


def test_claim_latency_reports_medians_and_p99_at_each_size(tmp_path: Path) -> None:
    result = claim_latency.run(_args(tmp_path))

    sizes = result.figures["sizes"]
    assert [s["stored"] for s in sizes] == list(claim_latency.QUICK_SIZES)
    for size in sizes:
        assert 0 < size["claim_p50_ms"] <= size["claim_p99_ms"]
        assert "ix_executions_claim" in size["plan"]
    assert result.figures["claim_p50_growth"] > 0


def test_a_partial_report_keeps_other_sections_and_the_hand_written_notes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "BENCHMARKS.md"
    machine = {"date": "d", "cores": "2", "ram": "r", "cpu": "c", "python": "p", "sqlite": "s",
               "commit": "abc"}  # fmt: skip
    order = ["first", "second"]
    report.write_markdown(
        path, [_result("second", "2"), _result("first", "1")], machine, "c", order
    )
    path.write_text(path.read_text() + "My finding.\n")

    report.write_markdown(path, [_result("second", "22")], machine, "c", order)

    text = path.read_text()
    second = text.split("<!-- bench:start second -->")[1].split("<!-- bench:end second -->")[0]
    assert text.index("first title") < text.index("second title")
    assert "| 22 |" in second and "| 2 |" not in second
    assert "| first | thing | ≥ 1 | 1 | met |" in text  # the summary covers the kept section
    assert text.rstrip().endswith("My finding.")


def test_the_command_writes_json_and_a_markdown_section(tmp_path: Path) -> None:
    out, md = tmp_path / "bench.json", tmp_path / "BENCHMARKS.md"
    command = [sys.executable, "-m", "bench", "--quick", "--only", "claim"]
    done = subprocess.run(
        [*command, "--json", str(out), "--markdown", str(md)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,  # `bench` is run from the repository root
    )

    assert done.returncode == 0, done.stderr
    payload = json.loads(out.read_text())
    assert payload["quick"] is True and payload["machine"]["cores"]
    assert [r["name"] for r in payload["results"]] == ["claim"]
    assert "<!-- bench:start claim -->" in md.read_text()


@pytest.mark.slow
def test_the_api_benchmark_compares_graphql_with_the_bare_endpoint(tmp_path: Path) -> None:
    result = api_submit.run(_args(tmp_path, load_client="python"))

    for key in ("graphql", "bare", "graphql_with_api_key"):
        assert result.figures[key]["requests_per_s"] > 0
        assert result.figures[key]["p99_ms"] > 0
    assert result.figures["client"] == "python"
    assert result.figures["ratio"] > 0


@pytest.mark.slow
def test_the_queue_benchmark_counts_round_trips_and_conflicts(tmp_path: Path) -> None:
    result = queue_throughput.run(_args(tmp_path))

    for size in result.figures["sizes"]:
        assert size["drain_executions_per_s"] > 0
        assert size["not_succeeded"] == 0
        # submit + finish at least, claims batched: the workers' own counters came back
        assert 2 <= size["drain_round_trips_per_execution"] < 10
        assert size["steady_claim_conflicts_per_execution"] >= 0
        assert size["submit_to_start_p50_ms"] <= size["submit_to_start_p99_ms"]


@pytest.mark.slow
def test_the_footprint_benchmark_measures_in_flight_and_peak_rss(tmp_path: Path) -> None:
    result = footprint.run(_args(tmp_path))

    (level,) = result.figures["levels"]
    assert level["peak_in_flight"] == level["concurrency"]
    assert level["peak_rss_mb"] >= level["idle_rss_mb"] > 0
