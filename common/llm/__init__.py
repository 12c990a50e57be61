"""LLM providers for agents: the offline scripted model, real OpenAI-compatible clients, usage
accounting, and (in `common.llm.fake_provider`) a local fake provider for tests and benchmarks."""

from common.llm.providers import ChatModelFactory, chat_model_factory, choose_provider, describe
from common.llm.scripted import (
    CallCounter,
    Policy,
    ScriptedChatModel,
    echo_policy,
    tool_then_answer,
)
from common.llm.usage import UsageCallback, estimate_cost, load_prices

__all__ = [
    "CallCounter",
    "ChatModelFactory",
    "Policy",
    "ScriptedChatModel",
    "UsageCallback",
    "chat_model_factory",
    "choose_provider",
    "describe",
    "echo_policy",
    "estimate_cost",
    "load_prices",
    "tool_then_answer",
]
