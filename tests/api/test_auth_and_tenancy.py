"""Bearer keys name tenants; another tenant's executions do not exist for you."""

from __future__ import annotations

import pytest

from common.keys import KEY_PREFIX, generate_key, hash_key
from common.store.base import Store
from tests.api.conftest import AppFactory
from tests.api.graphql import CANCEL, GET, LIST, RETRY, STATS, GraphQLClient, only_error

WHO_AM_I = "query { stats { total } }"


async def test_a_request_without_a_key_is_unauthenticated(make_client: AppFactory) -> None:
    body = await make_client().execute(WHO_AM_I)

    error = only_error(body)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in error["message"]


async def test_a_request_with_an_unknown_key_is_unauthenticated(make_client: AppFactory) -> None:
    body = await make_client(key=generate_key()).execute(WHO_AM_I)

    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "af_only_the_key"])
async def test_a_malformed_authorization_header_is_unauthenticated(
    make_client: AppFactory, header: str
) -> None:
    client = make_client()

    response = await client.http.post(
        "/graphql", json={"query": WHO_AM_I}, headers={"Authorization": header}
    )

    assert only_error(response.json())["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_mutation_without_a_key_writes_nothing(
    make_client: AppFactory, client_a: GraphQLClient
) -> None:
    body = await make_client().execute(
        'mutation { submitExecution(agent: "echo", input: {message: "x"}) { id } }'
    )

    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await client_a.data(STATS))["stats"]["total"] == 0


async def test_keys_are_stored_only_as_their_hash(store: Store, key_a: str) -> None:
    assert key_a.startswith(KEY_PREFIX)
    assert await store.tenant_for_key(hash_key(key_a)) == "tenant-a"
    assert await store.tenant_for_key(key_a) is None


async def test_another_tenants_execution_reads_as_null(
    client_a: GraphQLClient, client_b: GraphQLClient
) -> None:
    execution = await client_a.submit()

    body = await client_b.execute(GET, {"id": execution["id"]})

    assert body == {"data": {"execution": None}}


async def test_another_tenants_execution_cannot_be_cancelled_it_is_not_found(
    client_a: GraphQLClient, client_b: GraphQLClient
) -> None:
    execution = await client_a.submit()

    body = await client_b.execute(CANCEL, {"id": execution["id"]})

    assert only_error(body)["extensions"]["code"] == "NOT_FOUND"
    still = (await client_a.data(GET, {"id": execution["id"]}))["execution"]
    assert still["state"] == "PENDING" and still["cancelRequested"] is False


async def test_another_tenants_execution_cannot_be_retried_it_is_not_found(
    client_a: GraphQLClient, client_b: GraphQLClient
) -> None:
    execution = await client_a.submit()
    await client_a.data(CANCEL, {"id": execution["id"]})

    body = await client_b.execute(RETRY, {"id": execution["id"]})

    assert only_error(body)["extensions"]["code"] == "NOT_FOUND"
    still = (await client_a.data(GET, {"id": execution["id"]}))["execution"]
    assert still["state"] == "CANCELLED"


async def test_another_tenant_lists_and_counts_none_of_your_executions(
    client_a: GraphQLClient, client_b: GraphQLClient
) -> None:
    await client_a.submit()
    await client_a.submit()

    listed = (await client_b.data(LIST))["executions"]
    stats = (await client_b.data(STATS))["stats"]

    assert listed == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    assert stats["total"] == 0


async def test_the_same_idempotency_key_in_two_tenants_makes_two_executions(
    client_a: GraphQLClient, client_b: GraphQLClient
) -> None:
    mine = await client_a.submit(key="shared-key")
    theirs = await client_b.submit(key="shared-key")

    assert mine["id"] != theirs["id"]


async def test_with_auth_off_a_keyless_request_is_the_default_tenant(
    make_client: AppFactory,
) -> None:
    dev = make_client(auth=False)

    execution = await dev.submit()

    assert (await dev.data(GET, {"id": execution["id"]}))["execution"]["id"] == execution["id"]


async def test_with_auth_off_a_valid_key_still_selects_its_tenant(
    make_client: AppFactory, key_a: str
) -> None:
    anonymous = make_client(auth=False)
    tenant_a = make_client(auth=False, key=key_a)
    execution = await tenant_a.submit()

    assert (await anonymous.data(GET, {"id": execution["id"]}))["execution"] is None
    assert (await tenant_a.data(GET, {"id": execution["id"]}))["execution"] is not None


async def test_with_auth_off_an_invalid_key_is_still_rejected(make_client: AppFactory) -> None:
    body = await make_client(auth=False, key="af_wrong").execute(WHO_AM_I)

    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"
