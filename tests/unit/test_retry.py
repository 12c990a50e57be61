"""The retry policy is a pure function of its inputs."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from common.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ProviderCoolingDown,
    ProviderUnavailable,
    RateLimited,
)
from common.retry import Defer, GiveUp, RetryAt, RetryPolicy, decide, next_delay

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_backoff_ceiling_grows_exponentially_and_is_capped():
    policy = RetryPolicy(initial_interval=1, backoff_coefficient=2, maximum_interval=10)
    rng = random.Random(7)
    delays = [[next_delay(policy, n, rng) for _ in range(500)] for n in range(1, 7)]
    ceilings = [max(d) for d in delays]
    assert all(min(d) >= 0 for d in delays)
    for observed, ceiling in zip(ceilings, [1, 2, 4, 8, 10, 10], strict=True):
        assert ceiling * 0.9 <= observed <= ceiling


def test_full_jitter_is_reproducible_with_a_seeded_rng():
    policy = RetryPolicy()
    first = [next_delay(policy, n, random.Random(42)) for n in range(1, 6)]
    second = [next_delay(policy, n, random.Random(42)) for n in range(1, 6)]
    assert first == second
    assert first == pytest.approx([random.Random(42).uniform(0, c) for c in (1, 2, 4, 8, 16)])


def test_retry_after_longer_than_the_backoff_wins():
    policy = RetryPolicy(initial_interval=0.1, maximum_interval=0.5)
    assert next_delay(policy, 1, random.Random(1), retry_after=30) == 30


def test_backoff_longer_than_retry_after_is_kept():
    policy = RetryPolicy(initial_interval=100, maximum_interval=100)
    rng = random.Random(3)
    expected = random.Random(3).uniform(0, 100)
    assert next_delay(policy, 1, rng, retry_after=0.001) == pytest.approx(max(expected, 0.001))


def test_retryable_error_within_budget_is_parked_until_its_delay():
    decision = decide(
        RetryPolicy(),
        RateLimited("429", retry_after=2),
        failures=1,
        max_attempts=5,
        now=NOW,
        rng=random.Random(0),
    )
    assert isinstance(decision, RetryAt)
    assert decision.available_at >= NOW + timedelta(seconds=2)
    assert decision.available_at == NOW + timedelta(seconds=decision.delay)


def test_non_retryable_error_gives_up_on_the_first_failure():
    decision = decide(
        RetryPolicy(),
        AuthenticationFailed("401"),
        failures=1,
        max_attempts=5,
        now=NOW,
        rng=random.Random(0),
    )
    assert isinstance(decision, GiveUp)
    assert "not retryable" in decision.reason


def test_exhausted_attempts_give_up():
    decision = decide(
        RetryPolicy(),
        ProviderUnavailable("503"),
        failures=3,
        max_attempts=3,
        now=NOW,
        rng=random.Random(0),
    )
    assert isinstance(decision, GiveUp)
    assert "exhausted" in decision.reason


@pytest.mark.parametrize("failures", [1, 5])
def test_a_provider_cooldown_defers_for_exactly_its_time_whatever_the_budget(failures):
    decision = decide(
        RetryPolicy(),
        ProviderCoolingDown("deepseek cooling down", retry_after=7.5),
        failures=failures,
        max_attempts=5,
        now=NOW,
        rng=random.Random(0),
    )
    assert decision == Defer(available_at=NOW + timedelta(seconds=7.5), delay=7.5)


def test_policy_can_declare_more_error_types_non_retryable():
    policy = RetryPolicy(non_retryable_error_types=frozenset({"ProviderUnavailable"}))
    decision = decide(
        policy, ProviderUnavailable("503"), failures=1, max_attempts=5, now=NOW, rng=random.Random()
    )
    assert isinstance(decision, GiveUp)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_interval": 0},
        {"backoff_coefficient": 0.5},
        {"maximum_attempts": 0},
        {"initial_interval": 10, "maximum_interval": 1},
    ],
)
def test_invalid_policies_are_rejected(kwargs):
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)
