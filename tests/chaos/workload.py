"""What the chaos suite runs and how it judges the outcome, shared by both of its forms.

Every execution researches one of a few base topics; a distinct `behavior` line makes each
conversation unique (the fake provider's `repeated_ok` then counts repeats of one execution's
calls only) without changing what the offline policy does, so every execution must end with
exactly the findings, LLM calls and tool calls of a clean offline run of its base topic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from common.agents.base import AgentContext
from common.agents.research import REDDIT_RESEARCH, ResearchInput
from common.agents.research.scripted import READS_PER_TURN
from common.clock import ManualClock
from common.domain import Execution, Outcome, State
from common.llm import ScriptedChatModel
from common.llm.faults import Fault

BASE_TOPICS = [
    ("How do teams handle LLM API rate limits, retries and costs?", ["startups", "Python"]),
    ("Self-hosting a local LLM for coding: hardware and quantization", ["LocalLLaMA"]),
    ("Kubernetes cost monitoring and autoscaling mistakes", ["devops", "dataengineering"]),
    ("Data pipeline orchestration with Airflow or Dagster", ["dataengineering"]),
]

#: "30% of calls fail": 429s (Retry-After 1 s: deferred), 5xx and replies slower than the client
#: waits.
FAIL_RATE = 0.3
FAIL_MIX = "429=0.4,503=0.3,500=0.1,timeout=0.2"
MIX: dict[Fault, float] = {
    Fault.rate_limit(retry_after=1.0): 0.4,
    Fault.unavailable(): 0.3,
    Fault.server_error(): 0.1,
    Fault.slow(seconds=5): 0.2,
}
#: Enough attempts that 30% failures and the crashes on top do not exhaust them.
MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class ChaosSize:
    executions: int
    workers: int = 8
    crashes: int = 6


def case(i: int) -> ResearchInput:
    topic, subreddits = BASE_TOPICS[i % len(BASE_TOPICS)]
    return ResearchInput(topic=topic, subreddits=subreddits, behavior=f"chaos case {i}")


@dataclass(frozen=True)
class Reference:
    """A clean offline run of a base topic: what every execution of it must add up to."""

    llm_calls: int
    tool_calls: int
    findings: list[dict[str, Any]]


async def references() -> list[Reference]:
    refs = []
    for i in range(len(BASE_TOPICS)):
        ctx = AgentContext(f"reference-{i}", "t", 1, 0, ManualClock())
        ctx.resources = {
            "chat_model": lambda policy: ScriptedChatModel(policy=policy),
            "checkpointer": InMemorySaver(),
        }
        output = await REDDIT_RESEARCH.run(case(i), ctx)
        findings = [f.model_dump(mode="json") for f in output.findings]
        refs.append(Reference(ctx.usage.llm_calls_ok, ctx.usage.tool_calls, findings))
    return refs


@dataclass
class Tally:
    """What happened, counted from the documents, the ledger and the provider."""

    submitted: int = 0
    states: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    finished_twice: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    provider: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self, form: str) -> str:
        return (
            f"\nchaos {form}: {self.submitted} executions, {self.crashes} crashes, "
            f"{self.seconds:.1f}s; states {dict(self.states)}; attempts {dict(self.outcomes)}; "
            f"finished twice {self.finished_twice}; final errors {dict(self.errors)}; "
            f"provider requests "
            f"{self.provider.get('requests')} ok {self.provider.get('ok')} repeated_ok "
            f"{self.provider.get('repeated_ok')} by status {self.provider.get('by_status')}"
        )


def judge(
    executions: list[Execution],
    submitted: list[str],
    finishes: Counter[str],
    refs: list[Reference],
    provider: dict[str, Any],
) -> Tally:
    """Assert the chaos suite's promises; return the counts to print."""
    by_id = {e.id: e for e in executions}
    tally = Tally(submitted=len(submitted), provider=provider)
    assert set(submitted) <= set(by_id), "an accepted execution was lost"
    for i, execution_id in enumerate(submitted):
        execution = by_id[execution_id]
        tally.states[execution.state.value] += 1
        tally.outcomes.update(a.outcome.value for a in execution.attempts)
        if execution.error is not None:
            tally.errors[f"{execution.error.type}: {execution.error.message[:80]}"] += 1
        assert execution.state.terminal, f"{execution_id} ended {execution.state}"
        assert finishes[execution_id] <= 1, f"{execution_id} finished {finishes[execution_id]}x"
        tally.finished_twice += finishes[execution_id] > 1
        _judge_usage(execution, refs[i % len(refs)])
    lost = tally.outcomes[Outcome.LOST.value]
    # A call the provider answered just before its worker died, and that never reached the
    # checkpoint, is made again by the next attempt: at most one per attempt lost to a crash
    # (an attempt makes its LLM calls one at a time). Every other answer is paid for once.
    assert provider["repeated_ok"] <= lost, f"{provider['repeated_ok']} repeats, {lost} lost"
    return tally


def _judge_usage(execution: Execution, ref: Reference) -> None:
    """Recorded attempts repeat no call, but around a crash: the clean run's calls exactly when
    no attempt was lost; otherwise at most one step more per lost attempt (the step a worker
    had reported, with its usage, when it died before that step's checkpoint was written)."""
    lost = sum(a.outcome is Outcome.LOST for a in execution.attempts)
    lost += execution.executions - len(execution.attempts)  # records trimmed from the history
    usage = execution.usage
    if execution.state is State.SUCCEEDED:
        assert execution.result is not None
        assert execution.result["findings"] == ref.findings, execution.id
    if lost == 0 and execution.state is State.SUCCEEDED:
        assert (usage.llm_calls_ok, usage.tool_calls) == (ref.llm_calls, ref.tool_calls), (
            execution.id,
            usage,
        )
    else:
        assert usage.llm_calls_ok <= ref.llm_calls + lost, (execution.id, usage)
        assert usage.tool_calls <= ref.tool_calls + lost * READS_PER_TURN, (execution.id, usage)
