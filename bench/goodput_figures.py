"""The goodput benchmark's figures: from a run's samples and counters to the numbers reported."""

from __future__ import annotations

from typing import Any

from bench.goodput_runs import Run, Sample
from bench.result import fmt


def converged(samples: list[Sample]) -> tuple[float, float]:
    """(distinct successful calls per second, 429 share) between 10% and 90% of the calls."""
    final = samples[-1].distinct_ok
    if final < 10:
        return float("nan"), float("nan")
    first = next(s for s in samples if s.distinct_ok >= 0.1 * final)
    last = next(s for s in samples if s.distinct_ok >= 0.9 * final)
    if last.at <= first.at:
        return float("nan"), float("nan")
    rate = (last.distinct_ok - first.distinct_ok) / (last.at - first.at)
    requests = last.requests - first.requests
    share = (last.rate_limited - first.rate_limited) / requests if requests else float("nan")
    return rate, share


def figures(run: Run, calls: list[int], ideal: float, capacity: float) -> dict[str, Any]:
    useful = sum(calls[i] for i in run.succeeded)
    provider = run.provider
    rate_limited = provider["by_status"].get("429", 0)
    converged_rate, converged_429 = converged(run.samples)
    flow = run.counters.get("flow") or {}
    return {
        "run": run.name,
        "succeeded": len(run.succeeded),
        "makespan_s": run.makespan,
        "makespan_vs_ideal": run.makespan / ideal,
        "goodput": useful / run.makespan / capacity,
        "converged_goodput": converged_rate / capacity,
        "share_429": rate_limited / provider["requests"] if provider["requests"] else 0.0,
        "converged_share_429": converged_429,
        "requests": provider["requests"],
        "ok": provider["ok"],
        "repeated_ok": provider["repeated_ok"],
        "flow_round_trips_per_call": (
            flow["round_trips"] / provider["ok"] if flow and provider["ok"] else None
        ),
        "counters": run.counters,
    }


def row(f: dict[str, Any], executions: int) -> list[str]:
    per_call = f["flow_round_trips_per_call"]
    return [
        f["run"],
        f"{f['succeeded']}/{executions}",
        fmt(f["makespan_s"], 1),
        fmt(f["makespan_vs_ideal"], 2),
        fmt(f["goodput"], 2),
        fmt(f["converged_goodput"], 2),
        f"{f['share_429']:.1%}",
        f"{f['converged_share_429']:.1%}",
        fmt(f["repeated_ok"]),
        "-" if per_call is None else fmt(per_call, 2),
    ]


TRIPS_NOTE = """\
Store round trips of flow control, fleet run: {per_call:.2f} per LLM call = {rounds:.2f}
compare-and-swap rounds per call (each call's acquire, batched with whatever else its process
had queued, plus the rounds that ask again, together, for the callers held further back in the
queue, and the flushes of batched successes) x {per_round:.2f} round trips per round (a read, a
conditional write, and {lost:.0%} of rounds lost to another process and done again). No caller
polls: {held} times a caller was held, {waited:.0f} s waited in-process in all."""


def trips_note(fleet: dict[str, Any]) -> str:
    flow = fleet["counters"].get("flow")
    if not flow or not flow["rounds"] or not fleet["ok"]:
        return ""
    return TRIPS_NOTE.format(
        per_call=flow["round_trips"] / fleet["ok"],
        rounds=flow["rounds"] / fleet["ok"],
        per_round=flow["round_trips"] / flow["rounds"],
        lost=flow["cas_conflicts"] / flow["rounds"],
        held=flow["held"],
        waited=flow["waited_seconds"],
    )
