"""The store contract, continued: provider flow state, deferral, schedules, tenant fairness.

Runs once per backend through the `any_store` fixture, like `test_store_contract.py`. Time comes
from the injected clock in whole seconds, so every backend stores it exactly.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

import pytest

from common.store.base import Store

# --- provider flow state ---------------------------------------------------------------------

COOLDOWN = {"cooldown_until": 1767225600.5, "limit": 8, "window": [3, 5], "open": None}


async def test_an_unknown_flow_key_reads_as_none(any_store):
    assert await any_store.get_flow_state("provider:deepseek") is None


async def test_a_first_put_creates_version_one(any_store):
    record = await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)

    assert record is not None
    assert (record.key, record.version, record.state) == ("provider:deepseek", 1, COOLDOWN)
    assert await any_store.get_flow_state("provider:deepseek") == record


async def test_a_put_on_the_current_version_replaces_the_state_and_moves_the_version_on(
    any_store,
):
    await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)

    record = await any_store.put_flow_state("provider:deepseek", {"limit": 4}, 1)

    assert record is not None and (record.version, record.state) == (2, {"limit": 4})
    assert await any_store.get_flow_state("provider:deepseek") == record


async def test_a_put_on_a_stale_version_is_refused_and_changes_nothing(any_store):
    await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)
    current = await any_store.put_flow_state("provider:deepseek", {"limit": 4}, 1)

    assert await any_store.put_flow_state("provider:deepseek", {"limit": 1}, 1) is None
    assert await any_store.get_flow_state("provider:deepseek") == current


async def test_inserting_a_key_that_exists_is_refused_and_changes_nothing(any_store):
    first = await any_store.put_flow_state("provider:deepseek", COOLDOWN, None)

    assert await any_store.put_flow_state("provider:deepseek", {"limit": 1}, None) is None
    assert await any_store.get_flow_state("provider:deepseek") == first


async def test_updating_a_key_that_does_not_exist_is_refused(any_store):
    assert await any_store.put_flow_state("provider:deepseek", COOLDOWN, 1) is None
    assert await any_store.get_flow_state("provider:deepseek") is None


async def test_concurrent_inserts_of_one_key_have_exactly_one_winner(any_store):
    results = await asyncio.gather(
        *(any_store.put_flow_state("provider:openai", {"by": i}, None) for i in range(10))
    )

    winners = [record for record in results if record is not None]
    assert len(winners) == 1
    assert await any_store.get_flow_state("provider:openai") == winners[0]


async def test_concurrent_updates_of_one_version_have_exactly_one_winner(any_store):
    await any_store.put_flow_state("provider:openai", {"by": None}, None)

    results = await asyncio.gather(
        *(any_store.put_flow_state("provider:openai", {"by": i}, 1) for i in range(10))
    )

    winners = [record for record in results if record is not None]
    assert len(winners) == 1 and winners[0].version == 2
    assert await any_store.get_flow_state("provider:openai") == winners[0]


async def test_flow_states_are_listed_by_key(any_store):
    for key in ("provider:openai", "provider:deepseek", "provider:vllm"):
        await any_store.put_flow_state(key, {"name": key}, None)

    listed = await any_store.list_flow_states()

    assert [record.key for record in listed] == [
        "provider:deepseek",
        "provider:openai",
        "provider:vllm",
    ]
    assert all(record.state == {"name": record.key} for record in listed)


async def test_a_flow_state_comes_back_as_json_would_return_it(any_store):
    record = await any_store.put_flow_state("provider:x", {"pair": (1, 2), "empty": {}}, None)

    assert record is not None and record.state == {"pair": [1, 2], "empty": {}}
    stored = await any_store.get_flow_state("provider:x")
    assert stored is not None and stored.state == {"pair": [1, 2], "empty": {}}


@pytest.mark.parametrize(
    "state", [{"until": datetime(2026, 1, 1, tzinfo=UTC)}, {"limit": math.inf}], ids=["date", "inf"]
)
async def test_a_flow_state_that_json_cannot_hold_is_rejected_before_any_write(any_store, state):
    with pytest.raises((TypeError, ValueError)):
        await any_store.put_flow_state("provider:x", state, None)

    assert await any_store.get_flow_state("provider:x") is None


async def test_every_flow_state_operation_is_one_round_trip(any_store: Store):
    operations = [
        lambda: any_store.put_flow_state("provider:x", {}, None),
        lambda: any_store.put_flow_state("provider:x", {}, 1),
        lambda: any_store.put_flow_state("provider:x", {}, 1),  # lost: still one trip
        lambda: any_store.get_flow_state("provider:x"),
        lambda: any_store.list_flow_states(),
    ]
    for operation in operations:
        before = any_store.round_trips
        await operation()
        assert any_store.round_trips - before == 1
