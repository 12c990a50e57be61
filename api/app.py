"""The API process: GraphQL (with GraphiQL) at /graphql, liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.context import ApiContext, ApiDeps
from api.errors import client_errors
from api.live import ChangeFeed, PollingFeed
from api.middleware import BodySizeLimit
from api.schema import build_schema
from common.agents.registry import AgentRegistry
from common.clock import Clock, SystemClock
from common.errors import StoreUnavailable
from common.metrics import Metrics
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

    async def on_ws_connect(self, context: ApiContext) -> None:  # type: ignore[override]
        """Check the API key of a subscription connection on `connection_init`.

        Browsers cannot set headers on a WebSocket, so the key travels in the payload
        (`{"Authorization": "Bearer …"}`); a bad key closes the socket (4403).
        """
        params = context.connection_params or {}
        key = params.get("Authorization") or params.get("authorization")
        if isinstance(key, str):
            context.authorization = key
        try:
            await context.tenant()
        except Exception as exc:
            logger.info("subscription connection rejected: %s", exc)
            raise ConnectionRejectionError() from None
        return None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Second line of defence: errors that escaped the schema's ErrorCodes extension (an
        # exception outside any resolver) are coded and masked here before they are sent.
        result.errors = client_errors(result.errors)
        return await super().process_result(request, result)


STATIC_DIR = Path(__file__).parent / "static"


async def insights_page(request: Request) -> Response:
    """The insights page: plain HTML and JavaScript, no build step."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


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


def _metrics_endpoint(deps: ApiDeps, metrics: Metrics) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await metrics.render(deps.store, deps.clock.now())
        except StoreUnavailable:
            return PlainTextResponse("store unavailable\n", status_code=503)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return endpoint


def create_app(
    settings: Settings,
    store: Store,
    registry: AgentRegistry,
    *,
    clock: Clock | None = None,
    on_submit: Callable[[], None] | None = None,
    feed: ChangeFeed | None = None,
    metrics: Metrics | None = None,
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
        feed=feed or PollingFeed(settings.subscription_poll_interval),
        on_submit=on_submit,
    )
    graphql = GraphQLEndpoint(deps)
    return Starlette(
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", _readyz(store), methods=["GET"]),
            Route("/metrics", _metrics_endpoint(deps, metrics or Metrics()), methods=["GET"]),
            Route("/", insights_page, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
    )
