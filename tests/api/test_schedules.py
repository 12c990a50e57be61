"""Schedules through GraphQL: validated creation, tenant scoping, pause, resume, delete."""

from __future__ import annotations

from tests.api.graphql import GraphQLClient, only_error

FIELDS = "id agent cron timezone overlap paused nextFireAt lastExecutionId maxAttempts"
CREATE = f"""mutation($agent: String!, $input: JSON!, $cron: String!, $tz: String!) {{
  createSchedule(agent: $agent, input: $input, cron: $cron, timezone: $tz) {{ {FIELDS} }} }}"""
LIST = f"query {{ schedules {{ {FIELDS} }} }}"
PAUSE = f"mutation($id: ID!) {{ pauseSchedule(id: $id) {{ {FIELDS} }} }}"
RESUME = f"mutation($id: ID!) {{ resumeSchedule(id: $id) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteSchedule(id: $id) }"


def variables(**overrides):
    base = {"agent": "echo", "input": {"message": "daily"}, "cron": "0 9 * * *", "tz": "UTC"}
    return base | overrides


async def test_a_created_schedule_is_listed_with_its_next_tick(client_a: GraphQLClient):
    created = (await client_a.data(CREATE, variables(tz="Europe/Berlin")))["createSchedule"]
    assert created["overlap"] == "SKIP" and created["paused"] is False
    # the fixture clock stands at 2026-01-01T00:00Z: 09:00 in Berlin is 08:00 UTC in winter
    assert created["nextFireAt"].startswith("2026-01-01T08:00:00")
    listed = (await client_a.data(LIST))["schedules"]
    assert [s["id"] for s in listed] == [created["id"]]


async def test_invalid_cron_timezone_or_input_is_rejected_and_nothing_is_stored(
    client_a: GraphQLClient,
):
    for bad, field in (
        (variables(cron="every day"), "cron"),
        (variables(tz="Mars/Base"), "timezone"),
        (variables(input={"message": 7}), "input.message"),
        (variables(agent="nope"), "agent"),
    ):
        error = only_error(await client_a.execute(CREATE, bad))
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert field in error["extensions"]["fields"][0]
    assert (await client_a.data(LIST))["schedules"] == []


async def test_pause_resume_and_delete(client_a: GraphQLClient):
    created = (await client_a.data(CREATE, variables()))["createSchedule"]
    paused = (await client_a.data(PAUSE, {"id": created["id"]}))["pauseSchedule"]
    assert paused["paused"] is True
    resumed = (await client_a.data(RESUME, {"id": created["id"]}))["resumeSchedule"]
    assert resumed["paused"] is False and resumed["nextFireAt"] == created["nextFireAt"]
    assert (await client_a.data(DELETE, {"id": created["id"]}))["deleteSchedule"] is True
    assert (await client_a.data(LIST))["schedules"] == []


async def test_another_tenants_schedule_does_not_exist_for_you(
    client_a: GraphQLClient, client_b: GraphQLClient
):
    created = (await client_a.data(CREATE, variables()))["createSchedule"]
    assert (await client_b.data(LIST))["schedules"] == []
    for mutation in (PAUSE, RESUME, DELETE):
        error = only_error(await client_b.execute(mutation, {"id": created["id"]}))
        assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await client_a.data(LIST))["schedules"][0]["paused"] is False
