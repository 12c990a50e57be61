"""Fleet-wide flow control per LLM provider: cooldown, adaptive rate, static limits and a
circuit breaker, shared by every worker through one small record per provider in the store.

Pure decisions live in `state`, `rate`, `breaker` and `decide`; `controller.FlowController` does
the store I/O (compare-and-swap, no locks); `chat.FlowControlledChatModel` (imported on its own:
it needs LangChain) puts it in front of every call an agent makes.
"""

from common.flow.controller import FlowController
from common.flow.decide import acquire, record, step
from common.flow.limits import ProviderLimit, config_for, limit_for, parse_provider_limits
from common.flow.state import (
    Ask,
    Breaker,
    CallOutcome,
    FlowConfig,
    FlowCounters,
    FlowState,
    Grant,
    Permit,
    Refuse,
    Report,
)

__all__ = [
    "Ask",
    "Breaker",
    "CallOutcome",
    "FlowConfig",
    "FlowController",
    "FlowCounters",
    "FlowState",
    "Grant",
    "Permit",
    "ProviderLimit",
    "Refuse",
    "Report",
    "acquire",
    "config_for",
    "limit_for",
    "parse_provider_limits",
    "record",
    "step",
]
