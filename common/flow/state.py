"""The values flow control decides on: one provider's shared state, its tuning, and the events.

A `FlowState` is what the fleet shares per provider through the store (one small record changed by
compare-and-swap); a `FlowConfig` is what one process knows from its settings. Instants are epoch
seconds (floats): the state is stored as JSON and compared across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

#: Requests per second a provider starts at before anything is known: slow start finds the
#: real figure within seconds (it doubles the rate about every 0.7 s while calls queue).
INITIAL_RATE = 5.0


class Breaker(StrEnum):
    CLOSED = "closed"  # calls flow
    OPEN = "open"  # too many 5xx/timeouts: nobody calls until `open_until`
    HALF_OPEN = "half_open"  # one trial call decides between CLOSED and OPEN again


class FlowState(BaseModel):
    """One provider's flow-control state, shared by every worker of the fleet."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: Calls per second the fleet paces itself at (adaptive: AIMD).
    rate: float = INITIAL_RATE
    #: The rate at the last decrease: where the provider pushed back. None during slow start.
    ceiling: float | None = None
    #: Decreases so far. A 429 of a call granted in an older epoch was already answered by a
    #: decrease, so one burst of 429s lowers the rate once, not once per call.
    epoch: int = 0
    #: Successes per second lately (decaying): what the provider serves, whatever the rate.
    served: float = 0.0
    served_at: float = 0.0
    #: When the next call may be sent (the GCRA theoretical arrival time of requests).
    next_slot: float = 0.0
    #: The same for tokens, when a tokens-per-minute limit is configured.
    token_slot: float = 0.0
    #: No call before this instant (Retry-After, or a burst of 429s without one).
    cooldown_until: float = 0.0
    #: 429s without Retry-After in the current burst window, and when that window began.
    burst: int = 0
    burst_started: float = 0.0
    breaker: Breaker = Breaker.CLOSED
    #: Consecutive 5xx/timeouts/dropped connections (a provider answer of any kind resets it).
    failures: int = 0
    open_until: float = 0.0
    #: How long the breaker opened last time (doubles while trials keep failing).
    open_seconds: float = 0.0
    #: While HALF_OPEN: the trial call's deadline; after it another caller may try.
    trial_until: float = 0.0
    # Totals over the fleet, for `stats` (successes are reported in batches, so they lag).
    calls_ok: int = 0
    calls_rate_limited: int = 0
    calls_failed: int = 0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FlowState:
        """The stored state; unknown keys (a newer version's) are ignored, missing ones default."""
        return cls.model_validate(data or {})


@dataclass(frozen=True)
class FlowConfig:
    """How one provider is controlled: the static limits and the tuning of the adaptive part."""

    #: Static limits (None: none): requests and tokens per minute, across the fleet.
    rpm: float | None = None
    tpm: float | None = None
    #: Wait in-process at most this long for a cooldown, a breaker or the token budget to
    #: allow a call; longer defers the execution (it holds no worker slot while it waits).
    max_local_wait: float = 0.5
    #: A slot in the fleet's queue (pacing) this near is waited for in-process: it is reserved,
    #: so the wait is known and costs nothing; a later one defers the execution.
    max_queue_wait: float = 10.0
    #: Consecutive 5xx/timeouts that open the breaker, and how long it stays open at first.
    breaker_failures: int = 5
    breaker_open_seconds: float = 10.0
    breaker_max_open_seconds: float = 300.0
    # AIMD. A gentle decrease and a slow probe above the last ceiling keep the average close to
    # the provider's capacity (a halving sawtooth averages ~75% of it) with few 429s.
    min_rate: float = 0.2
    decrease: float = 0.9
    #: Growth per second, as a share of the ceiling: fast back to near it, slowly beyond.
    recover_gain: float = 0.5
    probe_gain: float = 0.01
    near_ceiling: float = 0.95
    #: Slow start: each paced success adds this many calls per second (about e-fold per second).
    slow_start_gain: float = 1.0
    #: Seconds over which the served rate is averaged.
    served_window: float = 1.0
    #: 429s without Retry-After within `burst_window` that cool the provider down for
    #: `burst_cooldown` seconds.
    burst_429s: int = 3
    burst_window: float = 1.0
    burst_cooldown: float = 1.0
    #: Tokens may run ahead of the tokens-per-minute pace by this many seconds' worth.
    token_burst_seconds: float = 2.0

    @property
    def max_rate(self) -> float:
        return self.rpm / 60 if self.rpm else float("inf")

    @property
    def tokens_per_second(self) -> float | None:
        return self.tpm / 60 if self.tpm else None


class CallOutcome(StrEnum):
    """What one call to the provider came to, as flow control sees it."""

    OK = "ok"
    RATE_LIMITED = "rate_limited"  # 429
    FAILED = "failed"  # 5xx, timeout, dropped connection: the breaker counts these
    REJECTED = "rejected"  # another 4xx: the provider is up, the request was wrong


@dataclass(frozen=True)
class Report:
    """Outcomes to fold into the state. Successes are aggregated (`count`, `paced`) and
    travel with the next acquire; failures are reported one by one, at once."""

    outcome: CallOutcome
    count: int = 1
    #: Of `count`, calls that had to wait for their slot: only these say the rate could grow.
    paced: int = 0
    #: The epoch the call was granted in (see `FlowState.epoch`).
    epoch: int = 0
    retry_after: float | None = None
    tokens: int = 0
    trial: bool = False


@dataclass(frozen=True)
class Ask:
    """One caller wanting to send a call (`tokens`: the prompt's estimated size)."""

    tokens: int = 0


@dataclass(frozen=True)
class Grant:
    """Send the call at `at` (wait locally until then)."""

    at: float
    epoch: int
    paced: bool
    trial: bool = False


@dataclass(frozen=True)
class Refuse:
    """Do not call before `retry_at`: defer the execution."""

    retry_at: float
    reason: str


Decision = Grant | Refuse


@dataclass(frozen=True)
class Permit:
    """A granted call: what its report has to say about when it was granted."""

    key: str
    epoch: int
    paced: bool
    trial: bool = False
    waited: float = 0.0

    def report(
        self, outcome: CallOutcome, retry_after: float | None = None, tokens: int = 0
    ) -> Report:
        return Report(
            outcome,
            paced=int(self.paced and outcome is CallOutcome.OK),
            epoch=self.epoch,
            retry_after=retry_after,
            tokens=tokens,
            trial=self.trial,
        )


@dataclass
class FlowCounters:
    """What this process's flow control did, for benchmarks and logs."""

    acquires: int = 0
    granted: int = 0
    refused: int = 0
    waited: int = 0
    waited_seconds: float = 0.0
    held: int = 0  # asks told "not yet" and held in the lane for a later round
    quick_retries: int = 0  # 429s answered by waiting for the next slot in-process
    rounds: int = 0
    round_trips: int = 0
    cas_conflicts: int = 0
    cas_exhausted: int = 0

    def to_dict(self) -> dict[str, int | float]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in vars(self).items()}
