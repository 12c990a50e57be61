"""Built-in agents for smoke tests, demos and benchmarks."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common.agents.base import AgentContext, AgentSpec
from common.agents.research.spec import REDDIT_RESEARCH
from common.domain import ATTEMPTS_KEPT, Outcome
from common.errors import (
    AgentfleetError,
    AuthenticationFailed,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)


class EchoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(max_length=100_000)
    delay_s: float = Field(0.0, ge=0, le=60, description="simulated work, e.g. LLM latency")


class EchoOutput(BaseModel):
    message: str


async def run_echo(data: EchoInput, ctx: AgentContext) -> EchoOutput:
    if data.delay_s:
        await asyncio.sleep(data.delay_s)
    return EchoOutput(message=data.message)


class FlakyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_times: int = Field(ge=0, le=ATTEMPTS_KEPT - 1)
    error: Literal["rate_limit", "server", "timeout", "auth"] = "rate_limit"
    retry_after_s: float = Field(0.0, ge=0, le=3600)


class FlakyOutput(BaseModel):
    succeeded_on_attempt: int


def _flaky_error(kind: str, retry_after: float) -> AgentfleetError:
    if kind == "rate_limit":
        return RateLimited("flaky: simulated 429", retry_after=retry_after or None)
    if kind == "server":
        return ProviderUnavailable("flaky: simulated 503", retry_after=retry_after or None)
    if kind == "timeout":
        return ProviderTimeout("flaky: simulated timeout")
    return AuthenticationFailed("flaky: simulated 401 (invalid API key)")


async def run_flaky(data: FlakyInput, ctx: AgentContext) -> FlakyOutput:
    """Fails its first `fail_times` attempts with the chosen error class, then succeeds.

    Counts its own earlier failures in the history, so a lost lease or a graceful release
    (not failures of this agent) and a user's retry do not change what it does next.
    """
    own_failures = sum(a.outcome in (Outcome.RETRYING, Outcome.FAILED) for a in ctx.history)
    if own_failures < data.fail_times:
        raise _flaky_error(data.error, data.retry_after_s)
    return FlakyOutput(succeeded_on_attempt=ctx.attempt)


ECHO = AgentSpec(
    name="echo",
    description="Returns its input message. For smoke tests and benchmarks.",
    input_model=EchoInput,
    output_model=EchoOutput,
    run=run_echo,
)

FLAKY = AgentSpec(
    name="flaky",
    description=(
        "Fails its first `fail_times` attempts with the chosen error class "
        "(rate_limit, server, timeout: retryable; auth: not), then succeeds."
    ),
    input_model=FlakyInput,
    output_model=FlakyOutput,
    run=run_flaky,
)

# The research agent's spec imports only its pydantic models; LangChain loads on its first run.
BUILTIN_AGENTS = [ECHO, FLAKY, REDDIT_RESEARCH]
