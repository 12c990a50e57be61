"""Read side: executions of the caller's tenant, registered agents, queue statistics."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.pagination import decode_cursor, encode_cursor, page_size
from api.schedules import ScheduleQueries
from api.types import (
    Agent,
    Execution,
    ExecutionConnection,
    ExecutionEdge,
    ExecutionState,
    PageInfo,
    QueueStats,
)


@strawberry.type
class Query(ScheduleQueries):
    @strawberry.field(description="One execution of yours; null if there is none with this id.")
    async def execution(self, info: Info, id: strawberry.ID) -> Execution | None:
        tenant = await info.context.tenant()
        doc = await info.context.deps.store.get(tenant, str(id))
        return Execution.from_domain(doc) if doc is not None else None

    @strawberry.field(description="Your executions, newest first, optionally filtered.")
    async def executions(
        self,
        info: Info,
        state: ExecutionState | None = None,
        agent: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ExecutionConnection:
        deps = info.context.deps
        size = page_size(first, deps.settings.max_page_size)
        after_id = decode_cursor(after) if after is not None else None
        tenant = await info.context.tenant()
        page = await deps.store.list_executions(
            tenant,
            state=state.to_domain() if state is not None else None,
            agent=agent,
            first=size,
            after=after_id,
        )
        edges = [
            ExecutionEdge(cursor=encode_cursor(doc.id), node=Execution.from_domain(doc))
            for doc in page.items
        ]
        return ExecutionConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="The agents you can submit executions to.")
    async def agents(self, info: Info) -> list[Agent]:
        await info.context.tenant()  # the catalogue is for callers with a valid key
        return [Agent.from_spec(spec) for spec in info.context.deps.registry]

    @strawberry.field(description="Your executions counted per state.")
    async def stats(self, info: Info) -> QueueStats:
        deps = info.context.deps
        tenant = await info.context.tenant()
        now = deps.clock.now()
        return QueueStats.from_domain(await deps.store.stats(tenant, now), now)
