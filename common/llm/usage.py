"""Usage accounting: LLM calls, tokens, tool calls and estimated cost, counted into an attempt.

`UsageCallback(ctx)` is a LangChain callback handler; pass it in the run config
(`{"callbacks": [UsageCallback(ctx, prices)]}`) and every chat-model call and tool call of the
graph adds to `ctx.usage`. Steps restored from a checkpoint are not re-run, so they are not
counted again: the sum over attempts is what the provider actually billed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.outputs import LLMResult

from common.agents.base import AgentContext
from common.domain import Usage
from common.errors import ConfigurationError, ProviderCoolingDown, RateLimited, classify
from common.flow.chat import FAILED_CALLS

#: USD per 1M tokens: (prompt, completion). List prices when written; override any of them, or
#: add models, with AGENTFLEET_LLM_PRICES='{"model": [prompt, completion]}'.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "deepseek-chat": (0.28, 0.42),
    "deepseek-reasoner": (0.28, 0.42),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
}

Prices = Mapping[str, tuple[float, float]]


def load_prices(raw: str | None) -> dict[str, tuple[float, float]]:
    """The built-in price table with the JSON overrides of `settings.llm_prices` merged over it."""
    prices = dict(DEFAULT_PRICES)
    if not raw:
        return prices
    try:
        overrides = json.loads(raw)
        if not isinstance(overrides, dict):
            raise TypeError("not an object")
        for model, pair in overrides.items():
            prompt, completion = (float(x) for x in pair)
            if prompt < 0 or completion < 0:
                raise ValueError("negative price")
            prices[str(model)] = (prompt, completion)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            'AGENTFLEET_LLM_PRICES must be JSON like {"model": [usd_per_1M_prompt, '
            f"usd_per_1M_completion]}}: {exc}"
        ) from None
    return prices


def price_of(model: str, prices: Prices) -> tuple[float, float] | None:
    """Exact name first, then the longest known prefix (providers append dates and versions:
    "gpt-4o-mini-2024-07-18"), also after a "vendor/" prefix."""
    for name in (model, model.rsplit("/", 1)[-1]):
        if name in prices:
            return prices[name]
        known = [key for key in prices if name.startswith(key)]
        if known:
            return prices[max(known, key=len)]
    return None


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int, prices: Prices) -> float:
    """USD for one call; 0 for a model not in the table (offline, local, unknown)."""
    price = price_of(model, prices)
    if price is None:
        return 0.0
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def _tokens_of(response: LLMResult) -> tuple[int, int, str | None]:
    """(prompt, completion, model name) from a chat result, whichever way the provider said it."""
    prompt = completion = 0
    model = None
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            usage = getattr(message, "usage_metadata", None)
            if usage:
                prompt += usage.get("input_tokens", 0)
                completion += usage.get("output_tokens", 0)
            metadata = getattr(message, "response_metadata", None) or {}
            model = model or metadata.get("model_name") or metadata.get("model")
    output = response.llm_output or {}
    if not (prompt or completion):
        token_usage = output.get("token_usage") or {}
        prompt = token_usage.get("prompt_tokens", 0) or 0
        completion = token_usage.get("completion_tokens", 0) or 0
    return prompt, completion, model or output.get("model_name")


def _failed_before(response: LLMResult) -> int:
    return sum(
        int((generation.generation_info or {}).get(FAILED_CALLS, 0))
        for generations in response.generations
        for generation in generations
    )


class UsageCallback(AsyncCallbackHandler):
    """Adds every LLM call (ok or failed), its tokens and cost, and every tool call to
    `ctx.usage` as it happens, so a failing attempt still reports what it spent."""

    # Count in the caller's task, in order, rather than in a background gather.
    run_inline = True

    def __init__(self, ctx: AgentContext, prices: Prices | None = None) -> None:
        self.ctx = ctx
        self.prices = DEFAULT_PRICES if prices is None else prices
        self._requested_model: dict[UUID, str] = {}
        self._started: dict[UUID, float] = {}

    def _observe(self, run_id: UUID, outcome: str) -> None:
        """LLM latency into the process's metrics, when the worker provides them."""
        started = self._started.pop(run_id, None)
        metrics = self.ctx.resources.get("metrics")
        if started is not None and metrics is not None:
            metrics.llm_latency.labels(outcome).observe(time.monotonic() - started)

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self._started[run_id] = time.monotonic()
        params = kwargs.get("invocation_params") or {}
        model = params.get("model_name") or params.get("model")
        if model:
            self._requested_model[run_id] = str(model)

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        # A flow-controlled call may have cost failed provider calls first (a 429 retried at
        # once): they are counted with it, so failed calls here match the provider's count.
        prompt, completion, model = _tokens_of(response)
        model = model or self._requested_model.get(run_id, "")
        self._requested_model.pop(run_id, None)
        self._observe(run_id, "ok")
        self.ctx.add_usage(
            Usage(
                llm_calls_ok=1,
                llm_calls_failed=_failed_before(response),
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=estimate_cost(model, prompt, completion, self.prices),
            )
        )

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        model = self._requested_model.pop(run_id, "")
        kind = classify(error)
        self._observe(run_id, kind.type_name)
        metrics = self.ctx.resources.get("metrics")
        if metrics is not None and isinstance(kind, RateLimited):
            metrics.provider_rate_limited.labels(model).inc()
        failed = getattr(error, FAILED_CALLS, None)
        if failed is None:  # a deferral by flow control never called the provider
            failed = 0 if isinstance(error, ProviderCoolingDown) else 1
        if failed:
            self.ctx.add_usage(Usage(llm_calls_failed=failed))

    async def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.ctx.add_usage(Usage(tool_calls=1))
