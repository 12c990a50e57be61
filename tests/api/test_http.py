"""The HTTP surface: probes, body size, query limits, error codes on every error."""

from __future__ import annotations

import pytest

from common.errors import StoreUnavailable
from common.store.base import Store
from tests.api.conftest import AppFactory
from tests.api.graphql import GraphQLClient, only_error

DEEP_QUERY = "query { executions { edges { node { attempts { error { type } } } } } }"


async def test_healthz_answers_while_the_process_is_up(
    make_client: AppFactory, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down() -> None:
        raise StoreUnavailable("down")

    monkeypatch.setattr(store, "ping", down)

    response = await make_client().http.get("/healthz")

    assert response.status_code == 200


async def test_readyz_is_200_when_the_store_answers(make_client: AppFactory) -> None:
    response = await make_client().http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_when_the_store_does_not_answer(
    make_client: AppFactory, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down() -> None:
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(store, "ping", down)

    response = await make_client().http.get("/readyz")

    assert response.status_code == 503
    assert "connection refused" not in response.text


async def test_graphiql_is_served_at_the_graphql_path(make_client: AppFactory) -> None:
    response = await make_client().http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_a_body_larger_than_the_limit_is_413_with_a_json_error(
    make_client: AppFactory, key_a: str
) -> None:
    client = make_client(key=key_a, max_body_bytes=1024)

    response = await client.post(
        'mutation($m: String!) { submitExecution(agent: "echo", input: {message: $m}) { id } }',
        {"m": "x" * 2000},
    )

    assert response.status_code == 413
    assert only_error(response.json())["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(
    make_client: AppFactory,
) -> None:
    client = make_client(max_body_bytes=1024)

    async def chunks():
        for _ in range(10):
            yield b" " * 500

    response = await client.http.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413


async def test_a_query_deeper_than_the_limit_is_rejected_before_it_runs(
    make_client: AppFactory, key_a: str
) -> None:
    client = make_client(key=key_a, max_query_depth=3)

    body = await client.execute(DEEP_QUERY)

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in error["message"]
    assert body["data"] is None


async def test_a_query_within_the_depth_limit_runs(client_a: GraphQLClient) -> None:
    body = await client_a.execute(DEEP_QUERY)

    assert body == {"data": {"executions": {"edges": []}}}


async def test_too_many_aliases_are_rejected(make_client: AppFactory, key_a: str) -> None:
    client = make_client(key=key_a, max_aliases=2)

    body = await client.execute(
        "query { a: stats { total } b: stats { total } c: stats { total } }"
    )

    assert only_error(body)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_too_many_tokens_are_rejected(make_client: AppFactory, key_a: str) -> None:
    client = make_client(key=key_a, max_query_tokens=50)

    body = await client.execute("query { " + "stats { total } " * 20 + "}")

    assert only_error(body)["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "query",
    [
        "query { nope }",  # validation
        "query { stats { total }",  # syntax
        'query { execution(id: "x") { id } }  query Other { stats { total } }',  # ambiguous
    ],
)
async def test_malformed_requests_carry_a_bad_user_input_code(
    client_a: GraphQLClient, query: str
) -> None:
    response = await client_a.post(query)

    errors = response.json()["errors"]
    assert errors and all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors)
