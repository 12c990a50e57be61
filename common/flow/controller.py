"""The I/O half of flow control: read a provider's state, decide, write it back with CAS.

One `FlowController` per process. Callers of one provider are served by a single in-process
`Lane`: while one compare-and-swap round is out, new asks and reports queue up and the next round
carries all of them, so a busy worker pays one store round trip (two when another process wrote
in between) for a whole batch of calls, and callers further back in the fleet's queue are held
in the lane and asked for again together. Successes are not written on their own: they travel
with the next round (or a lazy flush a second later); failures and trial outcomes are written at
once. There are no locks: a lost race re-reads and decides again, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from common.clock import Clock
from common.errors import ProviderCoolingDown, StoreUnavailable
from common.flow.decide import holds_locally, step
from common.flow.lane import Lane, Waiting
from common.flow.state import (
    INITIAL_RATE,
    Ask,
    CallOutcome,
    Decision,
    FlowConfig,
    FlowCounters,
    FlowState,
    Grant,
    Permit,
    Refuse,
    Report,
)

log = logging.getLogger("agentfleet.flow")

#: Compare-and-swap rounds before giving up (the caller's execution is then deferred briefly).
MAX_TRIES = 6
#: Successes not carried by a round within this many seconds are written on their own.
FLUSH_AFTER = 1.0
#: Held callers are asked for again this share of `max_local_wait` before their turn (range).
HOLD_AHEAD = (0.2, 0.6)
#: How long a caller defers when the flow state could not be read or written at all.
UNAVAILABLE_RETRY = 1.0


class FlowStore(Protocol):
    async def get_flow_state(self, key: str) -> Any: ...

    async def put_flow_state(
        self, key: str, state: dict[str, Any], expected_version: int | None
    ) -> Any: ...


class FlowController:
    """Acquire a slot before every call to a provider, report how it went afterwards."""

    def __init__(
        self,
        store: FlowStore,
        config_for: Callable[[str], FlowConfig],
        clock: Clock,
        rng: random.Random | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_tries: int = MAX_TRIES,
    ) -> None:
        self.store = store
        self.config_for = config_for
        self.clock = clock
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.max_tries = max_tries
        self.counters = FlowCounters()
        self._lanes: dict[str, Lane] = {}

    # --- callers -----------------------------------------------------------------------------

    async def acquire(self, key: str, tokens: int = 0, *, report: Report | None = None) -> Permit:
        """Wait for this call's slot (locally, when it is near) and return its permit.

        `report` is the outcome of the caller's previous call (a 429 retried at once), written
        in the same round. Raises `ProviderCoolingDown` when the slot is too far away.
        """
        self.counters.acquires += 1
        lane = self._lane(key)
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        lane.asks.append(Waiting(Ask(tokens), future, self._now()))
        if report is not None:
            lane.reports.append((report, None))
        self._drive(key, lane)
        decision = await future
        if isinstance(decision, Refuse):
            raise self._cooling_down(key, decision)
        return await self._wait_for(key, decision)

    async def report(
        self,
        permit: Permit,
        outcome: CallOutcome,
        *,
        retry_after: float | None = None,
        tokens: int = 0,
    ) -> None:
        """Record a call's outcome. Plain successes are batched; the rest is written now."""
        lane = self._lane(permit.key)
        report = permit.report(outcome, retry_after, tokens)
        if outcome is CallOutcome.OK and not permit.trial:
            lane.put_back_successes([report])
            self._schedule_flush(permit.key, lane)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.reports.append((report, done))
        self._drive(permit.key, lane)
        await done

    async def flush(self) -> None:
        """Write every batched success now (shutdown, tests)."""
        for key, lane in list(self._lanes.items()):
            if lane.ok:
                done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                lane.reports.append((None, done))
                self._drive(key, lane)
                await done

    async def state_of(self, key: str) -> FlowState | None:
        record = await self._read(key)
        return FlowState.from_dict(record.state) if record is not None else None

    async def aclose(self) -> None:
        """Write what is batched; stop the lanes (their callers are gone at shutdown)."""
        for lane in self._lanes.values():
            if lane.flush is not None:
                lane.flush.cancel()
        with contextlib.suppress(StoreUnavailable):
            await self.flush()
        for lane in self._lanes.values():
            if lane.driver is not None:
                lane.driver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.driver

    # --- the lane's driver -------------------------------------------------------------------

    def _lane(self, key: str) -> Lane:
        return self._lanes.setdefault(key, Lane())

    def _drive(self, key: str, lane: Lane) -> None:
        lane.news.set()
        if lane.driver is None or lane.driver.done():
            lane.driver = asyncio.create_task(self._run_lane(key, lane), name=f"flow-{key}")

    def _schedule_flush(self, key: str, lane: Lane) -> None:
        if lane.flush is None:

            def kick() -> None:
                lane.flush = None
                if lane.ok and not lane.busy():
                    lane.reports.append((None, None))
                    self._drive(key, lane)

            lane.flush = asyncio.get_running_loop().call_later(FLUSH_AFTER, kick)

    async def _run_lane(self, key: str, lane: Lane) -> None:
        while True:
            lane.release_held(self._now())
            if lane.busy():
                await self._serve(key, lane)
            elif lane.held:
                await lane.nap(lane.wake_at - self._now(), self.sleep)
            else:
                return

    async def _serve(self, key: str, lane: Lane) -> None:
        """One round for everything queued: decide, write, hand out the decisions."""
        asks, lane.asks = lane.asks, []
        queued, lane.reports = lane.reports, []
        reports = [r for r, _ in queued if r is not None] + lane.take_successes()
        try:
            decisions = await self._round(key, lane, reports, [w.ask for w in asks])
        except Exception as exc:  # the store is down or contended: defer, keep successes
            if not isinstance(exc, StoreUnavailable | _Contended):
                log.exception("flow control round for %s failed", key)
            lane.put_back_successes(reports)
            retry_at = self._now() + UNAVAILABLE_RETRY
            decisions = [Refuse(retry_at, f"flow state unavailable: {exc}") for _ in asks]
        cfg = self.config_for(key)
        # Ask again for the held ones once a good part of the horizon before their turn is free,
        # so that one round brings several slots; at a random point, so that the processes
        # holding callers do not all ask at the same instant and lose races to each other.
        ahead = cfg.max_local_wait * self.rng.uniform(*HOLD_AHEAD)
        for waiting, decision in zip(asks, decisions, strict=True):
            if isinstance(decision, Refuse) and holds_locally(decision, waiting.since, cfg):
                self.counters.held += 1
                lane.hold(waiting, decision.retry_at - ahead)
            elif not waiting.future.done():
                waiting.future.set_result(decision)
        for _, done in queued:
            if done is not None and not done.done():
                done.set_result(None)

    async def _round(
        self, key: str, lane: Lane, reports: list[Report], asks: list[Ask]
    ) -> list[Decision]:
        """One decision written with compare-and-swap; re-read and re-decide on a lost race."""
        cfg = self.config_for(key)
        self.counters.rounds += 1
        lane.rounds += 1
        for attempt in range(self.max_tries):
            cached = attempt == 0 and lane.cached is not None and self._trust_cache(lane)
            record = lane.cached if cached else await self._read(key)
            state = _initial(cfg) if record is None else FlowState.from_dict(record.state)
            new, decisions = step(state, self._now(), reports, asks, cfg)
            version = None if record is None else record.version
            written = await self._write(key, new, version)
            if cached:
                lane.cache_hits = 0.8 * lane.cache_hits + 0.2 * (written is not None)
            if written is not None:
                lane.cached = written
                return decisions
            self.counters.cas_conflicts += 1
            lane.cached = None
            await self.sleep(self.rng.uniform(0, 0.002 * (attempt + 1)))
        self.counters.cas_exhausted += 1
        raise _Contended(f"{self.max_tries} compare-and-swap rounds lost")

    def _trust_cache(self, lane: Lane) -> bool:
        # Alone on a provider, our own last write is current: skip the read. With other
        # processes writing in between, it rarely is; probe it now and then all the same.
        return lane.cache_hits >= 0.5 or lane.rounds % 16 == 0

    async def _read(self, key: str) -> Any:
        self.counters.round_trips += 1
        return await self.store.get_flow_state(key)

    async def _write(self, key: str, state: FlowState, version: int | None) -> Any:
        self.counters.round_trips += 1
        return await self.store.put_flow_state(key, state.to_dict(), version)

    # --- after the decision ------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now().timestamp()

    async def _wait_for(self, key: str, grant: Grant) -> Permit:
        self.counters.granted += 1
        delay = grant.at - self._now()
        if delay > 0:
            self.counters.waited += 1
            self.counters.waited_seconds += delay
            await self.sleep(delay)
        return Permit(key, grant.epoch, grant.paced, grant.trial, max(0.0, delay))

    def _cooling_down(self, key: str, refusal: Refuse) -> ProviderCoolingDown:
        self.counters.refused += 1
        wait = max(0.0, refusal.retry_at - self._now())
        # Spread the comebacks: executions refused together should not all return at once.
        wait += self.rng.uniform(0, min(1.0, 0.25 * wait))
        return ProviderCoolingDown(f"{key}: {refusal.reason}", retry_after=wait)


class _Contended(Exception):
    """Every compare-and-swap round was lost."""


def _initial(cfg: FlowConfig) -> FlowState:
    return FlowState(rate=min(INITIAL_RATE, cfg.max_rate))
