"""submitExecution: validated before anything is written; success only once the store acked."""

from __future__ import annotations

import asyncio
import logging

import pytest

from common.errors import StoreUnavailable
from common.store.base import Store
from tests.api.conftest import AppFactory
from tests.api.graphql import GET, STATS, SUBMIT, GraphQLClient, only_error


async def assert_nothing_stored(client: GraphQLClient) -> None:
    stats = (await client.data(STATS))["stats"]
    assert stats["total"] == 0, stats


async def test_a_submitted_echo_execution_is_pending_and_readable_by_id(
    client_a: GraphQLClient,
) -> None:
    submitted = await client_a.submit("echo", {"message": "hello"})

    assert submitted["state"] == "PENDING"
    assert submitted["attempt"] == 0
    assert submitted["maxAttempts"] == 5  # settings.default_max_attempts
    assert submitted["priority"] == 0
    fetched = (await client_a.data(GET, {"id": submitted["id"]}))["execution"]
    assert fetched["id"] == submitted["id"]
    assert fetched["agent"] == "echo"
    assert fetched["input"]["message"] == "hello"
    assert fetched["state"] == "PENDING"
    assert fetched["attempts"] == [] and fetched["result"] is None and fetched["error"] is None


async def test_the_validated_input_is_stored_with_defaults_filled_in(
    client_a: GraphQLClient,
) -> None:
    submitted = await client_a.submit("flaky", {"fail_times": "2"})

    assert submitted["input"] == {"fail_times": 2, "error": "rate_limit", "retry_after_s": 0.0}


async def test_invalid_input_is_bad_user_input_naming_the_field_and_stores_nothing(
    client_a: GraphQLClient,
) -> None:
    body = await client_a.execute(SUBMIT, {"agent": "flaky", "input": {"fail_times": "many"}})

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "input.fail_times: Input should be a valid integer" in error["message"]
    assert error["extensions"]["fields"] == ["input.fail_times"]
    assert body["data"] is None
    await assert_nothing_stored(client_a)


async def test_an_input_that_is_not_an_object_is_bad_user_input(client_a: GraphQLClient) -> None:
    body = await client_a.execute(SUBMIT, {"agent": "echo", "input": ["hello"]})

    assert only_error(body)["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_nothing_stored(client_a)


async def test_an_unknown_agent_is_bad_user_input_listing_the_known_agents(
    client_a: GraphQLClient,
) -> None:
    body = await client_a.execute(SUBMIT, {"agent": "nope", "input": {}})

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "unknown agent 'nope'" in error["message"]
    assert "echo" in error["message"] and "flaky" in error["message"]
    await assert_nothing_stored(client_a)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"max": 0}, "maxAttempts"),
        ({"max": 101}, "maxAttempts"),
        ({"priority": 1001}, "priority"),
        ({"priority": -1001}, "priority"),
        ({"key": "k" * 201}, "idempotencyKey"),
        ({"key": "  "}, "idempotencyKey"),
    ],
)
async def test_out_of_range_options_are_bad_user_input_naming_the_option(
    client_a: GraphQLClient, variables: dict, field: str
) -> None:
    body = await client_a.execute(
        SUBMIT, {"agent": "echo", "input": {"message": "hi"}, **variables}
    )

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == [field]
    assert field in error["message"]
    await assert_nothing_stored(client_a)


async def test_priority_and_max_attempts_are_stored_as_given(client_a: GraphQLClient) -> None:
    submitted = await client_a.submit("echo", {"message": "hi"}, priority=-1000, max=100)

    assert submitted["priority"] == -1000
    assert submitted["maxAttempts"] == 100


async def test_a_store_failure_during_submit_is_unavailable_and_nothing_exists(
    client_a: GraphQLClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("connection refused by 10.0.0.7:27017")

    monkeypatch.setattr(store, "submit", unreachable)

    body = await client_a.execute(SUBMIT, {"agent": "echo", "input": {"message": "hi"}})

    error = only_error(body)
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["message"] == "the store is unreachable; nothing was written, try again"
    assert body["data"] is None
    monkeypatch.undo()
    await assert_nothing_stored(client_a)


async def test_an_unexpected_exception_is_internal_without_any_detail_for_the_client(
    client_a: GraphQLClient,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(store, "get", broken)

    with caplog.at_level(logging.ERROR, logger="agentfleet.api"):
        response = await client_a.post(GET, {"id": "x"})

    error = only_error(response.json())
    assert error["extensions"] == {"code": "INTERNAL"}
    for leak in ("secret-internal-detail", "KeyError", "Traceback", "store", ".py"):
        assert leak not in response.text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "secret-internal-detail" in caplog.text  # the server keeps the detail


async def test_two_concurrent_submits_with_one_idempotency_key_yield_one_execution(
    client_a: GraphQLClient,
) -> None:
    first, second = await asyncio.gather(
        client_a.submit("echo", {"message": "once"}, key="order-42"),
        client_a.submit("echo", {"message": "once"}, key="order-42"),
    )

    assert first["id"] == second["id"]
    assert first["idempotencyKey"] == "order-42"
    stats = (await client_a.data(STATS))["stats"]
    assert stats["total"] == 1


async def test_a_submit_wakes_local_workers_but_a_duplicate_does_not(
    make_client: AppFactory, key_a: str
) -> None:
    wakeups: list[None] = []
    client = make_client(key=key_a, on_submit=lambda: wakeups.append(None))

    await client.submit("echo", {"message": "hi"}, key="k1")
    await client.submit("echo", {"message": "hi"}, key="k1")

    assert len(wakeups) == 1


async def test_a_failing_wake_up_callback_does_not_fail_the_acknowledged_submit(
    make_client: AppFactory, key_a: str
) -> None:
    def broken() -> None:
        raise RuntimeError("worker loop gone")

    client = make_client(key=key_a, on_submit=broken)

    submitted = await client.submit("echo", {"message": "hi"})

    assert submitted["state"] == "PENDING"
