"""executions (cursor pages, newest first), agents and stats."""

from __future__ import annotations

from common.clock import ManualClock
from tests.api.conftest import AppFactory
from tests.api.graphql import CANCEL, LIST, STATS, GraphQLClient, only_error


async def submit_many(client: GraphQLClient, count: int) -> list[str]:
    return [(await client.submit("echo", {"message": str(i)}))["id"] for i in range(count)]


async def test_executions_are_paged_newest_first_with_cursors(client_a: GraphQLClient) -> None:
    ids = await submit_many(client_a, 5)
    seen: list[str] = []
    pages: list[bool] = []
    after = None

    while True:
        page = (await client_a.data(LIST, {"first": 2, "after": after}))["executions"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages.append(page["pageInfo"]["hasNextPage"])
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # Ids are time-ordered (common.domain.new_id): descending id is newest first.
    assert seen == sorted(ids, reverse=True)
    assert pages == [True, True, False]


async def test_executions_can_be_filtered_by_state_and_agent(client_a: GraphQLClient) -> None:
    echo_id = (await client_a.submit("echo", {"message": "a"}))["id"]
    flaky_id = (await client_a.submit("flaky", {"fail_times": 0}))["id"]
    await client_a.data(CANCEL, {"id": echo_id})

    by_state = (await client_a.data(LIST, {"state": "CANCELLED"}))["executions"]["edges"]
    by_agent = (await client_a.data(LIST, {"agent": "flaky"}))["executions"]["edges"]

    assert [e["node"]["id"] for e in by_state] == [echo_id]
    assert [e["node"]["id"] for e in by_agent] == [flaky_id]


async def test_a_page_is_capped_at_the_maximum_page_size(
    make_client: AppFactory, key_a: str
) -> None:
    client = make_client(key=key_a, max_page_size=3)
    await submit_many(client, 4)

    page = (await client.data(LIST, {"first": 1000}))["executions"]

    assert len(page["edges"]) == 3
    assert page["pageInfo"]["hasNextPage"] is True


async def test_a_page_size_below_one_is_bad_user_input(client_a: GraphQLClient) -> None:
    body = await client_a.execute(LIST, {"first": 0})

    assert only_error(body)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cursor_that_was_not_issued_by_the_api_is_bad_user_input(
    client_a: GraphQLClient,
) -> None:
    body = await client_a.execute(LIST, {"after": "not-a-cursor"})

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cursor" in error["message"]


async def test_agents_lists_echo_and_flaky_with_their_input_schemas(
    client_a: GraphQLClient,
) -> None:
    query = "query { agents { name description inputSchema } }"

    agents = {a["name"]: a for a in (await client_a.data(query))["agents"]}

    assert {"echo", "flaky"} <= set(agents)
    assert agents["echo"]["inputSchema"]["required"] == ["message"]
    flaky = agents["flaky"]["inputSchema"]["properties"]
    assert flaky["fail_times"]["type"] == "integer"
    assert set(flaky["error"]["enum"]) == {"rate_limit", "server", "timeout", "auth"}
    assert agents["flaky"]["description"]


async def test_stats_count_executions_per_state_and_the_oldest_due_wait(
    client_a: GraphQLClient, clock: ManualClock
) -> None:
    ids = await submit_many(client_a, 3)
    await client_a.data(CANCEL, {"id": ids[-1]})
    clock.advance(30)

    stats = (await client_a.data(STATS))["stats"]

    assert stats == {
        "pending": 2,
        "running": 0,
        "succeeded": 0,
        "failed": 0,
        "cancelled": 1,
        "total": 3,
        "oldestDuePendingAgeSeconds": 30.0,
    }


async def test_stats_of_an_empty_queue_have_no_oldest_wait(client_a: GraphQLClient) -> None:
    stats = (await client_a.data(STATS))["stats"]

    assert stats["total"] == 0
    assert stats["oldestDuePendingAgeSeconds"] is None
