"""Write side. Each mutation answers only after the store acknowledged its write."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

from api.context import Info
from api.research import ResearchInput
from api.schedules import ScheduleMutations
from api.types import Execution
from api.validation import FieldName, validate_submission
from common.agents.research.spec import REDDIT_RESEARCH


async def _submit(
    info: Info,
    agent: str,
    raw_input: object,
    *,
    idempotency_key: str | None,
    priority: int | None = None,
    max_attempts: int | None = None,
    field_name: FieldName | None = None,
) -> Execution:
    """Validate completely, then write; answer only once the store acknowledged the write."""
    deps = info.context.deps
    tenant = await info.context.tenant()
    new = validate_submission(
        settings=deps.settings,
        registry=deps.registry,
        tenant=tenant,
        agent=agent,
        raw_input=raw_input,
        idempotency_key=idempotency_key,
        priority=priority,
        max_attempts=max_attempts,
        field_name=field_name,
    )
    doc, created = await deps.store.submit(new, deps.clock.now())
    if created:
        info.context.work_available()
    return Execution.from_domain(doc)


@strawberry.type
class Mutation(ScheduleMutations):
    @strawberry.mutation(
        description=(
            "Validate and durably enqueue an execution. With an idempotencyKey you already "
            "used, returns that execution instead of creating another."
        )
    )
    async def submit_execution(
        self,
        info: Info,
        agent: str,
        input_: Annotated[JSON, strawberry.argument(name="input")],
        idempotency_key: str | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
    ) -> Execution:
        return await _submit(
            info,
            agent,
            input_,
            idempotency_key=idempotency_key,
            priority=priority,
            max_attempts=max_attempts,
        )

    @strawberry.mutation(
        description=(
            "Submit a reddit_research execution with typed input; validated and stored exactly "
            'like submitExecution(agent: "reddit_research"). Read its findings from '
            "Execution.report once it SUCCEEDED."
        )
    )
    async def submit_research(
        self,
        info: Info,
        input_: Annotated[ResearchInput, strawberry.argument(name="input")],
        idempotency_key: str | None = None,
    ) -> Execution:
        return await _submit(
            info,
            REDDIT_RESEARCH.name,
            input_.to_raw(),
            idempotency_key=idempotency_key,
            field_name=to_camel_case,
        )

    @strawberry.mutation(
        description=(
            "Cancel an execution: a PENDING one at once, a RUNNING one when its worker next "
            "checks in (cancelRequested). Finished executions cannot be cancelled (CONFLICT)."
        )
    )
    async def cancel_execution(self, info: Info, id: strawberry.ID) -> Execution:
        deps = info.context.deps
        tenant = await info.context.tenant()
        doc = await deps.store.request_cancel(tenant, str(id), deps.clock.now())
        return Execution.from_domain(doc)

    @strawberry.mutation(
        description=(
            "Run a FAILED or CANCELLED execution again, now, with a fresh attempt budget; "
            "its attempt history is kept. Other states: CONFLICT."
        )
    )
    async def retry_execution(self, info: Info, id: strawberry.ID) -> Execution:
        deps = info.context.deps
        tenant = await info.context.tenant()
        doc = await deps.store.retry(tenant, str(id), deps.clock.now())
        info.context.work_available()
        return Execution.from_domain(doc)
