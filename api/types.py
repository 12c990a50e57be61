"""GraphQL object types, each built from a `common.domain` value by its `from_domain`.

To expose a new execution field, add it to `Execution` and fill it in `Execution.from_domain`;
fields that need the store or are costly to build get a resolver method, like `events` and
`report` (the research agent's types are in `api.research`).
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.flow import ProviderFlow, provider_flows
from api.research import ResearchReport, research_report
from common import domain
from common.agents.base import AgentSpec


@strawberry.enum(description="Where an execution is in its life cycle.")
class ExecutionState(enum.Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @classmethod
    def from_domain(cls, state: domain.State) -> ExecutionState:
        return cls[state.name]

    def to_domain(self) -> domain.State:
        return domain.State[self.name]


@strawberry.enum(description="How one attempt ended.")
class AttemptOutcome(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETRYING = "RETRYING"
    RELEASED = "RELEASED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"
    DEFERRED = "DEFERRED"  # provider flow control held the call back; not a failure


@strawberry.type(description="An error with its class name and whether another attempt may help.")
class ErrorInfo:
    type: str
    message: str
    retryable: bool

    @classmethod
    def from_domain(cls, error: domain.ErrorInfo | None) -> ErrorInfo | None:
        if error is None:
            return None
        return cls(type=error.type, message=error.message, retryable=error.retryable)


@strawberry.type(description="LLM and tool usage, summed over attempts.")
class Usage:
    llm_calls_ok: int
    llm_calls_failed: int
    prompt_tokens: int
    completion_tokens: int
    tool_calls: int
    cost_usd: float

    @classmethod
    def from_domain(cls, usage: domain.Usage) -> Usage:
        return cls(**usage.model_dump())


@strawberry.type(description="One claim of an execution by a worker, and how it ended.")
class Attempt:
    number: int
    worker_id: str
    started_at: datetime
    ended_at: datetime
    outcome: AttemptOutcome
    error: ErrorInfo | None
    usage: Usage

    @classmethod
    def from_domain(cls, attempt: domain.Attempt) -> Attempt:
        return cls(
            number=attempt.number,
            worker_id=attempt.worker_id,
            started_at=attempt.started_at,
            ended_at=attempt.ended_at,
            outcome=AttemptOutcome[attempt.outcome.name],
            error=ErrorInfo.from_domain(attempt.error),
            usage=Usage.from_domain(attempt.usage),
        )


@strawberry.type(description="One step an agent reported while running.")
class ProgressEvent:
    seq: int
    attempt: int
    kind: str
    tool: str | None
    summary: str
    at: datetime

    @classmethod
    def from_domain(cls, event: domain.ProgressEvent) -> ProgressEvent:
        return cls(
            seq=event.seq,
            attempt=event.attempt,
            kind=event.kind,
            tool=event.tool,
            summary=event.summary,
            at=event.at,
        )


@strawberry.type(description="One run of an agent on one input, driven to a terminal state.")
class Execution:
    id: strawberry.ID
    agent: str
    input: JSON
    state: ExecutionState
    attempt: int = strawberry.field(description="How many times it has been claimed.")
    failed_attempts: int = strawberry.field(description="Attempts spent on failures.")
    max_attempts: int
    priority: int
    idempotency_key: str | None
    available_at: datetime = strawberry.field(description="Not claimable before this instant.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    attempts: list[Attempt] = strawberry.field(
        description="Attempt history, oldest first (only the newest are kept)."
    )
    result: JSON | None
    error: ErrorInfo | None
    usage: Usage

    @strawberry.field(description="Progress events with a sequence number above `after`.")
    async def events(self, info: Info, after: int | None = None) -> list[ProgressEvent]:
        tenant = await info.context.tenant()
        events = await info.context.deps.store.events(tenant, str(self.id), after_seq=after or 0)
        return [ProgressEvent.from_domain(e) for e in events]

    @strawberry.field(
        description="The typed findings of a SUCCEEDED reddit_research execution; null otherwise."
    )
    def report(self) -> ResearchReport | None:
        # Parsed on request only: list queries that do not ask for it pay nothing.
        return research_report(str(self.id), self.agent, self.state.to_domain(), self.result)

    @classmethod
    def from_domain(cls, doc: domain.Execution) -> Execution:
        return cls(
            id=strawberry.ID(doc.id),
            agent=doc.agent,
            input=JSON(doc.input),
            state=ExecutionState.from_domain(doc.state),
            attempt=doc.executions,
            failed_attempts=doc.failed_attempts,
            max_attempts=doc.max_attempts,
            priority=doc.priority,
            idempotency_key=doc.idempotency_key,
            available_at=doc.available_at,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            started_at=doc.started_at,
            finished_at=doc.finished_at,
            cancel_requested=doc.cancel_requested,
            attempts=[Attempt.from_domain(a) for a in doc.attempts],
            result=JSON(doc.result) if doc.result is not None else None,
            error=ErrorInfo.from_domain(doc.error),
            usage=Usage.from_domain(doc.usage),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ExecutionEdge:
    cursor: str
    node: Execution


@strawberry.type(description="A page of executions, newest first (Relay cursor connection).")
class ExecutionConnection:
    edges: list[ExecutionEdge]
    page_info: PageInfo


@strawberry.type(description="A registered agent and the JSON schema its input must match.")
class Agent:
    name: str
    description: str
    input_schema: JSON
    output_schema: JSON

    @classmethod
    def from_spec(cls, spec: AgentSpec) -> Agent:
        return cls(
            name=spec.name,
            description=spec.description,
            input_schema=JSON(spec.input_schema()),
            output_schema=JSON(spec.output_model.model_json_schema()),
        )


@strawberry.type(description="The caller's executions counted per state.")
class QueueStats:
    pending: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    total: int
    oldest_due_pending_age_seconds: float | None = strawberry.field(
        description="How long the oldest due PENDING execution has waited; null if none."
    )
    providers: list[ProviderFlow] = strawberry.field(
        resolver=provider_flows,
        description="Flow control of every LLM provider the fleet calls (shared by all tenants).",
    )

    @classmethod
    def from_domain(cls, stats: domain.QueueStats, now: datetime) -> QueueStats:
        count = {state: stats.counts.get(state, 0) for state in domain.State}
        oldest = stats.oldest_due_pending_at
        return cls(
            pending=count[domain.State.PENDING],
            running=count[domain.State.RUNNING],
            succeeded=count[domain.State.SUCCEEDED],
            failed=count[domain.State.FAILED],
            cancelled=count[domain.State.CANCELLED],
            total=sum(count.values()),
            oldest_due_pending_age_seconds=(
                max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
            ),
        )
