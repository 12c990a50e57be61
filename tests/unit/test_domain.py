"""The domain values: what a submission becomes."""

from __future__ import annotations

from datetime import UTC, datetime

from common.domain import NewExecution, State, Usage

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def submission() -> NewExecution:
    return NewExecution(
        tenant="acme",
        agent="echo",
        input={"message": "hi"},
        max_attempts=3,
        priority=5,
        idempotency_key="k1",
        schedule_id="s1",
    )


def test_a_submission_becomes_a_pending_execution_due_now_with_everything_it_said():
    execution = submission().pending(NOW)

    assert (execution.tenant, execution.agent) == ("acme", "echo")
    assert execution.input == {"message": "hi"}
    assert (execution.max_attempts, execution.priority) == (3, 5)
    assert (execution.idempotency_key, execution.schedule_id) == ("k1", "s1")
    assert execution.state is State.PENDING
    assert (execution.executions, execution.failed_attempts, execution.attempts) == (0, 0, [])
    assert execution.available_at == execution.created_at == execution.updated_at == NOW
    assert execution.started_at is execution.finished_at is execution.worker_id is None
    assert execution.usage == Usage() and execution.attempt_usage is None


def test_each_execution_of_a_submission_gets_its_own_time_ordered_id():
    first, second = submission().pending(NOW), submission().pending(NOW)

    assert first.id != second.id
    assert first.id[:12] <= second.id[:12]  # the millisecond prefix sorts by creation
