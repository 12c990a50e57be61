"""What the local fake provider does wrong, and when: pure decisions, no I/O.

A `FaultPlan` picks the fault (if any) for the n-th chat-completion request, either by exact
call number (`FaultPlan({3: Fault.rate_limit(retry_after=2)})`, CLI `--script 3=429:2`) or by a
seeded rate and mix (`--fail-rate 0.3 --fail-mix 429=0.5,503=0.3,timeout=0.2`). A `SlidingWindow`
models a provider's capacity in requests per second.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    TIMEOUT = "timeout"  # a reply slower than any sane client timeout
    DROP = "drop"  # the connection closes without a response
    AUTH = "401"
    UNKNOWN_MODEL = "404"
    CONTEXT_OVERFLOW = "context"  # 400 context_length_exceeded


@dataclass(frozen=True)
class Fault:
    """One injected failure. `retry_after` is sent as the Retry-After header (429, 503);
    `seconds` is how long a TIMEOUT reply stalls (None: the server's default)."""

    kind: FaultKind
    retry_after: float | None = None
    seconds: float | None = None

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0) -> Fault:
        return cls(FaultKind.RATE_LIMIT, retry_after=retry_after)

    @classmethod
    def server_error(cls) -> Fault:
        return cls(FaultKind.SERVER_ERROR)

    @classmethod
    def unavailable(cls, retry_after: float | None = None) -> Fault:
        return cls(FaultKind.UNAVAILABLE, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float | None = None) -> Fault:
        return cls(FaultKind.TIMEOUT, seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        return cls(FaultKind.DROP)

    @classmethod
    def auth(cls) -> Fault:
        return cls(FaultKind.AUTH)

    @classmethod
    def unknown_model(cls) -> Fault:
        return cls(FaultKind.UNKNOWN_MODEL)

    @classmethod
    def context_overflow(cls) -> Fault:
        return cls(FaultKind.CONTEXT_OVERFLOW)

    @classmethod
    def parse(cls, token: str, default_retry_after: float = 1.0) -> Fault:
        """`429`, `429:2` (Retry-After 2 s), `500`, `503`, `503:5`, `timeout`, `timeout:3`
        (stall 3 s), `drop`, `401`, `404`, `context`."""
        name, _, value = token.strip().partition(":")
        try:
            kind = FaultKind(name)
            number = float(value) if value else None
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault {token!r}; known: {known}") from None
        if kind is FaultKind.RATE_LIMIT:
            return cls(kind, retry_after=default_retry_after if number is None else number)
        if kind is FaultKind.UNAVAILABLE:
            return cls(kind, retry_after=number)
        if kind is FaultKind.TIMEOUT:
            return cls(kind, seconds=number)
        return cls(kind)


#: A 429/5xx mix, as in the issue's "30% of calls fail (429/5xx mix)".
DEFAULT_MIX: dict[Fault, float] = {
    Fault.rate_limit(): 0.6,
    Fault.unavailable(): 0.3,
    Fault.server_error(): 0.1,
}


@dataclass
class FaultPlan:
    """Which request fails how. Scripted call numbers win; otherwise each request fails with
    probability `rate`, its fault drawn from `mix` by weight. One seeded draw per request keeps
    a plan reproducible."""

    script: Mapping[int, Fault] = field(default_factory=dict)
    rate: float = 0.0
    mix: Mapping[Fault, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fail rate must be within [0, 1]")
        if self.rate and not self.mix:
            raise ValueError("a fail rate needs a non-empty fault mix")
        self._rng = random.Random(self.seed)

    def fault_for(self, call: int) -> Fault | None:
        """The fault for the `call`-th request (1-based), or None to answer normally."""
        draw, pick = self._rng.random(), self._rng.random()
        if call in self.script:
            return self.script[call]
        if draw >= self.rate:
            return None
        total = sum(self.mix.values())
        for fault, weight in self.mix.items():
            pick -= weight / total
            if pick < 0:
                return fault
        return next(reversed(list(self.mix)))  # float rounding left a sliver: the last one

    @classmethod
    def from_options(
        cls,
        *,
        script: str = "",
        rate: float = 0.0,
        mix: str = "",
        seed: int = 0,
        retry_after: float = 1.0,
    ) -> FaultPlan:
        """Build a plan from CLI-style text: script `3=429:2,5=drop`, mix `429=0.5,503=0.5`."""
        scripted = {int(call): Fault.parse(token, retry_after) for call, token in _pairs(script)}
        weights = {Fault.parse(token, retry_after): float(w) for token, w in _pairs(mix)}
        return cls(scripted, rate, weights or dict(DEFAULT_MIX), seed)


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


class SlidingWindow:
    """At most `capacity` admissions in any `window` seconds; a refusal says how long until the
    oldest admission leaves the window, which is the honest Retry-After."""

    def __init__(
        self,
        capacity: float,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        # A fractional rate (0.5/s) becomes one admission per 2 s.
        self.limit = max(1, round(capacity * window))
        self.window = self.limit / capacity
        self._clock = clock
        self._admitted: deque[float] = deque()

    def try_admit(self) -> float:
        """0.0 if admitted now, else the seconds until a slot frees up."""
        now = self._clock()
        while self._admitted and self._admitted[0] <= now - self.window:
            self._admitted.popleft()
        if len(self._admitted) < self.limit:
            self._admitted.append(now)
            return 0.0
        return self._admitted[0] + self.window - now


__all__ = ["DEFAULT_MIX", "Fault", "FaultKind", "FaultPlan", "SlidingWindow"]
