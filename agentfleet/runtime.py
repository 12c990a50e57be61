"""Process assembly: the API process, the worker process, and `dev` (both in one process)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import start_http_server

from api.app import create_app
from api.live import ChangeFeed, open_change_feed
from common.agents.registry import AgentRegistry, default_registry
from common.agents.resources import open_resources
from common.flow import FlowController
from common.metrics import Metrics
from common.settings import Settings
from common.store import Store, open_store
from worker.loop import Worker

log = logging.getLogger("agentfleet")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the process decides how to shut down."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        yield


def _on_signals(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


def describe_store(settings: Settings) -> str:
    if settings.mongodb_url:
        return f"MongoDB database {settings.mongodb_db!r}"
    if settings.sqlite_path == ":memory:":
        return "SQLite in memory (NOT durable: everything is lost when this process ends)"
    return f"SQLite file {settings.sqlite_path}"


@contextlib.asynccontextmanager
async def opened_feed(settings: Settings, store: Store) -> AsyncIterator[ChangeFeed]:
    feed = await open_change_feed(store, settings.subscription_poll_interval)
    try:
        yield feed
    finally:
        await feed.close()


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.close()


def _freeze_startup_objects() -> None:
    """Move everything built so far (modules, the GraphQL schema, the app) out of the garbage
    collector's reach: it lives as long as the process, and full collections that walk it
    stalled requests under load (GraphQL submit p99 ~75 ms → ~45 ms at 32 connections)."""
    gc.collect()
    gc.freeze()


async def run_api(settings: Settings, host: str, port: int) -> None:
    async with opened_store(settings) as store, opened_feed(settings, store) as feed:
        registry = default_registry(settings.agents)
        app = create_app(settings, store, registry, feed=feed, metrics=Metrics())
        _freeze_startup_objects()
        log.info("api on http://%s:%d/graphql, store: %s", host, port, describe_store(settings))
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off")
        )
        await server.serve()


def make_workers(
    n: int,
    store: Store,
    registry: AgentRegistry,
    settings: Settings,
    resources: dict,
    metrics: Metrics,
) -> list[Worker]:
    return [
        Worker(
            store,
            registry,
            settings,
            resources=resources | {"metrics": metrics},  # agents report LLM latency there
            on_terminal=resources.get("on_terminal"),
            metrics=metrics,
        )
        for _ in range(n)
    ]


def worker_counters(
    worker: Worker, store: Store, flow: FlowController | None = None
) -> dict[str, Any]:
    """What a worker process did, for benchmarks: claims and the store calls they cost, and
    what its provider flow control did (its store round trips are in `round_trips` too)."""
    counters: dict[str, Any] = {
        "worker_id": worker.worker_id,
        "claimed": worker.claimed,
        "round_trips": store.round_trips,
        "claim_conflicts": store.claim_conflicts,
    }
    if flow is not None:
        counters["flow"] = flow.counters.to_dict()
    return counters


async def run_worker(settings: Settings, *, stats_file: str | None = None) -> None:
    """One worker process until SIGINT/SIGTERM; its counters are logged (and written to
    `stats_file` as JSON when given) once it has stopped."""
    async with opened_store(settings) as store, open_resources(settings, store) as resources:
        registry = default_registry(settings.agents)
        metrics = Metrics()
        if settings.metrics_port is not None:
            # the worker's own counters; fleet-wide gauges are the API's /metrics
            start_http_server(settings.metrics_port, registry=metrics.registry)
            log.info("metrics on :%d/metrics", settings.metrics_port)
        (worker,) = make_workers(1, store, registry, settings, resources, metrics)
        _on_signals(worker.stop)
        log.info("store: %s", describe_store(settings))
        await worker.run()
        counters = worker_counters(worker, store, resources.get("flow"))
        log.info("worker counters: %s", json.dumps(counters))
        if stats_file:
            await asyncio.to_thread(Path(stats_file).write_text, json.dumps(counters) + "\n")


async def run_dev(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """API and `workers` worker loops in one process; a submit wakes the loops at once.

    Runs until SIGINT/SIGTERM (or `stop` is set); `ready` is set once the API listens.
    """
    async with (
        opened_store(settings) as store,
        open_resources(settings, store) as resources,
        opened_feed(settings, store) as feed,
    ):
        registry = default_registry(settings.agents)
        metrics = Metrics()  # one registry: /metrics shows the API's and the loops' counters
        fleet = make_workers(workers, store, registry, settings, resources, metrics)

        def wake_all() -> None:
            for w in fleet:
                w.wake()

        app = create_app(settings, store, registry, on_submit=wake_all, feed=feed, metrics=metrics)
        server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off"))
        stopping = stop or asyncio.Event()
        _on_signals(stopping.set)
        serving = asyncio.create_task(server.serve())
        loops = [asyncio.create_task(w.run()) for w in fleet]
        # uvicorn offers a flag, not an event, for "listening"
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if serving.done():
            await serving  # the port was taken or similar: surface the error
            raise SystemExit(1)
        log.info(
            "dev: api on http://%s:%d/graphql, %d worker loops, store: %s, auth %s",
            host,
            port,
            workers,
            describe_store(settings),
            "on" if settings.auth else "OFF (every request is tenant 'default')",
        )
        if ready is not None:
            ready.set()
        await stopping.wait()
        log.info("shutting down: workers finish or release their executions")
        for w in fleet:
            w.stop()
        await asyncio.gather(*loops)
        server.should_exit = True
        await serving
