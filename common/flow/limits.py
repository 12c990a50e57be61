"""Static per-provider limits from settings, and the `FlowConfig` of each provider key.

`AGENTFLEET_PROVIDER_LIMITS` is JSON keyed by provider key (`deepseek/deepseek-chat`), provider
name (`deepseek`) or `*` (any provider), the most specific key winning:

    {"deepseek": {"rpm": 600, "tpm": 1000000}, "*": {"rpm": 120}}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.flow.state import FlowConfig

if TYPE_CHECKING:
    from common.settings import Settings


class ProviderLimit(BaseModel):
    """Requests and tokens per minute one provider allows the whole fleet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rpm: float | None = Field(None, gt=0)
    tpm: float | None = Field(None, gt=0)


def parse_provider_limits(raw: str | None) -> dict[str, ProviderLimit]:
    """The limits of `AGENTFLEET_PROVIDER_LIMITS`; ValueError saying what is wrong."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError('expected an object like {"deepseek": {"rpm": 600, "tpm": 100000}}')
    limits = {}
    for key, value in data.items():
        try:
            limits[str(key)] = ProviderLimit.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, (key, *e['loc'])))}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"invalid limit: {problems}") from None
    return limits


def limit_for(limits: dict[str, ProviderLimit], key: str) -> ProviderLimit:
    """The most specific limit for a provider key: exact key, provider name, then `*`."""
    for candidate in (key, key.split("/", 1)[0], "*"):
        if candidate in limits:
            return limits[candidate]
    return ProviderLimit()


def config_for(settings: Settings) -> Callable[[str], FlowConfig]:
    """Each provider key's `FlowConfig` under these settings."""
    limits = parse_provider_limits(settings.provider_limits)

    def config(key: str) -> FlowConfig:
        limit = limit_for(limits, key)
        return FlowConfig(
            rpm=limit.rpm,
            tpm=limit.tpm,
            max_local_wait=settings.flow_max_local_wait,
            max_queue_wait=settings.flow_max_queue_wait,
            breaker_failures=settings.flow_breaker_failures,
            breaker_open_seconds=settings.flow_breaker_open_seconds,
        )

    return config
