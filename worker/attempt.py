"""One attempt of one execution: run the agent, decide, and write the outcome fenced.

The worker loop owns claiming, heartbeats and shutdown; this module owns what happens between a
claim and the write that ends it. Every write goes through the claim's fencing token: when it
matches nothing, another worker owns the execution and this attempt stops without a trace.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from common.agents.base import AgentContext, AgentSpec
from common.agents.registry import AgentRegistry
from common.clock import Clock
from common.domain import Attempt, Claim, ErrorInfo, Execution, Outcome, State, Usage
from common.errors import (
    AgentfleetError,
    AttemptTimeout,
    InvalidAgentInput,
    InvalidAgentOutput,
    LeaseExpired,
    LeaseLost,
    NonRetryableError,
    classify,
)
from common.metrics import Metrics
from common.retry import Defer, GiveUp, RetryPolicy, decide
from common.store.base import Store
from worker.janitor import deleted_when_final

log = logging.getLogger("agentfleet.worker")


class StopReason(Enum):
    """Why the worker interrupted a running attempt."""

    CANCEL = "cancel"  # the user asked; finish as CANCELLED
    LOST = "lost"  # the lease is gone; write nothing
    RELEASE = "release"  # graceful shutdown ran out of grace; give it back


@dataclass
class RunningAttempt:
    """Book-keeping of an attempt in flight, shared by the attempt task and the heartbeat."""

    execution: Execution
    claim: Claim
    started_at: datetime
    task: asyncio.Task[None] | None = None
    stop_reason: StopReason | None = None
    finishing: bool = False  # the agent is done; its final write must not be interrupted
    context: AgentContext | None = field(default=None, repr=False)

    def interrupt(self, reason: StopReason) -> None:
        if self.finishing or self.task is None or self.task.done():
            return
        if self.stop_reason is None:
            self.stop_reason = reason
        self.task.cancel()


@dataclass(frozen=True)
class AttemptRunner:
    """Everything an attempt needs, shared by all attempts of one worker."""

    store: Store
    registry: AgentRegistry
    policy: RetryPolicy
    clock: Clock
    rng: random.Random
    worker_id: str
    attempt_timeout: float
    resources: dict[str, Any]
    on_terminal: Callable[[str], Awaitable[None]] | None = None
    metrics: Metrics = field(default_factory=Metrics)

    async def run(self, running: RunningAttempt) -> None:
        """Drive one claimed execution to its next state; never raises (but CancelledError)."""
        execution = running.execution
        try:
            await self._run(running)
        except LeaseLost:
            log.warning("lease lost; another worker owns %s now", execution.id)
        except asyncio.CancelledError:
            if running.stop_reason is None:
                raise
            await self._on_interrupted(running)

    async def _run(self, running: RunningAttempt) -> None:
        execution = running.execution
        spec = self.registry.get(execution.agent)
        if execution.failed_attempts >= execution.max_attempts:
            # A holder lost its lease on the last allowed attempt (crash loop): stop here.
            last = execution.attempts[-1].error if execution.attempts else None
            error = last or ErrorInfo(type=LeaseExpired.__name__, message="lease expired")
            await self._end(running, Outcome.FAILED, error=error)
            return
        if spec is None:
            error = _info(NonRetryableError(f"unknown agent {execution.agent}"))
            await self._end(running, Outcome.FAILED, error=error)
            return
        ctx = self._context(running)
        try:
            result = await self._call_agent(spec, execution, ctx)
        except (LeaseLost, asyncio.CancelledError):
            raise
        except Exception as exc:  # every failure is classified in one place
            await self._failed(running, classify(exc))
            return
        await self._end(running, Outcome.SUCCEEDED, result=result)

    async def _call_agent(
        self, spec: AgentSpec, execution: Execution, ctx: AgentContext
    ) -> dict[str, Any]:
        data = _validated_input(spec, execution.input)
        scope = asyncio.timeout(self.attempt_timeout)
        try:
            async with scope:
                output = await spec.run(data, ctx)
        except TimeoutError:
            if scope.expired():
                raise AttemptTimeout(f"attempt ran past {self.attempt_timeout}s") from None
            raise
        return _validated_output(spec, output)

    def _context(self, running: RunningAttempt) -> AgentContext:
        claim = running.claim

        async def progress(kind: str, summary: str, tool: str | None = None) -> None:
            # The usage so far rides along, so a takeover after a crash counts what was paid.
            event = await self.store.append_event(
                claim, kind, summary, self.clock.now(), tool, usage=ctx.usage
            )
            if event is None:
                raise LeaseLost(claim.execution_id)

        ctx = AgentContext(
            execution_id=claim.execution_id,
            tenant=running.execution.tenant,
            attempt=claim.executions,
            failed_attempts=running.execution.failed_attempts,
            clock=self.clock,
            progress=progress,
            resources=self.resources,
            history=tuple(running.execution.attempts),
        )
        running.context = ctx
        return ctx

    async def _failed(self, running: RunningAttempt, error: AgentfleetError) -> None:
        """Park for another attempt, defer, or fail for good: the retry policy decides."""
        execution = running.execution
        decision = decide(
            self.policy,
            error,
            failures=execution.failed_attempts + 1,
            max_attempts=execution.max_attempts,
            now=self.clock.now(),
            rng=self.rng,
        )
        if isinstance(decision, GiveUp):
            await self._end(running, Outcome.FAILED, error=_info(error), reason=decision.reason)
        elif isinstance(decision, Defer):
            await self._end(
                running,
                Outcome.DEFERRED,
                error=_info(error),
                available_at=decision.available_at,
                reason=f"provider flow control: back in {decision.delay:.2f}s",
            )
        else:
            await self._end(
                running,
                Outcome.RETRYING,
                error=_info(error),
                available_at=decision.available_at,
                reason=f"retry in {decision.delay:.2f}s",
            )

    async def _on_interrupted(self, running: RunningAttempt) -> None:
        """The heartbeat or shutdown cancelled the attempt; write what the reason calls for."""
        if running.stop_reason is StopReason.CANCEL:
            error = ErrorInfo(type="Cancelled", message="cancelled on request")
            await self._end(running, Outcome.CANCELLED, error=error, fenced_out_ok=True)
        elif running.stop_reason is StopReason.RELEASE:
            await self._end(running, Outcome.RELEASED, fenced_out_ok=True)
        # StopReason.LOST: someone else owns it; write nothing.

    async def _end(
        self,
        running: RunningAttempt,
        outcome: Outcome,
        *,
        error: ErrorInfo | None = None,
        result: dict[str, Any] | None = None,
        available_at: datetime | None = None,
        reason: str = "",
        fenced_out_ok: bool = False,
    ) -> None:
        """Write the end of this attempt, fenced; the one place an attempt's outcome is stored.

        Raises `LeaseLost` when the write matched nothing (unless the caller expects that).
        """
        running.finishing = True
        claim, now = running.claim, self.clock.now()
        attempt = self._attempt(running, outcome, error)
        if outcome is Outcome.RETRYING:
            assert available_at is not None
            accepted = await self.store.park_for_retry(claim, now, available_at, attempt)
        elif outcome is Outcome.RELEASED:
            accepted = await self.store.release(claim, now, attempt)
        elif outcome is Outcome.DEFERRED:
            accepted = await self.store.release(claim, now, attempt, available_at=available_at)
        else:
            state = _FINAL_STATE[outcome]
            accepted = await self.store.finish(
                claim, now, state, attempt, result=result, error=error
            )
        self._log_end(running, outcome, error, reason, accepted)
        if accepted:
            self._count(running.execution.agent, outcome, error)
        if accepted and self._deletes_checkpoints(running.execution.agent, outcome):
            await self._terminal(claim.execution_id)
        if not accepted and not fenced_out_ok:
            raise LeaseLost(claim.execution_id)

    def _count(self, agent: str, outcome: Outcome, error: ErrorInfo | None) -> None:
        self.metrics.attempts.labels(agent, outcome.value).inc()
        if outcome is Outcome.RETRYING and error is not None:
            self.metrics.retries.labels(error.type).inc()
        if outcome is Outcome.DEFERRED and error is not None:
            self.metrics.provider_cooldowns.labels(error.type).inc()
        if outcome in _FINAL_STATE:
            self.metrics.finished.labels(agent, _FINAL_STATE[outcome].value).inc()

    def _log_end(
        self,
        running: RunningAttempt,
        outcome: Outcome,
        error: ErrorInfo | None,
        reason: str,
        accepted: bool,
    ) -> None:
        execution = running.execution
        log.info(
            "execution %s attempt %d %s%s%s",
            execution.id,
            running.claim.executions,
            outcome.value,
            f": {error.type}" if error else "",
            f" ({reason})" if reason else "",
            extra={
                "execution_id": execution.id,
                "attempt": running.claim.executions,
                "worker_id": self.worker_id,
                "tenant": execution.tenant,
                "agent": execution.agent,
                "outcome": outcome.value,
                "accepted": accepted,
            },
        )

    def _deletes_checkpoints(self, agent: str, outcome: Outcome) -> bool:
        """A durable agent's checkpoints go once it SUCCEEDED or was CANCELLED; a FAILED one
        keeps them for a retry until the janitor's retention ends (`worker.janitor`)."""
        final, spec = _FINAL_STATE.get(outcome), self.registry.get(agent)
        return final is not None and deleted_when_final(final) and spec is not None and spec.durable

    async def _terminal(self, execution_id: str) -> None:
        if self.on_terminal is not None:
            try:
                await self.on_terminal(execution_id)
            except Exception:  # clean-up is best effort; the execution is already final
                log.exception("terminal clean-up of %s failed", execution_id)

    def _usage(self, running: RunningAttempt) -> Usage:
        return running.context.usage if running.context else Usage()

    def _attempt(
        self, running: RunningAttempt, outcome: Outcome, error: ErrorInfo | None
    ) -> Attempt:
        return Attempt(
            number=running.claim.executions,
            worker_id=self.worker_id,
            started_at=running.started_at,
            ended_at=self.clock.now(),
            outcome=outcome,
            error=error,
            usage=self._usage(running),
        )


_FINAL_STATE = {
    Outcome.SUCCEEDED: State.SUCCEEDED,
    Outcome.FAILED: State.FAILED,
    Outcome.CANCELLED: State.CANCELLED,
}


def _info(error: AgentfleetError) -> ErrorInfo:
    return ErrorInfo(type=error.type_name, message=str(error)[:2000], retryable=error.retryable)


def _validated_input(spec: AgentSpec, data: dict[str, Any]) -> BaseModel:
    try:
        return spec.input_model.model_validate(data)
    except ValidationError as exc:
        raise InvalidAgentInput(str(exc)) from None


def _validated_output(spec: AgentSpec, output: object) -> dict[str, Any]:
    try:
        model = spec.output_model.model_validate(
            output.model_dump() if isinstance(output, BaseModel) else output
        )
    except ValidationError as exc:
        raise InvalidAgentOutput(str(exc)) from None
    return model.model_dump(mode="json")
