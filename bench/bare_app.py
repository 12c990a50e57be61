"""The floor for the API benchmark: the same insert (`store.submit`) behind a bare Starlette
endpoint, served exactly as `agentfleet api` serves its app (uvicorn, same config).

Run: `python -m bench.bare_app --db PATH --port N`. POST /submit with {"agent", "input"}.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.domain import NewExecution
from common.logs import configure_logging
from common.store.base import Store
from common.store.sqlite import SqliteStore

TENANT = "default"  # what `agentfleet api` uses for keyless requests when auth is off


def create_bare_app(store: Store) -> Starlette:
    async def submit(request: Request) -> Response:
        body = await request.json()
        new = NewExecution(tenant=TENANT, agent=body["agent"], input=body["input"], max_attempts=5)
        execution, _ = await store.submit(new, datetime.now(UTC))
        return JSONResponse({"id": execution.id, "state": execution.state.value})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/submit", submit, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


async def serve(db: str, host: str, port: int) -> None:
    store = SqliteStore(db)
    await store.init()
    try:
        config = uvicorn.Config(
            create_bare_app(store), host=host, port=port, log_config=None, lifespan="off"
        )
        gc.collect()  # as `agentfleet api` does once its app is built
        gc.freeze()
        await uvicorn.Server(config).serve()
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    configure_logging("INFO")  # as `agentfleet api` does: no access log lines
    asyncio.run(serve(args.db, args.host, args.port))  # the same (asyncio) loop as the api


if __name__ == "__main__":
    main()
