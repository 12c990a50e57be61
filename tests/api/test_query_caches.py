"""The parse and validation caches change nothing a client sees, only how often work is done."""

from __future__ import annotations

from tests.api.conftest import AppFactory
from tests.api.graphql import GraphQLClient, only_error

DEEP_QUERY = "query { executions { edges { node { attempts { error { type } } } } } }"


async def test_a_query_over_a_limit_is_rejected_every_time_it_is_sent(
    make_client: AppFactory, key_a: str
) -> None:
    client = make_client(key=key_a, max_query_depth=3)

    first = await client.execute(DEEP_QUERY)
    second = await client.execute(DEEP_QUERY)

    assert first == second
    assert only_error(second)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_same_query_text_is_checked_against_each_apps_own_limits(
    make_client: AppFactory, key_a: str
) -> None:
    strict = make_client(key=key_a, max_query_depth=3)
    default = make_client(key=key_a)

    assert (await default.execute(DEEP_QUERY)) == {"data": {"executions": {"edges": []}}}
    assert only_error(await strict.execute(DEEP_QUERY))["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_repeated_submit_text_uses_each_requests_own_variables(
    client_a: GraphQLClient,
) -> None:
    first = await client_a.submit(input={"message": "one"})
    second = await client_a.submit(input={"message": "two"})

    assert first["input"]["message"] == "one"
    assert second["input"]["message"] == "two"
    assert first["id"] != second["id"]
