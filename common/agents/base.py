"""What an agent is to the fleet: a name, an input model, an output model and a run function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from common.clock import Clock
from common.domain import Attempt, Usage


class ProgressSink(Protocol):
    async def __call__(self, kind: str, summary: str, tool: str | None = None) -> None: ...


async def _discard_progress(kind: str, summary: str, tool: str | None = None) -> None:
    return None


@dataclass
class AgentContext:
    """What a running attempt may know and do besides computing its output.

    `usage` is accumulated by the agent (LLM calls, tokens, tool calls); the worker records it on
    the attempt. `resources` carries shared, process-wide objects (checkpointer, LLM factory,
    corpus) that agents look up by name.
    """

    execution_id: str
    tenant: str
    attempt: int  # 1-based claim number (`executions`)
    failed_attempts: int  # failed attempts before this one, in the current budget
    clock: Clock
    progress: ProgressSink = _discard_progress
    usage: Usage = field(default_factory=Usage)
    resources: dict[str, Any] = field(default_factory=dict)
    history: tuple[Attempt, ...] = ()  # earlier attempts of this execution, oldest first

    def add_usage(self, delta: Usage) -> None:
        self.usage = self.usage + delta


RunFunction = Callable[[Any, AgentContext], Awaitable[BaseModel]]


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    run: RunFunction
    #: Checkpoints its steps (LangGraph); the worker deletes them once the execution SUCCEEDED or
    #: was CANCELLED, the janitor those of a FAILED one after the retention (`worker.janitor`).
    durable: bool = False

    def input_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()
