"""The compare-and-swap loop against the real SQLite store: several controllers race, none loses
an update, none shares a slot, and a busy lane costs about one round trip per batch."""

from __future__ import annotations

import asyncio
import random

import pytest

from common.clock import ManualClock
from common.errors import ProviderCoolingDown, StoreUnavailable
from common.flow import CallOutcome, FlowConfig, FlowController, FlowState
from common.store.sqlite import SqliteStore

KEY = "fake/scripted"
#: Everything is granted (nobody defers) unless a test says otherwise.
PATIENT = FlowConfig(max_local_wait=10_000, max_queue_wait=10_000)


class Sleeps:
    """An injected sleep: records what a controller would have waited, returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def advancing(clock: ManualClock):
    """An injected sleep that moves the injected clock on, as time would."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


def controller(store, clock, cfg: FlowConfig = PATIENT, seed: int = 1, **kw) -> FlowController:
    return FlowController(store, lambda key: cfg, clock, random.Random(seed), sleep=Sleeps(), **kw)


@pytest.fixture
async def stores(tmp_path):
    """Four connections to one SQLite file, as four worker processes would have."""
    path = str(tmp_path / "agentfleet.db")
    opened = [SqliteStore(path) for _ in range(4)]
    for store in opened:
        await store.init()
    yield opened
    for store in opened:
        await store.close()


async def test_racing_controllers_never_share_a_slot(stores, clock):
    controllers = [controller(s, clock, seed=i, max_tries=50) for i, s in enumerate(stores)]

    async def burst(c: FlowController) -> list[float]:
        permits = await asyncio.gather(*(c.acquire(KEY) for _ in range(25)))
        return [p.waited for p in permits]

    waits = [w for ws in await asyncio.gather(*(burst(c) for c in controllers)) for w in ws]

    interval = 1 / FlowState().rate
    assert sorted(round(w / interval) for w in waits) == list(range(100))  # one call per slot
    state = await controllers[0].state_of(KEY)
    assert state.next_slot == pytest.approx(clock.now().timestamp() + 100 * interval)
    conflicts = sum(c.counters.cas_conflicts for c in controllers)
    rounds = sum(c.counters.rounds for c in controllers)
    print(f"100 acquires: {rounds} rounds, {conflicts} lost races")
    assert rounds < 100  # asks that queued behind a round went together in the next one


async def test_reports_from_racing_controllers_are_all_counted(stores, clock):
    controllers = [controller(s, clock, seed=i, max_tries=50) for i, s in enumerate(stores)]
    permits = [await c.acquire(KEY) for c in controllers]

    await asyncio.gather(
        *(
            c.report(p, CallOutcome.FAILED)
            for c, p in zip(controllers, permits, strict=True)
            for _ in range(5)
        )
    )

    state = await controllers[0].state_of(KEY)
    assert state.calls_failed == 20


async def test_a_lost_race_reads_again_and_decides_again(stores, clock):
    first, second = controller(stores[0], clock), controller(stores[1], clock)
    await first.acquire(KEY)  # first caches version 1
    await second.acquire(KEY)  # version 2, behind first's back
    trips = first.counters.round_trips

    await first.acquire(KEY)

    assert first.counters.cas_conflicts == 1
    assert first.counters.round_trips - trips == 3  # stale put, read, put
    assert (await first.state_of(KEY)).next_slot == pytest.approx(
        clock.now().timestamp() + 3 / FlowState().rate
    )


async def test_alone_on_a_provider_a_controller_pays_one_round_trip_per_call(sqlite_store, clock):
    flow = controller(sqlite_store, clock)
    await flow.acquire(KEY)  # the insert: a read that finds nothing, then the write
    trips = flow.counters.round_trips
    for _ in range(10):
        permit = await flow.acquire(KEY)
        await flow.report(permit, CallOutcome.OK)  # batched: no round trip of its own
    assert flow.counters.round_trips - trips == 10


async def test_successes_travel_with_the_next_round(sqlite_store, clock):
    flow = controller(sqlite_store, clock)
    permit = await flow.acquire(KEY)
    await flow.report(permit, CallOutcome.OK)
    assert (await flow.state_of(KEY)).calls_ok == 0  # not written yet

    await flow.flush()

    assert (await flow.state_of(KEY)).calls_ok == 1


