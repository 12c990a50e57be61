"""Goodput under rate limits: research executions against a provider of fixed capacity, the fleet
beside two baselines on the same provider in the same run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bench.goodput_figures import figures as run_figures
from bench.goodput_figures import row, trips_note
from bench.goodput_runs import Run, article_run, fleet_run, start_provider
from bench.processes import stop
from bench.result import BenchArgs, Result, Target, fmt
from common.agents.base import AgentContext
from common.agents.research import REDDIT_RESEARCH, ResearchInput
from common.clock import ManualClock
from common.llm import ScriptedChatModel

NAME = "goodput"
TITLE = "Goodput under rate limits: research executions against a provider of 20 calls/s"

CAPACITY = 20.0  # calls per second the provider admits; 429 with Retry-After beyond
LATENCY = 0.3  # seconds per successful reply
MIN_FINDINGS = 12  # six LLM calls per execution (search, four reads, report)


@dataclass(frozen=True)
class Size:
    executions: int
    workers: int
    concurrency: int  # per worker; the article's loop runs workers x concurrency agents at once


FULL, QUICK = Size(150, 4, 8), Size(8, 2, 3)
#: The article's loop a second time, with just enough agents to keep the provider busy
#: (capacity x latency): the kindest setting for it, which it has no way to find by itself.
KIND_AGENTS = 6
#: A second scenario, where checkpoints matter: this share of calls also fails with a 500.
FAULTS = 0.1

TOPICS = [
    ("How do teams handle LLM API rate limits, retries and costs?", ["startups", "Python"]),
    ("Self-hosting a local LLM for coding: hardware and quantization", ["LocalLLaMA"]),
    ("Kubernetes cost monitoring and autoscaling mistakes", ["devops", "dataengineering"]),
    ("Data pipeline orchestration with Airflow or Dagster", ["dataengineering", "Python"]),
]

TARGET_GOODPUT, TARGET_429, TARGET_VS_ARTICLE = 0.95, 0.05, 1.5

METHOD = """\
One fake provider process (`python -m common.llm.fake_provider --capacity {capacity:g}
--latency {latency:g}`, the offline research policy answering) per run, admitting at most
{capacity:g} calls in any second and answering 429 with an honest Retry-After beyond that; a
successful reply takes {latency:g} s. K = {k} `reddit_research` executions on {topics} topics
(min_findings {findings}: m = {m:.2f} LLM calls per execution on average when nothing fails, from
clean offline runs; a distinct `behavior` line per execution makes every conversation distinct,
so the provider's `repeated_ok` counts calls paid twice). Ideal makespan = K·m ÷ capacity =
{ideal:.1f} s. Runs, one after another on the same machine:

* **fleet**: {w} `agentfleet worker` processes (concurrency {c} each) on one SQLite file, flow
  control and checkpoints on, as shipped; the K executions are committed at once.
* **fleet, no checkpoint resume** (baseline ii): the same fleet running `reddit_research_fresh`,
  the same agent with an in-memory saver per attempt, so any retry or deferral re-runs the agent
  from its first step.
* **article loop** (baseline i): the seed article's in-memory loop in the bench process: up to
  {attempts} attempts per execution, 50-200 ms of random sleep between them, a failed agent run
  again from the start (its client's own retries off, as everywhere here), {agents} agents at
  once (the fleet's {w}x{c} slots), and again with {kind} agents (≈ capacity x latency: the
  kindest setting for it).
* **fleet, {faults:.0%} 500s**, with and without checkpoint resume: both fleet runs again against
  a provider that also fails {faults:.0%} of calls with a 500 (seeded), where retries happen.

Makespan: from the commit of the backlog (the first call, for the loop) to the last execution's
end. Goodput = LLM calls of executions that succeeded ÷ makespan ÷ capacity. *Converged* figures
are taken between the moments the provider had answered 10% and 90% of the distinct calls it
ever answered (slow start and the tail excluded), from its `/stats` sampled every 0.2 s: distinct
successful calls per second ÷ capacity, and 429s ÷ requests in that window. Store round trips
per LLM call are the flow controllers' own (reads and compare-and-swap writes of the provider's
flow record), from the counters each worker writes at shutdown."""


def _case(i: int) -> ResearchInput:
    topic, subreddits = TOPICS[i % len(TOPICS)]
    return ResearchInput(
        topic=topic,
        subreddits=subreddits,
        min_findings=MIN_FINDINGS,
        behavior=f"goodput benchmark case {i}",
    )


async def _calls_of(data: ResearchInput) -> int:
    """LLM calls of a clean offline run: what one execution costs when nothing fails."""
    ctx = AgentContext("reference", "bench", 1, 0, ManualClock())
    ctx.resources = {"chat_model": lambda policy: ScriptedChatModel(policy=policy)}
    await REDDIT_RESEARCH.run(data, ctx)
    return ctx.usage.llm_calls_ok


def _ratio(fleet: dict[str, Any], other: dict[str, Any]) -> tuple[float, str]:
    if other["goodput"] <= 0:
        return float("inf"), "∞ (it finished nothing)"
    ratio = fleet["goodput"] / other["goodput"]
    return ratio, f"{ratio:.2f}x"


def _targets(by_name: dict[str, dict[str, Any]], size: Size) -> list[Target]:
    fleet = by_name["fleet"]
    same, same_text = _ratio(
        fleet, by_name[f"article loop, {size.workers * size.concurrency} agents"]
    )
    kind, kind_text = _ratio(fleet, by_name[f"article loop, {KIND_AGENTS} agents, hand-tuned"])
    faulty = by_name[f"fleet, {FAULTS:.0%} 500s"]
    return [
        Target(
            "fleet goodput once converged (share of capacity)",
            f"≥ {TARGET_GOODPUT:.2f}",
            fmt(fleet["converged_goodput"], 2),
            fleet["converged_goodput"] >= TARGET_GOODPUT,
        ),
        Target(
            "fleet 429s once converged (share of calls)",
            f"≤ {TARGET_429:.0%}",
            f"{fleet['converged_share_429']:.1%}",
            fleet["converged_share_429"] <= TARGET_429,
        ),
        Target(
            "fleet goodput vs the article's loop, same concurrency",
            f"≥ {TARGET_VS_ARTICLE:g}x",
            same_text,
            same >= TARGET_VS_ARTICLE,
        ),
        Target(
            f"fleet goodput vs the article's loop hand-tuned to {KIND_AGENTS} agents",
            f"≥ {TARGET_VS_ARTICLE:g}x",
            kind_text,
            kind >= TARGET_VS_ARTICLE,
        ),
        Target(
            "successful calls paid twice by the fleet (both scenarios)",
            "0",
            fmt(fleet["repeated_ok"] + faulty["repeated_ok"]),
            fleet["repeated_ok"] + faulty["repeated_ok"] == 0,
        ),
    ]


NOTES = """\
Reading the figures: the converged goodput is the fleet's steady state; the makespan adds
slow start (flow control starts a provider at 5 calls/s and finds its capacity within about two
seconds) and the tail (the last executions' calls are sequential). Without failures the fleet
with and without checkpoint resume are alike: flow control keeps calls from failing, so nothing
is retried; with {faults:.0%} of calls failing besides, every retry of the fresh agent pays its
earlier calls again. The article's loop at the fleet's concurrency collapses (each 429 restarts
an agent that then meets more 429s); tuned by hand to capacity x latency agents it comes close
to the fleet: no system can be 1.5x of a goodput above 0.67, and that tuning is what flow
control does without being told the capacity (and keeps doing when capacity or load change)."""


@dataclass(frozen=True)
class Plan:
    name: str
    agent: str | None = None  # a fleet run of this agent; None: the article's loop
    agents: int = 0  # the loop's concurrency
    fail_rate: float = 0.0  # 500s on top of the capacity limit


def _plans(size: Size) -> list[Plan]:
    same = size.workers * size.concurrency
    return [
        Plan("fleet", "reddit_research"),
        Plan("fleet, no checkpoint resume", "reddit_research_fresh"),
        Plan(f"article loop, {same} agents", agents=same),
        Plan(f"article loop, {KIND_AGENTS} agents, hand-tuned", agents=KIND_AGENTS),
        Plan(f"fleet, {FAULTS:.0%} 500s", "reddit_research", fail_rate=FAULTS),
        Plan(f"fleet, {FAULTS:.0%} 500s, no checkpoint resume", "reddit_research_fresh", 0, FAULTS),
    ]


def _run(plan: Plan, args: BenchArgs, size: Size, cases: list[ResearchInput]) -> Run:
    provider, url = start_provider(args.workdir, CAPACITY, LATENCY, plan.fail_rate)
    try:
        if plan.agent is None:
            return article_run(plan.name, url, cases, concurrency=plan.agents)
        slug = "".join(c if c.isalnum() else "-" for c in plan.name)
        return fleet_run(
            slug,
            args.workdir,
            url,
            cases,
            workers=size.workers,
            concurrency=size.concurrency,
            agent=plan.agent,
        )
    finally:
        stop([provider])


def _runs(args: BenchArgs, size: Size, cases: list[ResearchInput]) -> list[Run]:
    runs = []
    for plan in _plans(size):
        run = _run(plan, args, size, cases)
        run.name = plan.name
        print(f"   {plan.name}: {len(run.succeeded)} succeeded in {run.makespan:.1f} s", flush=True)
        runs.append(run)
    return runs


def run(args: BenchArgs) -> Result:
    size = QUICK if args.quick else FULL
    cases = [_case(i) for i in range(size.executions)]
    calls = [asyncio.run(_calls_of(case)) for case in cases[: len(TOPICS)]]
    calls = [calls[i % len(TOPICS)] for i in range(size.executions)]
    ideal = sum(calls) / CAPACITY
    runs = _runs(args, size, cases)
    figures = [run_figures(r, calls, ideal, CAPACITY) for r in runs]
    by_name = {f["run"]: f for f in figures}
    return Result(
        name=NAME,
        title=TITLE,
        figures={
            "capacity": CAPACITY,
            "latency_s": LATENCY,
            "executions": size.executions,
            "calls_per_execution": sum(calls) / len(calls),
            "ideal_makespan_s": ideal,
            "runs": figures,
        },
        columns=[
            "run",
            "succeeded",
            "makespan s",
            "÷ ideal",
            "goodput",
            "converged goodput",
            "429s",
            "converged 429s",
            "calls paid twice",
            "flow store trips/call",
        ],
        rows=[row(f, size.executions) for f in figures],
        targets=_targets(by_name, size),
        notes=[NOTES.format(faults=FAULTS), trips_note(by_name["fleet"])],
        method=METHOD.format(
            capacity=CAPACITY,
            latency=LATENCY,
            k=size.executions,
            findings=MIN_FINDINGS,
            m=sum(calls) / len(calls),
            topics=len(TOPICS),
            faults=FAULTS,
            ideal=ideal,
            w=size.workers,
            c=size.concurrency,
            attempts=10,
            agents=size.workers * size.concurrency,
            kind=KIND_AGENTS,
        ),
    )
