"""cancelExecution, retryExecution and progress events, with the store driving the worker side."""

from __future__ import annotations

from common.clock import ManualClock
from common.domain import Attempt, ErrorInfo, Execution, Outcome, State
from common.store.base import Store
from tests.api.graphql import CANCEL, GET, RETRY, GraphQLClient, only_error

LEASE_SECONDS = 60.0


async def claim(store: Store, clock: ManualClock) -> Execution:
    claimed = await store.claim_next("worker-1", clock.now(), LEASE_SECONDS, 1)
    assert len(claimed) == 1
    return claimed[0]


async def finish(store: Store, clock: ManualClock, state: State) -> Execution:
    """Claim the one due execution and finish it in `state`, as a worker would."""
    running = await claim(store, clock)
    failed = state is State.FAILED
    error = ErrorInfo(type="AuthenticationFailed", message="401") if failed else None
    attempt = Attempt(
        number=running.executions,
        worker_id="worker-1",
        started_at=clock.now(),
        ended_at=clock.now(),
        outcome=Outcome.FAILED if failed else Outcome.SUCCEEDED,
        error=error,
    )
    result = None if failed else {"message": "hi"}
    assert await store.finish(
        running.claim(), clock.now(), state, attempt, result=result, error=error
    )
    return running


async def test_cancelling_a_pending_execution_cancels_it_at_once(client_a: GraphQLClient) -> None:
    execution = await client_a.submit()

    cancelled = (await client_a.data(CANCEL, {"id": execution["id"]}))["cancelExecution"]

    assert cancelled["state"] == "CANCELLED"
    assert (await client_a.data(GET, {"id": execution["id"]}))["execution"]["state"] == "CANCELLED"


async def test_cancelling_a_running_execution_requests_its_worker_to_stop(
    client_a: GraphQLClient, store: Store, clock: ManualClock
) -> None:
    execution = await client_a.submit()
    await claim(store, clock)

    cancelled = (await client_a.data(CANCEL, {"id": execution["id"]}))["cancelExecution"]

    assert cancelled["state"] == "RUNNING"
    assert cancelled["cancelRequested"] is True


async def test_cancelling_a_succeeded_execution_is_a_conflict(
    client_a: GraphQLClient, store: Store, clock: ManualClock
) -> None:
    execution = await client_a.submit()
    await finish(store, clock, State.SUCCEEDED)

    body = await client_a.execute(CANCEL, {"id": execution["id"]})

    assert only_error(body)["extensions"]["code"] == "CONFLICT"
    assert (await client_a.data(GET, {"id": execution["id"]}))["execution"]["state"] == "SUCCEEDED"


async def test_cancelling_an_unknown_id_is_not_found(client_a: GraphQLClient) -> None:
    body = await client_a.execute(CANCEL, {"id": "does-not-exist"})

    assert only_error(body)["extensions"]["code"] == "NOT_FOUND"


async def test_retrying_a_failed_execution_makes_it_pending_with_its_history_kept(
    client_a: GraphQLClient, store: Store, clock: ManualClock
) -> None:
    execution = await client_a.submit()
    await finish(store, clock, State.FAILED)
    clock.advance(5)

    retried = (await client_a.data(RETRY, {"id": execution["id"]}))["retryExecution"]

    assert retried["state"] == "PENDING"
    assert retried["failedAttempts"] == 0
    fetched = (await client_a.data(GET, {"id": execution["id"]}))["execution"]
    assert [a["outcome"] for a in fetched["attempts"]] == ["FAILED"]
    assert fetched["attempts"][0]["error"]["type"] == "AuthenticationFailed"


async def test_retrying_a_pending_execution_is_a_conflict(client_a: GraphQLClient) -> None:
    execution = await client_a.submit()

    body = await client_a.execute(RETRY, {"id": execution["id"]})

    assert only_error(body)["extensions"]["code"] == "CONFLICT"


async def test_a_succeeded_execution_shows_its_result_and_attempt(
    client_a: GraphQLClient, store: Store, clock: ManualClock
) -> None:
    execution = await client_a.submit()
    await finish(store, clock, State.SUCCEEDED)

    fetched = (await client_a.data(GET, {"id": execution["id"]}))["execution"]

    assert fetched["state"] == "SUCCEEDED"
    assert fetched["result"] == {"message": "hi"}
    assert fetched["attempt"] == 1
    assert fetched["attempts"][0]["outcome"] == "SUCCEEDED"
    assert fetched["attempts"][0]["workerId"] == "worker-1"
    assert fetched["startedAt"] is not None and fetched["finishedAt"] is not None


async def test_progress_events_are_listed_after_a_sequence_number(
    client_a: GraphQLClient, store: Store, clock: ManualClock
) -> None:
    execution = await client_a.submit()
    running = await claim(store, clock)
    for step in ("thinking", "searching", "writing"):
        await store.append_event(running.claim(), "state", step, clock.now())
    query = "query($id: ID!) { execution(id: $id) { events(after: 1) { seq kind summary } } }"

    events = (await client_a.data(query, {"id": execution["id"]}))["execution"]["events"]

    assert [(e["seq"], e["summary"]) for e in events] == [(2, "searching"), (3, "writing")]
