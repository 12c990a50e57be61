"""An offline, deterministic tool-calling chat model driven by a policy.

A *policy* is a pure function from the conversation so far to the next assistant message
(possibly with tool calls). `ScriptedChatModel` wraps a policy in LangChain's chat-model
interface so `langchain.agents.create_agent` runs it like a real provider; the local fake
provider (`common.llm.fake_provider`) serves the same policies over HTTP.

Token counts are estimates (about four characters per token), deterministic so that usage
accounting can be asserted exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

#: The next assistant message for a conversation. Must be deterministic.
Policy = Callable[[Sequence[BaseMessage]], AIMessage]

SCRIPTED_MODEL_NAME = "scripted"


# --- token estimates --------------------------------------------------------------------------


def estimate_text_tokens(text: str) -> int:
    """About four characters per token; never zero for non-empty text."""
    return math.ceil(len(text) / 4)


def _message_text(message: BaseMessage) -> str:
    content = message.content
    text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    for call in getattr(message, "tool_calls", None) or ():
        text += call["name"] + json.dumps(call["args"], sort_keys=True)
    return text


def estimate_prompt_tokens(messages: Sequence[BaseMessage]) -> int:
    """Prompt tokens of a conversation: its text plus a small per-message overhead."""
    return sum(estimate_text_tokens(_message_text(m)) + 4 for m in messages)


def estimate_completion_tokens(message: BaseMessage) -> int:
    return max(1, estimate_text_tokens(_message_text(message)))


# --- fault injection --------------------------------------------------------------------------


@dataclass
class CallCounter:
    """Numbers model calls 1, 2, 3, … A test shares one across model instances, so a fault
    planned for "the 3rd call" means the 3rd call of the whole execution, over all attempts."""

    calls: int = 0

    def next(self) -> int:
        self.calls += 1
        return self.calls


# --- the model --------------------------------------------------------------------------------


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers through `policy`, offline and deterministically.

    `faults` maps call numbers (counted by `counter`, 1-based) to the exception that call raises
    instead of answering, e.g. `{3: RateLimited("429", retry_after=2)}`. A failed call still
    counts, so the call after it gets the next number.
    """

    policy: Policy
    model_name: str = SCRIPTED_MODEL_NAME
    faults: Mapping[int, BaseException] = Field(default_factory=dict)
    counter: CallCounter = Field(default_factory=CallCounter)

    @property
    def _llm_type(self) -> str:
        return "agentfleet-scripted"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tools like a real provider would; the policy decides which ones to call."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # The policy is pure and fast: no executor hop, unlike the base class default.
        return self._answer(messages)

    def _answer(self, messages: Sequence[BaseMessage]) -> ChatResult:
        call = self.counter.next()
        fault = self.faults.get(call)
        if fault is not None:
            raise fault
        message = complete_message(self.policy, messages, self.model_name)
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"model_name": self.model_name, "token_usage": _token_usage(message)},
        )


def complete_message(policy: Policy, messages: Sequence[BaseMessage], model: str) -> AIMessage:
    """Run `policy` and stamp its answer like a provider would: tool call ids, token usage and
    the model name."""
    answer = policy(messages)
    prompt = estimate_prompt_tokens(messages)
    completion = estimate_completion_tokens(answer)
    return answer.model_copy(
        update={
            "tool_calls": _with_tool_call_ids(answer, messages),
            "usage_metadata": {
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "response_metadata": {**answer.response_metadata, "model_name": model},
        }
    )


def _with_tool_call_ids(answer: AIMessage, messages: Sequence[BaseMessage]) -> list[Any]:
    # Deterministic ids (numbered through the conversation) keep whole conversations, and so
    # the fake provider's request hashes, identical between a run and its resumed retry.
    earlier = sum(len(getattr(m, "tool_calls", None) or ()) for m in messages)
    return [
        {**call, "id": call.get("id") or f"call_{earlier + i + 1}"}
        for i, call in enumerate(answer.tool_calls)
    ]


def _token_usage(message: AIMessage) -> dict[str, int]:
    usage = message.usage_metadata or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
    }


# --- trivial policies for tests ---------------------------------------------------------------


def _last_human_text(messages: Sequence[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def echo_policy(messages: Sequence[BaseMessage]) -> AIMessage:
    """Answers at once, echoing the last human message."""
    return AIMessage(content=f"echo: {_last_human_text(messages)}")


def tool_then_answer(tool: str, arg: str = "query") -> Policy:
    """A policy that calls `tool` once with `{arg: <last human message>}`, then answers with the
    tool's result."""

    def policy(messages: Sequence[BaseMessage]) -> AIMessage:
        last = messages[-1] if messages else None
        if isinstance(last, ToolMessage):
            return AIMessage(content=f"answer: {last.text}")
        call = {"name": tool, "args": {arg: _last_human_text(messages)}, "id": None}
        return AIMessage(content="", tool_calls=[call])

    return policy
