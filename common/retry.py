"""Retry decisions as pure functions over values."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from common.errors import AgentfleetError, ConfigurationError, ProviderCoolingDown


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed execution is tried again."""

    initial_interval: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval: float = 300.0
    maximum_attempts: int = 5
    non_retryable_error_types: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.initial_interval <= 0:
            raise ConfigurationError("initial_interval must be > 0")
        if self.backoff_coefficient < 1:
            raise ConfigurationError("backoff_coefficient must be >= 1")
        if self.maximum_interval < self.initial_interval:
            raise ConfigurationError("maximum_interval must be >= initial_interval")
        if self.maximum_attempts < 1:
            raise ConfigurationError("maximum_attempts must be >= 1")


def next_delay(
    policy: RetryPolicy, failures: int, rng: random.Random, retry_after: float | None = None
) -> float:
    """Seconds to wait after the `failures`-th failed attempt (1-based).

    Exponential backoff with full jitter: uniform in [0, min(cap, initial * coeff^(n-1))], but
    never shorter than what the provider asked for with Retry-After.
    """
    ceiling = min(
        policy.maximum_interval,
        policy.initial_interval * policy.backoff_coefficient ** max(0, failures - 1),
    )
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


@dataclass(frozen=True)
class RetryAt:
    """Park the execution until `available_at`."""

    available_at: datetime
    delay: float


@dataclass(frozen=True)
class Defer:
    """Give the execution back until `available_at` without spending an attempt: flow control
    held the call back (provider cooling down, breaker open, no slot soon), nothing failed."""

    available_at: datetime
    delay: float


@dataclass(frozen=True)
class GiveUp:
    """Fail the execution for good."""

    reason: str


def decide(
    policy: RetryPolicy,
    error: AgentfleetError,
    *,
    failures: int,
    max_attempts: int,
    now: datetime,
    rng: random.Random,
) -> RetryAt | Defer | GiveUp:
    """What to do after a failed attempt.

    `failures` counts failed attempts including this one; `max_attempts` is the execution's own
    budget (it overrides the policy's default). A `ProviderCoolingDown` is not a failure: it is
    deferred for as long as flow control said, whatever the budget.
    """
    if isinstance(error, ProviderCoolingDown):
        delay = max(0.0, error.retry_after or 0.0)
        return Defer(available_at=now + timedelta(seconds=delay), delay=delay)
    if not error.retryable or error.type_name in policy.non_retryable_error_types:
        return GiveUp(f"{error.type_name} is not retryable")
    if failures >= max_attempts:
        return GiveUp(f"attempts exhausted ({failures} of {max_attempts} failed)")
    delay = next_delay(policy, failures, rng, error.retry_after)
    return RetryAt(available_at=now + timedelta(seconds=delay), delay=delay)
