"""Checkpoint retention: which executions keep their LangGraph checkpoints, and the janitor that
deletes the rest.

A worker deletes an execution's checkpoints the moment it SUCCEEDED or was CANCELLED (nobody
resumes those; a retry of a cancelled one starts over). A FAILED execution keeps them for the
retention period, so that a user's `retryExecution` (say, once a provider outage is over) resumes
at the step that failed instead of paying again for every call that had succeeded. The janitor, a
side task of every worker, sweeps what is left behind: threads of executions that ended without a
worker (cancelled while PENDING), that FAILED longer ago than the retention, or that are gone.
Sweeps are idempotent, so it does not matter how many workers run one. A retry racing a sweep
(the janitor read CANCELLED, the user retried, a worker started) can lose that attempt's first
checkpoints: the next attempt would repeat those steps, never produce a different result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from langgraph.checkpoint.base import BaseCheckpointSaver

from common.checkpoints import checkpoint_threads, delete_checkpoints
from common.clock import Clock
from common.domain import ExecutionState, State
from common.store.base import STATES_BATCH, Store

log = logging.getLogger("agentfleet.worker")

#: Seconds between two sweeps of one worker.
SWEEP_INTERVAL = 300.0
#: Final states whose checkpoints go at once; a FAILED execution keeps them for a retry.
DELETED_WHEN_FINAL = frozenset({State.SUCCEEDED, State.CANCELLED})


def deleted_when_final(state: State) -> bool:
    """Whether the worker that ends an execution in `state` deletes its checkpoints at once."""
    return state in DELETED_WHEN_FINAL


def expendable(
    thread_ids: Sequence[str],
    states: Mapping[str, ExecutionState],
    now: datetime,
    retention: timedelta,
) -> list[str]:
    """Those of `thread_ids` whose checkpoints no attempt will resume: their execution is gone
    (not in `states`), SUCCEEDED or CANCELLED, or FAILED before `now - retention`."""
    cutoff = now - retention
    return [thread for thread in thread_ids if _expendable(states.get(thread), cutoff)]


def _expendable(found: ExecutionState | None, cutoff: datetime) -> bool:
    if found is None or found.state in DELETED_WHEN_FINAL:
        return True
    if found.state is State.FAILED:
        return found.finished_at is not None and found.finished_at < cutoff
    return False  # PENDING or RUNNING: an attempt resumes from them


@dataclass(frozen=True)
class CheckpointJanitor:
    """Deletes the checkpoints that `expendable` gives up, page by page over every thread."""

    store: Store
    saver: BaseCheckpointSaver
    clock: Clock
    retention: timedelta
    page: int = STATES_BATCH

    async def sweep(self) -> int:
        """One pass over every checkpoint thread; returns how many threads it deleted."""
        deleted, after = 0, ""
        while threads := await checkpoint_threads(self.saver, after, self.page):
            states = await self.store.execution_states(threads)
            for thread in expendable(threads, states, self.clock.now(), self.retention):
                await delete_checkpoints(self.saver, thread)
                deleted += 1
            after = threads[-1]
        if deleted:
            log.info("checkpoint janitor deleted the checkpoints of %d executions", deleted)
        return deleted