async def test_a_far_slot_raises_provider_cooling_down_with_when_to_come_back(sqlite_store, clock):
    flow = controller(sqlite_store, clock, FlowConfig(max_local_wait=0.5, max_queue_wait=0.5))
    permit = await flow.acquire(KEY)
    await flow.report(permit, CallOutcome.RATE_LIMITED, retry_after=4.0)

    with pytest.raises(ProviderCoolingDown) as refused:
        await flow.acquire(KEY)

    assert 4.0 <= refused.value.retry_after <= 5.0  # plus a little spread
    assert flow.counters.refused == 1


async def test_a_granted_caller_waits_locally_for_its_slot(sqlite_store, clock):
    flow = controller(sqlite_store, clock, FlowConfig(max_local_wait=1.0))
    await flow.acquire(KEY)
    permit = await flow.acquire(KEY)
    assert permit.paced and permit.waited == pytest.approx(1 / FlowState().rate)
    assert flow.sleep.delays == [pytest.approx(permit.waited)]  # type: ignore[attr-defined]


async def test_callers_further_back_in_the_queue_wait_in_process_and_go_together(
    sqlite_store, clock
):
    cfg = FlowConfig(max_local_wait=0.5, max_queue_wait=10)
    flow = FlowController(
        sqlite_store, lambda key: cfg, clock, random.Random(1), sleep=advancing(clock)
    )
    start = clock.now().timestamp()

    permits = await asyncio.gather(*(flow.acquire(KEY) for _ in range(20)))

    assert len(permits) == 20 and flow.counters.refused == 0  # nobody deferred
    assert flow.counters.held > 0
    assert flow.counters.rounds < 20  # held callers were asked for again together
    state = await flow.state_of(KEY)
    # Twenty slots handed out (concurrent sleepers each move the injected clock, so it may
    # have run past a few of them unused).
    assert state.next_slot >= start + 20 / FlowState().rate - 1e-6


async def test_a_caller_whose_turn_is_too_far_back_is_deferred(sqlite_store, clock):
    cfg = FlowConfig(max_local_wait=0.5, max_queue_wait=2)
    flow = FlowController(
        sqlite_store, lambda key: cfg, clock, random.Random(1), sleep=advancing(clock)
    )

    outcomes = await asyncio.gather(*(flow.acquire(KEY) for _ in range(20)), return_exceptions=True)

    deferred = [o for o in outcomes if isinstance(o, ProviderCoolingDown)]
    assert deferred and len(deferred) == flow.counters.refused
    assert all("paced" in str(o) for o in deferred)


async def test_without_the_store_a_caller_is_deferred_not_failed(clock):
    class DownStore:
        async def get_flow_state(self, key):
            raise StoreUnavailable("down")

        async def put_flow_state(self, key, state, expected_version):
            raise StoreUnavailable("down")

    with pytest.raises(ProviderCoolingDown, match="flow state unavailable"):
        await controller(DownStore(), clock).acquire(KEY)


async def test_the_state_is_written_with_the_injected_clock(sqlite_store):
    clock = ManualClock()
    flow = controller(sqlite_store, clock)
    await flow.acquire(KEY)
    state = await flow.state_of(KEY)
    assert state.updated_at == clock.now().timestamp()


async def test_the_cas_loop_keeps_every_update_on_every_backend(any_store, clock):
    controllers = [controller(any_store, clock, seed=i, max_tries=50) for i in range(3)]
    permits = [await c.acquire(KEY) for c in controllers]

    await asyncio.gather(
        *(c.report(p, CallOutcome.RATE_LIMITED) for c, p in zip(controllers, permits, strict=True)),
        *(c.acquire(KEY) for c in controllers),
    )

    state = await controllers[0].state_of(KEY)
    assert state.calls_rate_limited == 3
    assert state.next_slot >= clock.now().timestamp() + 5 / FlowState().rate - 1e-6
    assert [r.key for r in await any_store.list_flow_states()] == [KEY]
