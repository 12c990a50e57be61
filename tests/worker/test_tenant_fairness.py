"""A worker claims fairly across tenants and keeps each within the fleet's tenant cap."""

from __future__ import annotations

import asyncio

import pytest

from tests.worker.harness import Probe, make_worker, submit


@pytest.fixture
def probe() -> Probe:
    return Probe()


async def test_a_worker_keeps_each_tenant_within_the_tenant_cap(sqlite_store, clock, probe):
    for i in range(5):
        await submit(sqlite_store, clock, "block", {"note": str(i)}, tenant="big")
    await submit(sqlite_store, clock, "block", {}, tenant="small")
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1", tenant_concurrency=2)

    claimed = await worker.claim_once()
    again = await worker.claim_once()

    held = sorted(running.execution.tenant for running in worker.inflight.values())
    probe.gate.set()
    await asyncio.gather(*(r.task for r in worker.inflight.values() if r.task is not None))
    assert (claimed, again) == (3, 0)
    assert held == ["big", "big", "small"]


async def test_a_workers_claim_interleaves_tenants(sqlite_store, clock, probe):
    for i in range(5):
        await submit(sqlite_store, clock, "count", {"note": str(i)}, tenant="big")
    await submit(sqlite_store, clock, "count", {}, tenant="small")
    worker = make_worker(sqlite_store, probe.registry(), clock, "w1", claim_batch=2)

    claimed = await worker.claim_once()

    tenants = sorted(running.execution.tenant for running in worker.inflight.values())
    await asyncio.gather(*(r.task for r in worker.inflight.values() if r.task is not None))
    assert claimed == 2 and tenants == ["big", "small"]
