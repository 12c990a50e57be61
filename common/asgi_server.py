"""Serve an ASGI app under uvicorn inside the running event loop (tests, benchmarks, fakes)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn


@asynccontextmanager
async def serve_in_loop(
    config: uvicorn.Config, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Run `config`'s app on `port` (0: a free one) until the block exits; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # start-up takes a few loop turns; no timing involved
            if task.done():
                task.result()  # re-raises why it could not start
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.005)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
