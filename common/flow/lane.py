"""One provider's queue in one process: the asks and reports waiting for the next round.

The lane is what keeps a busy process from becoming a polling storm: every caller of a provider
in the process is served by one driver task, one compare-and-swap round at a time, each round
carrying every ask and report queued meanwhile. Callers told "your turn is further back than the
next `max_local_wait`" are held here and asked for again, together, when their turn comes near,
so waiting for a long queue costs about one round per process per `max_local_wait`, not one per
caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from common.flow.state import Ask, CallOutcome, Decision, Report


@dataclass
class Waiting:
    """A caller waiting for its decision; `since` is when it first asked (epoch seconds)."""

    ask: Ask
    future: asyncio.Future[Decision]
    since: float


@dataclass
class Lane:
    """One provider's queue of asks and reports in this process."""

    asks: list[Waiting] = field(default_factory=list)
    #: Callers whose turn is not near yet; asked for again from `wake_at` on.
    held: list[Waiting] = field(default_factory=list)
    wake_at: float = 0.0
    #: Reports to write in the next round; a None report only asks for a round (a flush).
    reports: list[tuple[Report | None, asyncio.Future[None] | None]] = field(default_factory=list)
    ok: int = 0
    ok_paced: int = 0
    ok_tokens: int = 0
    driver: asyncio.Task[None] | None = None
    flush: asyncio.TimerHandle | None = None
    news: asyncio.Event = field(default_factory=asyncio.Event)
    cached: Any = None  # the record this process last read or wrote
    cache_hits: float = 1.0  # how often the cached version was still current (moving average)
    rounds: int = 0

    def busy(self) -> bool:
        return bool(self.asks or self.reports)

    def release_held(self, now: float) -> None:
        """Held callers whose turn is near go back into the next round, ahead of new ones."""
        if self.held and now >= self.wake_at:
            self.asks[:0] = [w for w in self.held if not w.future.done()]
            self.held = []

    def hold(self, waiting: Waiting, wake_at: float) -> None:
        self.wake_at = wake_at if not self.held else min(self.wake_at, wake_at)
        self.held.append(waiting)

    def take_successes(self) -> list[Report]:
        if not self.ok:
            return []
        report = Report(CallOutcome.OK, self.ok, self.ok_paced, tokens=self.ok_tokens)
        self.ok = self.ok_paced = self.ok_tokens = 0
        return [report]

    def put_back_successes(self, reports: list[Report]) -> None:
        for r in reports:
            if r.outcome is CallOutcome.OK and not r.trial:
                self.ok += r.count
                self.ok_paced += r.paced
                self.ok_tokens += r.tokens

    async def nap(self, seconds: float, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Sleep until the held callers' turn, or until new asks or reports arrive."""
        self.news.clear()
        sleeper = asyncio.ensure_future(sleep(max(0.0, seconds)))
        waker = asyncio.ensure_future(self.news.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
