"""The API process: GraphQL (with GraphiQL) at /graphql, liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.context import ApiContext, ApiDeps
from api.errors import client_errors
from api.middleware import BodySizeLimit
from api.schema import build_schema
from common.agents.registry import AgentRegistry
from common.clock import Clock, SystemClock
from common.settings import Settings
from common.store.base import Store

logger = logging.getLogger("agentfleet.api")

#: A readiness probe must answer even when the store hangs rather than refuses.
READY_TIMEOUT_SECONDS = 5.0


class GraphQLEndpoint(GraphQL[ApiContext, None]):
    def __init__(self, deps: ApiDeps) -> None:
        super().__init__(build_schema(deps.settings), graphql_ide="graphiql")
        self.deps = deps

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ApiContext:
        return ApiContext(self.deps, request.headers.get("authorization"))

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Second line of defence: errors that escaped the schema's ErrorCodes extension (an
        # exception outside any resolver) are coded and masked here before they are sent.
        result.errors = client_errors(result.errors)
        return await super().process_result(request, result)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _readyz(store: Store) -> Callable[[Request], object]:
    async def readyz(request: Request) -> Response:
        try:
            await asyncio.wait_for(store.ping(), READY_TIMEOUT_SECONDS)
        except Exception as exc:  # any failure means "do not route traffic here"
            logger.warning("readiness check failed: %s: %s", type(exc).__name__, exc)
            return JSONResponse({"status": "unavailable", "store": "unreachable"}, 503)
        return JSONResponse({"status": "ready"})

    return readyz


def create_app(
    settings: Settings,
    store: Store,
    registry: AgentRegistry,
    *,
    clock: Clock | None = None,
    on_submit: Callable[[], None] | None = None,
) -> Starlette:
    """The ASGI app of the API. `store` must be initialised; the caller owns and closes it.

    `on_submit` is called (synchronously, errors logged and ignored) after a submit or retry
    made an execution claimable, so in-process worker loops (`agentfleet dev`) start at once.
    """
    deps = ApiDeps(
        settings=settings,
        store=store,
        registry=registry,
        clock=clock or SystemClock(),
        on_submit=on_submit,
    )
    return Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(deps)),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", _readyz(store), methods=["GET"]),
        ],
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
    )
