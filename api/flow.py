"""Provider flow control as the API shows it: `stats { providers { ... } }`.

One entry per provider the fleet has called, read from the store's flow records (the state every
worker shares: see `common.flow`). Providers are the fleet's, not a tenant's: every caller with a
valid key sees the same list.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import strawberry

from api.context import Info
from common.flow.state import Breaker, FlowState


@strawberry.enum(description="A provider's circuit breaker, shared by the fleet.")
class ProviderBreaker(enum.Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@strawberry.type(description="How the fleet currently calls one LLM provider.")
class ProviderFlow:
    key: str = strawberry.field(description="provider/model, e.g. deepseek/deepseek-chat.")
    rate: float = strawberry.field(description="Calls per second the fleet paces itself at.")
    ceiling: float | None = strawberry.field(
        description="The rate at which the provider last answered 429; null before any."
    )
    cooldown_seconds: float = strawberry.field(
        description="Seconds until the provider's cooldown ends (0: not cooling down)."
    )
    breaker: ProviderBreaker
    consecutive_failures: int = strawberry.field(
        description="5xx, timeouts and dropped connections in a row."
    )
    breaker_open_seconds: float = strawberry.field(
        description="Seconds until an open breaker lets one trial call through (0: not open)."
    )
    calls_ok: int
    calls_rate_limited: int
    calls_failed: int
    updated_at: datetime

    @classmethod
    def from_state(cls, key: str, state: FlowState, now: float) -> ProviderFlow:
        is_open = state.breaker is Breaker.OPEN
        return cls(
            key=key,
            rate=round(state.rate, 3),
            ceiling=round(state.ceiling, 3) if state.ceiling is not None else None,
            cooldown_seconds=round(max(0.0, state.cooldown_until - now), 3),
            breaker=ProviderBreaker[state.breaker.name],
            consecutive_failures=state.failures,
            breaker_open_seconds=round(max(0.0, state.open_until - now), 3) if is_open else 0.0,
            calls_ok=state.calls_ok,
            calls_rate_limited=state.calls_rate_limited,
            calls_failed=state.calls_failed,
            updated_at=datetime.fromtimestamp(state.updated_at, UTC),
        )


async def provider_flows(info: Info) -> list[ProviderFlow]:
    """Every provider's flow state, by key."""
    deps = info.context.deps
    now = deps.clock.now().timestamp()
    records = await deps.store.list_flow_states()
    return [ProviderFlow.from_state(r.key, FlowState.from_dict(r.state), now) for r in records]
