"""The chat model agents get when flow control is on: the provider's client, behind the fleet's
flow control.

Every call acquires a slot first (waiting for it in-process when it is near) and reports its
outcome afterwards. A 429 is retried at once when the next slot is near (a blip); otherwise, and
whenever the provider is cooling down or its breaker is open, the call is not made and
`ProviderCoolingDown` tells the worker to defer the execution: the checkpoint of the steps done so
far makes the next attempt start at this very call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field

from common.errors import (
    AgentfleetError,
    ConnectionFailed,
    NonRetryableError,
    ProviderCoolingDown,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    classify,
)
from common.flow.controller import FlowController
from common.flow.state import CallOutcome, Report

#: 429s in a row answered by waiting for the next slot before the call fails as an attempt.
QUICK_RETRIES = 2


def outcome_of(error: AgentfleetError) -> CallOutcome | None:
    """How flow control counts a failed call; None: not the provider's doing (our bug)."""
    if isinstance(error, RateLimited):
        return CallOutcome.RATE_LIMITED
    if isinstance(error, ProviderUnavailable | ProviderTimeout | ConnectionFailed):
        return CallOutcome.FAILED
    if isinstance(error, NonRetryableError) and error.type_name != "AgentCrashed":
        return CallOutcome.REJECTED
    return None


def estimate_tokens(messages: Sequence[BaseMessage]) -> int:
    """About four characters per token: enough to pace tokens per minute before the call."""
    return sum(len(str(m.content)) for m in messages) // 4 + 4 * len(messages)


def completion_tokens(result: ChatResult) -> int:
    total = 0
    for generation in result.generations:
        usage = getattr(generation.message, "usage_metadata", None) or {}
        total += int(usage.get("output_tokens", 0))
    return total


class FlowControlledChatModel(BaseChatModel):
    """`inner`, with every call going through `flow` under the provider key `key`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    flow: FlowController = Field(exclude=True)
    key: str
    quick_retries: int = QUICK_RETRIES

    @property
    def _llm_type(self) -> str:
        return f"flow-controlled-{self.inner._llm_type}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return dict(self.inner._identifying_params)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """The provider client formats the tools; the calls still go through this model."""
        bound = self.inner.bind_tools(tools, tool_choice=tool_choice, **kwargs)
        return self.bind(**getattr(bound, "kwargs", {}))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("flow-controlled models are async: use ainvoke/agenerate")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tokens = estimate_tokens(messages)
        previous: Report | None = None
        for tries in range(1, self.quick_retries + 2):
            try:
                permit = await self.flow.acquire(self.key, tokens, report=previous)
            except ProviderCoolingDown as exc:
                raise _with_failed_calls(exc, tries - 1) from None
            try:
                result = await self.inner._agenerate(
                    messages, stop=stop, run_manager=run_manager, **kwargs
                )
            except Exception as exc:
                error = classify(exc)
                outcome = outcome_of(error)
                if outcome is CallOutcome.RATE_LIMITED and tries <= self.quick_retries:
                    self.flow.counters.quick_retries += 1
                    previous = permit.report(outcome, error.retry_after)
                    continue  # the next acquire writes this 429 and says whether to wait
                if outcome is not None:
                    await self.flow.report(permit, outcome, retry_after=error.retry_after)
                _with_failed_calls(exc, tries)
                raise
            await self.flow.report(permit, CallOutcome.OK, tokens=completion_tokens(result))
            return _with_failed_calls_of(result, tries - 1)
        raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover


#: Where usage accounting (`common.llm.usage`) finds how many provider calls one model call
#: cost that failed: on the error it raised, or in the generation info of its result.
FAILED_CALLS = "agentfleet_failed_calls"


def _with_failed_calls(exc: BaseException, failed: int) -> BaseException:
    setattr(exc, FAILED_CALLS, failed)
    return exc


def _with_failed_calls_of(result: ChatResult, failed: int) -> ChatResult:
    if failed and result.generations:
        first = result.generations[0]
        first.generation_info = {**(first.generation_info or {}), FAILED_CALLS: failed}
    return result
