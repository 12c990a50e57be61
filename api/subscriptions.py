"""GraphQL subscriptions: one execution's updates, and a tenant's state changes."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.context import Info
from api.types import Execution, ExecutionState, ProgressEvent
from common import domain
from common.errors import NotFound


@strawberry.type(description="A progress event, or a state change, of one execution.")
class ExecutionUpdate:
    execution: Execution = strawberry.field(description="The execution as of this update.")
    event: ProgressEvent | None = strawberry.field(
        description="The new progress event; null when the update is a state change."
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Every progress event (in sequence order, after `afterSeq`) and state change of one "
            "execution; completes once it is terminal. Reconnect with the last event seq you "
            "saw to resume without gaps."
        )
    )
    async def execution_updates(
        self, info: Info, id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[ExecutionUpdate, None]:
        context = info.context
        tenant = await context.tenant()
        store, feed = context.deps.store, context.feed
        seq, last_seen = after_seq or 0, None
        while True:
            # Read the document before the events: once it is terminal, every event of every
            # attempt was appended before the final write, so this read sees them all.
            execution = await store.get(tenant, str(id))
            if execution is None:
                raise NotFound(f"no execution {id}")
            snapshot = Execution.from_domain(execution)
            for event in await store.events(tenant, execution.id, seq):
                seq = event.seq
                yield ExecutionUpdate(execution=snapshot, event=ProgressEvent.from_domain(event))
            if (execution.state, execution.executions) != last_seen:
                last_seen = (execution.state, execution.executions)
                yield ExecutionUpdate(execution=snapshot, event=None)
            if execution.state.terminal:
                return
            await feed.wait(execution.id)

    @strawberry.subscription(
        description=(
            "State changes of your executions (optionally one state or agent), newest first "
            "within each batch; watches your newest `window` executions."
        )
    )
    async def executions(
        self,
        info: Info,
        state: ExecutionState | None = None,
        agent: str | None = None,
        window: int = 100,
    ) -> AsyncGenerator[Execution, None]:
        context = info.context
        tenant = await context.tenant()
        store, feed = context.deps.store, context.feed
        wanted = domain.State(state.value) if state else None
        size = max(1, min(window, context.deps.settings.max_page_size))
        seen: dict[str, tuple[domain.State, int]] = {}
        while True:
            page = await store.list_executions(tenant, agent=agent, first=size)
            for execution in page.items:
                version = (execution.state, execution.executions)
                if seen.get(execution.id) != version:
                    seen[execution.id] = version
                    if wanted is None or execution.state is wanted:
                        yield Execution.from_domain(execution)
            await feed.wait(None)
